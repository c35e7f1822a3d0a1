"""The script engine every workflow runs with.

It evaluates every script, condition and DMN cell in the sandbox, and carries
the clock and the business calendars, which bankflow's timer definitions read
through `task.workflow.script_engine`.
"""
from __future__ import annotations

from engine.clock import Clock
from engine.runtime.sandbox import SandboxedEnvironment, SandboxedScriptEngine, ScriptLimits
from engine.sla.calendar_cache import CalendarCache


class BankflowScriptEngine(SandboxedScriptEngine):
    def __init__(self, limits: ScriptLimits, clock: Clock, calendars: CalendarCache):
        super().__init__(SandboxedEnvironment(limits))
        self.clock = clock
        self.calendars = calendars
