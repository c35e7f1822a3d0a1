"""Dashboard benchmark: `/dashboard/<key>` rendered through the Flask test client over bulk history.

    python bench/dashboard.py [--quick] [--cases N] [--pg-url URL]

Loan applications over two years are bulk-generated with the Core inserts of
bench/analytics.py (History) until there are N cases (default 100,000; --quick
10,000), on PostgreSQL. Then a manager's page over the whole history is rendered
(best of three after a warm-up): the metrics document, the charts' aggregates and
the HTML. Printed as `dashboard_process_<N>_pg_s`; also the page with an activity's
drill-down and the page over the default window (last 30 days).
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from bench.analytics import BEGIN, CHUNK, DEFAULT_PG_URL, KEY, LIBRARY, SPAN, History  # noqa: E402
from bench.measure import say  # noqa: E402
from bench.persisted import postgres_database  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.policy.roles import Role  # noqa: E402
from engine.services import database, deployments, users  # noqa: E402
from engine.services.context import EngineContext  # noqa: E402
from engine.store.tables import DEFINITION  # noqa: E402

FIGURES = ("dashboard_process_100k_pg_s",)
PASSWORD = "bench-password"


def load_cases(ctx: EngineContext, cases: int, seed: int = 11) -> dict[str, int]:
    """Deploy the library and bulk-insert `cases` loan applications (bench/analytics.py's generator)."""
    database.init_db(ctx)
    deployments.deploy(ctx, deployments.read_sources([LIBRARY]))
    with ctx.database.engine.begin() as connection:
        definition_id = connection.execute(select(DEFINITION.c.id).where(DEFINITION.c.key == KEY)).scalar_one()
    history = History(definition_id, seed)
    rows = 0
    while history.instance_id < cases:
        with ctx.database.engine.begin() as connection:
            while history.instance_id < cases and len(history.rows["activities"]) < CHUNK:
                rows += history.add_case()
            history.flush(connection)
    with ctx.database.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
        connection.execute(text("SELECT setval(pg_get_serial_sequence('process_instance', 'id'), "
                                "(SELECT max(id) FROM process_instance))"))
    return {"cases": history.instance_id, "activities": rows, "tasks": history.task_id}


def signed_in_client(ctx: EngineContext) -> Any:
    from webui import create_app

    users.add_user(ctx, "bench_manager", PASSWORD, roles=[Role.MANAGER])
    app = create_app({"ENGINE_CONTEXT": ctx, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    response = client.post("/login", data={"name": "bench_manager", "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"the bench manager could not sign in: {response.status_code}")
    return client


def time_page(client: Any, path: str, repeat: int = 3) -> float:
    response = client.get(path)  # warm-up: spec cache, templates, connection pool
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(path)
        response.get_data()
        best = min(best, time.perf_counter() - began)
        assert response.status_code == 200
    return best


def bench_dashboard(url: str, cases: int) -> dict[str, Any]:
    ctx = EngineContext.from_url(url, clock=ManualClock(BEGIN + SPAN + timedelta(days=1)))
    try:
        began = time.perf_counter()
        loaded = load_cases(ctx, cases)
        say(f"  pg: {loaded['cases']} cases, {loaded['activities']} activity rows, {loaded['tasks']} tasks "
            f"loaded in {time.perf_counter() - began:.1f} s")
        client = signed_in_client(ctx)
        end = (ctx.clock.now() - timedelta(days=1)).date().isoformat()
        whole = f"/dashboard/{KEY}?from={BEGIN.date().isoformat()}&to={end}"
        seconds = time_page(client, whole)
        drill = time_page(client, whole + "&element=underwriter_review", repeat=1)
        recent = time_page(client, f"/dashboard/{KEY}?days=30", repeat=1)
        say(f"  /dashboard/{KEY} over {loaded['cases']} cases on pg: {seconds:.3f} s (with drill-down "
            f"{drill:.3f} s; last 30 days {recent:.3f} s)")
        return {"seconds": seconds, "drill_down_seconds": drill, "last_30_days_seconds": recent, "loaded": loaded}
    finally:
        ctx.close()


def _size(cases: int) -> str:
    return f"{cases // 1000}k"


def run(pg_url: str = DEFAULT_PG_URL, quick: bool = False, cases: int | None = None) -> dict[str, Any]:
    """`dashboard_process_100k_pg_s` (None when not measured: --quick measures 10k cases instead)."""
    say("Phase: dashboard (/dashboard/<key> through the Flask test client over bulk history, PostgreSQL)")
    cases = cases or (10_000 if quick else 100_000)
    name = f"dashboard_process_{_size(cases)}_pg_s"
    figures: dict[str, Any] = {f: None for f in FIGURES}
    detail: dict[str, Any] = {}
    try:
        with postgres_database(pg_url) as url:
            detail[name] = bench_dashboard(url, cases)
        figures[name] = round(detail[name]["seconds"], 3)
    except Exception as exc:  # a missing server: report it, keep the other figures
        say(f"  {name} not measured: {' '.join(str(exc).split())[:200]}")
        figures[name] = None
    return {"figures": figures, "detail": detail}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 cases")
    parser.add_argument("--cases", type=int, help="number of cases (default 100000)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    out = run(args.pg_url, args.quick, args.cases)
    say("\nDashboard figures: " + ", ".join(f"{k}={v}" for k, v in out["figures"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
