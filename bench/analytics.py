"""Analytics benchmarks (docs/architecture.md §8): `metrics` over 100k and 1M activity rows, and the simulator.

    python bench/analytics.py [--quick] [--only sqlite|pg] [--rows N ...] [--explain]

History is bulk-generated with Core inserts (loan applications over two years:
approvals, declines, document rework, a few cases still open, some SLA breaches),
then `process_metrics` of that one process is timed (best of three after a warm-up;
the database's statistics are refreshed first). Each run also prints the time per
statement, so a slow figure names the statement behind it, and with --explain the
query plan of the slowest one. `simulate_cases_per_s` is the simulator's speed on
the default loan scenario.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, select, text  # noqa: E402

from bench.measure import say  # noqa: E402
from bench.persisted import postgres_database, sqlite_database  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.records.analytics import Scope  # noqa: E402
from engine.services import database, deployments, metrics, simulation, what_if  # noqa: E402
from engine.services.context import EngineContext  # noqa: E402
from engine.statuses import ActivityState, InstanceStatus, TaskStatus  # noqa: E402
from engine.store.read_models.dialect import Dialect  # noqa: E402
from engine.store.read_models.metrics_sql import ElapsedTime, MetricsQueries  # noqa: E402
from engine.store.tables import ACTIVITY, CANDIDATE, DEFINITION, EVENT, INSTANCE, TASK  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LIBRARY = ROOT / "processes"
KEY = "loan_application"
BEGIN = datetime(2024, 1, 1, tzinfo=timezone.utc)
SPAN = timedelta(days=730)
CHUNK = 20000
FIGURES = ("metrics_100k_sqlite_s", "metrics_1m_sqlite_s", "metrics_100k_pg_s", "metrics_1m_pg_s",
           "simulate_cases_per_s")

# (element_id, element_type, lane for user tasks, mean wait minutes, mean work minutes)
U, S, G, E, SC, B = "userTask", "serviceTask", "exclusiveGateway", "endEvent", "scriptTask", "businessRuleTask"
INTAKE = [("start", "startEvent", None, 0, 0), ("loan_intake", U, "credit_officers", 30, 20),
          ("docs_merge", G, None, 0, 0), ("document_check", U, "credit_officers", 60, 15),
          ("docs_gw", G, None, 0, 0)]
REWORK = [("provide_documents", U, "applicants", 0, 1200), ("docs_merge", G, None, 0, 0),
          ("document_check", U, "credit_officers", 60, 15), ("docs_gw", G, None, 0, 0)]
SCORING = [("credit_bureau", S, None, 0, 2), ("compute_ratios", SC, None, 0, 0), ("credit_scoring", B, None, 0, 0),
           ("score_gw", G, None, 0, 0)]
APPROVE = [("underwriter_review", U, "underwriters", 900, 70), ("review_merge", G, None, 0, 0),
           ("uw_gw", G, None, 0, 0), ("authority_gw", G, None, 0, 0),
           ("manager_approval", U, "credit_managers", 240, 20), ("approval_merge", G, None, 0, 0),
           ("approval_gw", G, None, 0, 0), ("prepare_contract", U, "loan_operations", 120, 30),
           ("sign_contract", U, "applicants", 0, 1100), ("signed_gw", G, None, 0, 0),
           ("disbursement_release", U, "loan_operations", 90, 10), ("disburse", S, None, 0, 3),
           ("end_disbursed", E, None, 0, 0)]
DECLINE = [("decline_merge_1", G, None, 0, 0), ("decline_merge_2", G, None, 0, 0), ("record_decline", SC, None, 0, 0),
           ("inform_decline", U, "credit_officers", 120, 10), ("end_declined", E, None, 0, 0)]


def case_path(rng: random.Random) -> list[tuple[Any, ...]]:
    path = list(INTAKE)
    while rng.random() < 0.2:
        path += REWORK
    path += SCORING
    return path + (APPROVE if rng.random() < 0.65 else DECLINE)


class History:
    """Rows for one bulk load, with explicit ids so tasks, candidates and events refer to each other."""

    def __init__(self, definition_id: int, seed: int) -> None:
        self.definition_id = definition_id
        self.rng = random.Random(seed)
        self.instance_id = self.task_id = self.activity_id = 0
        self.rows: dict[str, list[dict[str, Any]]] = {"instances": [], "activities": [], "tasks": [],
                                                      "candidates": [], "events": []}

    def add_case(self) -> int:
        rng = self.rng
        self.instance_id += 1
        iid = self.instance_id
        started = BEGIN + timedelta(seconds=rng.uniform(0, SPAN.total_seconds()))
        path = case_path(rng)
        cut = rng.randrange(1, len(path)) if rng.random() < 0.03 else None  # a case still open
        now = started
        for index, (element, kind, lane, wait, work) in enumerate(path):
            self.activity_id += 1
            begin = now
            claimed = begin + timedelta(minutes=rng.expovariate(1 / wait)) if wait else begin
            end = claimed + timedelta(minutes=rng.expovariate(1 / work)) if work else claimed
            is_open = cut is not None and index == cut
            self.rows["activities"].append({
                "id": self.activity_id, "instance_id": iid, "spiff_task_id": f"b{iid:011d}-{index:04d}",
                "element_id": element, "element_type": kind, "name": element.replace("_", " "),
                "started_at": begin, "ended_at": None if is_open else end,
                "state": ActivityState.ACTIVE if is_open else ActivityState.COMPLETED})
            if kind == U:
                self.task_id += 1
                self.rows["tasks"].append({
                    "id": self.task_id, "instance_id": iid, "spiff_task_id": f"b{iid:011d}-{index:04d}",
                    "element_id": element, "name": element.replace("_", " "), "lane": lane,
                    "candidate_groups": [lane], "candidate_users": [], "assignee": None if is_open else "staff",
                    "status": TaskStatus.OPEN if is_open else TaskStatus.COMPLETED, "priority": 50, "created_at": begin,
                    "claimed_at": None if is_open else claimed, "completed_at": None if is_open else end,
                    "completed_by": None if is_open else "staff", "form": [], "sla_calendar": None})
                self.rows["candidates"].append({"task_id": self.task_id, "kind": "group", "name": lane})
                if not is_open and rng.random() < 0.03:
                    self.rows["events"].append({"instance_id": iid, "task_id": self.task_id, "type": "sla_breached",
                                                "element_id": element, "actor": "worker", "at": end, "payload": {}})
            if is_open:
                break
            now = end
        self.rows["instances"].append({
            "id": iid, "definition_id": self.definition_id, "business_key": f"LOAN-{iid}",
            "status": InstanceStatus.RUNNING if cut is not None else InstanceStatus.COMPLETED, "started_at": started,
            "started_by": "olga",
            "ended_at": None if cut is not None else now, "state": {}, "variables": {}, "lock_version": 1})
        return len(path) if cut is None else cut + 1

    def flush(self, connection: Any) -> None:
        for table, name in ((INSTANCE, "instances"), (TASK, "tasks"), (CANDIDATE, "candidates"),
                            (ACTIVITY, "activities"), (EVENT, "events")):
            if self.rows[name]:
                connection.execute(insert(table), self.rows[name])
                self.rows[name] = []


def load_history(ctx: EngineContext, activity_rows: int, seed: int = 7) -> dict[str, int]:
    """Deploy the library and bulk-insert about `activity_rows` activity rows of loan applications."""
    database.init_db(ctx)
    deployments.deploy(ctx, deployments.read_sources([LIBRARY]))
    with ctx.database.engine.begin() as connection:
        definition_id = connection.execute(select(DEFINITION.c.id).where(DEFINITION.c.key == KEY)).scalar_one()
    history = History(definition_id, seed)
    written = 0
    while written < activity_rows:
        with ctx.database.engine.begin() as connection:
            while written < activity_rows and len(history.rows["activities"]) < CHUNK:
                written += history.add_case()
            history.flush(connection)
    with ctx.database.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
        if ctx.database.engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval(pg_get_serial_sequence('process_instance', 'id'), "
                                    "(SELECT max(id) FROM process_instance))"))
    return {"activities": written, "instances": history.instance_id, "tasks": history.task_id}


@contextmanager
def statement_timer(ctx: EngineContext) -> Iterator[list[tuple[float, str]]]:
    timings: list[tuple[float, str]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        timings.append((time.perf_counter() - conn.info.pop("bench_started"), statement))

    event.listen(ctx.database.engine, "before_cursor_execute", before)
    event.listen(ctx.database.engine, "after_cursor_execute", after)
    try:
        yield timings
    finally:
        event.remove(ctx.database.engine, "before_cursor_execute", before)
        event.remove(ctx.database.engine, "after_cursor_execute", after)


def time_metrics(ctx: EngineContext, until: datetime, repeat: int = 3, business_time: bool = False
                 ) -> tuple[float, list[tuple[float, str]]]:
    metrics.process_metrics(ctx, KEY, until=until, business_time=business_time)  # warm-up
    runs = []
    for _ in range(repeat):
        with statement_timer(ctx) as timings:
            began = time.perf_counter()
            metrics.process_metrics(ctx, KEY, until=until, business_time=business_time)
            runs.append((time.perf_counter() - began, list(timings)))
    return min(runs, key=lambda r: r[0])


def label(statement: str) -> str:
    """A short name for a metrics statement: what it aggregates."""
    s = " ".join(statement.split())
    for needle, name in (("bt_days", "business-time "), ("group_concat", "variants"), ("string_agg", "variants"),
                         ("per_case", "activity counts"), ("samples", "statistics"), ("shares", "shares"),
                         ("sla_breached", "breaches"), ("throughput", "throughput"),
                         ("task_candidate", "groups"), ("first_started_at", "instances"),
                         ("business_calendar", "calendars"), ("process_definition", "definitions")):
        if needle in s:
            return name
    return s[:40]


def explain(ctx: EngineContext, statement: str, until: datetime) -> str:
    """The plan of one of the statements, recompiled with its parameters inline."""
    dialect = ctx.database.engine.dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
    with ctx.database.engine.connect() as connection:
        ids = tuple(connection.scalars(select(DEFINITION.c.id).where(DEFINITION.c.key == KEY)))
        queries = MetricsQueries(Dialect(dialect), Scope(definition_ids=ids, since=None, until=until),
                                 ElapsedTime(Dialect(dialect)))
        chosen = {"statistics": queries.statistics(queries.samples()), "variants": queries.variants(20),
                  "activity counts": queries.activity_counts(), "shares": queries.share_totals(),
                  "groups": queries.groups()}.get(statement)
        if chosen is None:
            return ""
        sql = str(chosen.compile(ctx.database.engine, compile_kwargs={"literal_binds": True}))
        rows = connection.exec_driver_sql(prefix + sql).all()
    return "\n".join("    " + " | ".join(str(c) for c in row) for row in rows)


def bench_metrics(url: str, backend: str, rows: int, show_plan: bool) -> dict[str, Any]:
    ctx = EngineContext.from_url(url, clock=ManualClock(BEGIN + SPAN + timedelta(days=30)))
    try:
        began = time.perf_counter()
        loaded = load_history(ctx, rows)
        say(f"  {backend}: {loaded['activities']} activity rows, {loaded['instances']} cases, {loaded['tasks']} tasks "
            f"loaded in {time.perf_counter() - began:.1f} s")
        until = ctx.clock.now()
        seconds, timings = time_metrics(ctx, until)
        business, _ = time_metrics(ctx, until, repeat=1, business_time=True)
        per = sorted(((t, label(s)) for t, s in timings), reverse=True)
        say(f"  metrics over {rows} rows on {backend}: {seconds:.3f} s ({len(timings)} statements; business time "
            f"{business:.3f} s); slowest: " + ", ".join(f"{name} {t:.3f} s" for t, name in per[:4]))
        plan = explain(ctx, per[0][1], until) if show_plan else ""
        if plan:
            say(f"  plan of '{per[0][1]}' on {backend}:\n{plan}")
        return {"seconds": seconds, "business_time_seconds": business, "statements": len(timings),
                "by_statement": [{"statement": name, "seconds": round(t, 4)} for t, name in per], "loaded": loaded,
                "plan": plan}
    finally:
        ctx.close()


def bench_simulation(days: int) -> dict[str, Any]:
    plan = simulation.default_scenarios([KEY], LIBRARY)
    result = what_if.simulate(None, plan, days, seed=1, start=datetime(2026, 3, 2, tzinfo=timezone.utc),
                              library=LIBRARY)
    say(f"  simulator: {result['counters']['cases_started']} loan cases in {days} virtual days, "
        f"{result['wall_seconds']:.1f} s: {result['cases_per_second']} cases/s")
    return {"cases_per_second": result["cases_per_second"], "cases": result["counters"]["cases_started"],
            "wall_seconds": result["wall_seconds"]}


def run(pg_url: str = DEFAULT_PG_URL, quick: bool = False, only: str | None = None,
        row_counts: tuple[int, ...] | None = None, show_plan: bool = False) -> dict[str, Any]:
    """The analytics figures: metrics_<rows>_<backend>_s and simulate_cases_per_s (None if not measured)."""
    say("Phase: analytics (metrics over bulk-generated history; the simulator)")
    row_counts = row_counts or ((100_000,) if quick else (100_000, 1_000_000))
    figures: dict[str, Any] = {}
    detail: dict[str, Any] = {}
    for backend in ("sqlite", "pg"):
        if only not in (None, backend):
            continue
        for rows in row_counts:
            name = f"metrics_{_size(rows)}_{backend}_s"
            try:
                database_cm = sqlite_database() if backend == "sqlite" else postgres_database(pg_url)
                with database_cm as url:
                    detail[name] = bench_metrics(url, backend, rows, show_plan)
                figures[name] = round(detail[name]["seconds"], 3)
            except Exception as exc:  # a missing server: report it, keep the other figures
                say(f"  {name} not measured: {' '.join(str(exc).split())[:200]}")
                figures[name] = None
    for rows in (100_000, 1_000_000):
        for backend in ("sqlite", "pg"):
            figures.setdefault(f"metrics_{_size(rows)}_{backend}_s", None)
    sim = bench_simulation(5 if quick else 15)
    figures["simulate_cases_per_s"] = sim["cases_per_second"]
    return {"figures": figures, "detail": {**detail, "simulation": sim}}


def _size(rows: int) -> str:
    return f"{rows // 1_000_000}m" if rows >= 1_000_000 and rows % 1_000_000 == 0 else f"{rows // 1000}k"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100k rows only, a short simulation")
    parser.add_argument("--only", choices=("sqlite", "pg"))
    parser.add_argument("--rows", type=int, nargs="+", help="activity row counts (default 100000 1000000)")
    parser.add_argument("--explain", action="store_true", help="print the plan of each run's slowest statement")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    out = run(args.pg_url, args.quick, args.only, tuple(args.rows) if args.rows else None, args.explain)
    say("\nAnalytics figures: " + ", ".join(f"{k}={v}" for k, v in out["figures"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
