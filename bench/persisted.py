"""The workloads through bankflow's service layer: every service call is its own transaction.

Each backend gets a database of its own: a fresh SQLite file in a temporary
folder, or a PostgreSQL database created for the run and dropped afterwards (only
that database is ever touched on the server).
"""
from __future__ import annotations

import secrets
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url, text

from bench.measure import CallLatencies, Throughput, run_timed, say
from bench.workload import (HUMAN_FILE, HUMAN_KEY, PEOPLE, STARTER, STRAIGHT_FILE, STRAIGHT_KEY, BenchFailure,
                            HumanCase)
from engine.records.instances import CaseSummary
from engine.services import deployments, instances, tasks, users
from engine.services.context import EngineContext
from engine.statuses import InstanceStatus
from engine.store import schema

T = TypeVar("T")
FAST_PASSWORD_METHOD = "pbkdf2:sha256:1000"  # bench users are throwaway; scrypt would only slow set-up
BENCH_PASSWORD = "bench-password"


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A fresh SQLite file that disappears with its temporary folder."""
    with tempfile.TemporaryDirectory(prefix="bankflow-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.sqlite'}"


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A database created on the server for this run and dropped afterwards, whatever happens."""
    server = make_url(server_url)
    name = f"bankflow_bench_{secrets.token_hex(5)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        say(f"  created database {name}")
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            say(f"  dropped database {name}")
    finally:
        admin.dispose()


def database_version(db: Engine) -> str:
    """The server (or library) version the figures were measured on."""
    if db.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with db.connect() as connection:
        return f"PostgreSQL {connection.execute(text('SHOW server_version')).scalar_one()}"


def round_trip_ms(db: Engine, samples: int = 500) -> float:
    """Median time of `SELECT 1` on an open driver connection: the floor under every statement."""
    with db.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()
        times = []
        for _ in range(samples):
            began = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            times.append(time.perf_counter() - began)
        cursor.close()
    return statistics.median(times) * 1000


def describe_script_engine(script_engine: Any) -> str:
    """Which engine and environment ran the persisted scripts: the bare figures use the plain default."""
    return f"{type(script_engine).__name__}/{type(script_engine.environment).__name__}"


def prepare_context(url: str) -> EngineContext:
    """Schema, both workloads deployed and one user per candidate group, as a fresh install would have."""
    ctx = EngineContext.from_url(url)
    ctx.password_method = FAST_PASSWORD_METHOD
    schema.upgrade(ctx.database.engine)
    deployments.deploy(ctx, deployments.read_sources([STRAIGHT_FILE, HUMAN_FILE]), name="bench workloads")
    for person in PEOPLE:
        users.add_user(ctx, person.name, BENCH_PASSWORD, groups=[person.group])
    return ctx


def start_straight(ctx: EngineContext, calls: CallLatencies, variables: dict[str, Any]) -> None:
    """One straight-through case: a single service call that runs the process to its end."""
    started = calls.timed("start", instances.start, ctx, STRAIGHT_KEY, variables)
    if started.status != InstanceStatus.COMPLETED:
        raise BenchFailure(f"straight-through instance {started.id} ended {started.status}: "
                           f"{started.incident_message}")


def work_human_case(ctx: EngineContext, calls: CallLatencies, case: HumanCase) -> None:
    """One human case as clerks work it: start, then find, claim and complete each task in turn."""
    started = calls.timed("start", instances.start, ctx, HUMAN_KEY, case.variables, user=STARTER.name)
    finished: CaseSummary = started
    for step in case.steps:
        found = calls.timed("list", tasks.list_tasks, ctx, instance_id=started.id)
        if [t.element_id for t in found] != [step.element_id]:
            raise BenchFailure(f"instance {started.id}: expected one open task {step.element_id}, "
                               f"found {[t.element_id for t in found]}")
        calls.timed("claim", tasks.claim, ctx, found[0].id, step.person.name)
        finished = calls.timed("complete", tasks.complete, ctx, found[0].id, step.person.name, step.data).instance
    if finished.status != InstanceStatus.COMPLETED:
        raise BenchFailure(f"human instance {started.id} ended {finished.status}: {finished.incident_message}")


class CountingCalls(CallLatencies):
    """Also counts the SQL statements each call type sends; used in warm-up only, so timings stay clean."""

    def __init__(self, db: Engine):
        super().__init__()
        self._db = db
        self._sent = 0
        self.statements: dict[str, list[int]] = defaultdict(list)

    def _count(self, *_: Any) -> None:
        self._sent += 1

    def __enter__(self) -> "CountingCalls":
        event.listen(self._db, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self._db, "before_cursor_execute", self._count)

    def timed(self, kind: str, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        before = self._sent
        result = super().timed(kind, call, *args, **kwargs)
        self.statements[kind].append(self._sent - before)
        return result

    def mean_statements(self) -> dict[str, float]:
        return {kind: sum(counts) / len(counts) for kind, counts in self.statements.items()}


def warm_up(ctx: EngineContext, straight: list[dict[str, Any]], human: list[HumanCase]) -> dict[str, dict[str, float]]:
    """Fill caches and connection pools before timing; returns SQL statements per call, per workload."""
    with CountingCalls(ctx.database.engine) as straight_calls:
        for variables in straight:
            start_straight(ctx, straight_calls, variables)
    with CountingCalls(ctx.database.engine) as human_calls:
        for case in human:
            work_human_case(ctx, human_calls, case)
    return {"straight": straight_calls.mean_statements(), "human": human_calls.mean_statements()}


@dataclass
class BackendResult:
    """Everything measured on one database backend."""

    backend: str
    database_version: str
    script_engine: str
    straight: Throughput
    human: Throughput
    straight_latency: dict[str, dict[str, float]]
    human_latency: dict[str, dict[str, float]]
    statements_per_call: dict[str, dict[str, float]]
    round_trip_ms: float


def measure_backend(backend: str, url: str, straight: list[dict[str, Any]], human: list[HumanCase],
                    warmup: int) -> BackendResult:
    """Warm up, then time both workloads on one fresh database."""
    say(f"  [{backend}] creating schema, deploying workloads, adding users")
    ctx = prepare_context(url)
    try:
        say(f"  [{backend}] warm-up: {warmup} straight-through + {warmup} human instances")
        statements = warm_up(ctx, straight[:warmup], human[:warmup])
        say(f"  [{backend}] straight-through: {len(straight)} timed instances (1 service call each)")
        straight_calls = CallLatencies()
        straight_run = run_timed(f"{backend} straight", straight,
                                 lambda variables: start_straight(ctx, straight_calls, variables))
        say(f"  [{backend}] human: {len(human)} timed instances (10 service calls each)")
        human_calls = CallLatencies()
        human_run = run_timed(f"{backend} human", human, lambda case: work_human_case(ctx, human_calls, case))
        return BackendResult(backend, database_version(ctx.database.engine), describe_script_engine(ctx.script_engine),
                             straight_run, human_run, straight_calls.summary(), human_calls.summary(), statements,
                             round_trip_ms(ctx.database.engine))
    finally:
        ctx.close()
