"""What every service call needs, built once per process and passed explicitly."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from engine.clock import Clock, SystemClock
from engine.connectors import ConnectorRegistry, default_registry
from engine.services.mailer import SmtpMailer, mailer_from_env
from engine.runtime.budget import Budget
from engine.runtime.sandbox import ScriptLimits
from engine.runtime.script_engine import BankflowScriptEngine
from engine.runtime.serializer import StateSerializer
from engine.runtime.specs import DefinitionCache
from engine.sla.set_targets import SetTargetCache
from engine.sla.calendar_cache import CalendarCache
from engine.store.database import Database


@dataclass
class EngineContext:
    """The database, clock, definition cache, script engine and connectors shared by service calls.

    Holds no per-request state: any number of web processes and workers can each
    build one over the same database.
    """

    database: Database
    clock: Clock = field(default_factory=SystemClock)
    definitions: DefinitionCache = field(default_factory=DefinitionCache)
    calendars: CalendarCache = field(default_factory=CalendarCache)
    set_targets: SetTargetCache = field(default_factory=SetTargetCache)
    serializer: StateSerializer = field(default_factory=StateSerializer)
    limits: ScriptLimits = field(default_factory=ScriptLimits)
    budget: Budget = field(default_factory=Budget)  # what one service call may make the engine do
    # The connectors this engine's workers run; deploy refuses a Java delegate none of them answers.
    connectors: ConnectorRegistry = field(default_factory=default_registry)
    script_engine: Any = None
    mailer: SmtpMailer | None = None  # set when SMTP is configured
    # werkzeug's method string; tests use a cheap one, production keeps scrypt.
    password_method: str = "scrypt"

    def __post_init__(self) -> None:
        if self.script_engine is None:
            self.script_engine = BankflowScriptEngine(self.limits, self.clock, self.calendars, self.budget)

    @classmethod
    def from_url(cls, url: str, clock: Clock | None = None, create: bool = True) -> "EngineContext":
        """A context for `url`; script limits come from BANKFLOW_SCRIPT_CPU_SECONDS and
        BANKFLOW_SCRIPT_MEMORY_MB (defaults: 2 s and 256 MB per evaluation), the budget of a
        service call from BANKFLOW_MAX_STEPS, BANKFLOW_MAX_CALL_SECONDS and BANKFLOW_MAX_INSTANCES
        (see `engine.runtime.budget`). Unless `create`, a SQLite file that does not exist is an
        error (DatabaseProblem)."""
        limits = ScriptLimits(cpu_seconds=float(os.environ.get("BANKFLOW_SCRIPT_CPU_SECONDS", 2.0)),
                              memory_mb=int(os.environ.get("BANKFLOW_SCRIPT_MEMORY_MB", 256)))
        return cls(database=Database.open(url, create=create), clock=clock or SystemClock(), limits=limits,
                   budget=Budget.from_env(), mailer=mailer_from_env())

    def close(self) -> None:
        self.database.dispose()
