"""Engine benchmarks (issue #7, docs/architecture.md §8): persisted throughput beside bare SpiffWorkflow, same run.

    python bench/run.py [--quick] [--json FILE] [--only sqlite|pg|bare]
    python bench/run.py --profile sqlite-human|sqlite-straight [--quick]

Bare SpiffWorkflow always runs, because the persisted figures are reported as
ratios to it; `--only sqlite|pg` limits which database backends run.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/, not the project, on the path
    sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine  # noqa: E402
from sqlalchemy import make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from bench import bare, machine, persisted, profiling  # noqa: E402
from bench.measure import Throughput, say  # noqa: E402
from bench.workload import (HUMAN_FILE, HUMAN_KEY, STRAIGHT_FILE, STRAIGHT_KEY, HumanCase,  # noqa: E402
                            human_cases, straight_inputs)

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_URL_ENV = "BANKFLOW_BENCH_PG_URL"
BACKENDS = ("sqlite", "pg")


@dataclass(frozen=True)
class Sizes:
    """Instances per timed phase; bare runs more because each one takes only milliseconds."""

    straight: int
    human: int
    bare_straight: int
    bare_human: int
    warmup: int


QUICK = Sizes(straight=200, human=100, bare_straight=1000, bare_human=500, warmup=10)
FULL = Sizes(straight=1000, human=500, bare_straight=5000, bare_human=2500, warmup=10)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"small sizes, a few minutes at most: {QUICK}; without it: {FULL}")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE as JSON")
    parser.add_argument("--only", choices=("sqlite", "pg", "bare"),
                        help="run only this backend (bare always runs: the ratios need it)")
    parser.add_argument("--profile", choices=("sqlite-human", "sqlite-straight"),
                        help="run one persisted workload under cProfile and print where the time goes")
    parser.add_argument("--pg-url", default=os.environ.get(PG_URL_ENV, DEFAULT_PG_URL),
                        help=f"PostgreSQL server to create the bench database on (default ${PG_URL_ENV} or "
                             f"{DEFAULT_PG_URL}); only that new database is touched, then dropped")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated workload inputs")
    parser.add_argument("--analytics", action=argparse.BooleanOptionalAction, default=None,
                        help="metrics over 100k/1M history rows and the simulator (bench/analytics.py); "
                             "default: on, except with --quick")
    return parser.parse_args(argv)


def run_bare(sizes: Sizes, straight: list[dict[str, Any]], human: list[HumanCase], when: str) -> dict[str, Throughput]:
    """Bare SpiffWorkflow throughput on both workloads."""
    say(f"Phase: bare in-memory SpiffWorkflow (default PythonScriptEngine), {when} the persisted runs")
    engine = PythonScriptEngine()
    return {
        "straight": bare.measure_straight(bare.parse(STRAIGHT_FILE, STRAIGHT_KEY), engine,
                                          straight[:sizes.bare_straight], sizes.warmup),
        "human": bare.measure_human(bare.parse(HUMAN_FILE, HUMAN_KEY), engine, human[:sizes.bare_human], sizes.warmup),
    }


def run_sandbox_overhead(sizes: Sizes, straight: list[dict[str, Any]]) -> bare.SandboxOverhead:
    say("Phase: sandbox overhead (bare straight-through, sandboxed vs plain script engine)")
    overhead = bare.measure_sandbox_overhead(bare.parse(STRAIGHT_FILE, STRAIGHT_KEY), straight[:sizes.bare_straight],
                                             sizes.warmup)
    if overhead.ratio is None:
        say(f"  sandbox overhead not measured: {overhead.reason}")
    return overhead


def run_evaluator_overhead(sizes: Sizes, straight: list[dict[str, Any]]) -> bare.EvaluatorOverhead:
    say("Phase: evaluator overhead (bare straight-through, in-process sandbox vs evaluator processes)")
    overhead = bare.measure_evaluator_overhead(bare.parse(STRAIGHT_FILE, STRAIGHT_KEY),
                                               straight[:sizes.bare_straight // 2], sizes.warmup)
    if overhead.reason:
        say(f"  evaluator overhead not measured: {overhead.reason}")
    return overhead


def bracketed(before: dict[str, Throughput], after: dict[str, Throughput]) -> dict[str, Throughput]:
    """Bare throughput pooled from the runs before and after the persisted ones.

    This machine's speed drifts by up to 20% over a minute; bracketing the persisted
    runs keeps a drift from landing on one side of the ratio only.
    """
    return {workload: Throughput(before[workload].instances + after[workload].instances,
                                 before[workload].seconds + after[workload].seconds)
            for workload in ("straight", "human")}


def run_backend(backend: str, pg_url: str, sizes: Sizes, straight: list[dict[str, Any]],
                human: list[HumanCase]) -> persisted.BackendResult:
    """One backend on a database of its own, which is gone afterwards whatever happens."""
    say(f"Phase: persisted through the service layer on {backend}")
    database = persisted.sqlite_database() if backend == "sqlite" else persisted.postgres_database(pg_url)
    with database as url:
        return persisted.measure_backend(backend, url, straight[:sizes.straight], human[:sizes.human], sizes.warmup)


def figures(sizes: Sizes, args: argparse.Namespace, bare_runs: dict[str, dict[str, Throughput]],
            sandbox: bare.SandboxOverhead, backends: dict[str, persisted.BackendResult], errors: dict[str, str],
            elapsed: float, load_at_start: list[float],
            evaluator: bare.EvaluatorOverhead | None = None) -> dict[str, Any]:
    """The JSON document: flat headline keys (null when not measured), then the detail behind them."""
    bare_results = bare_runs["pooled"]
    out: dict[str, Any] = {
        "bare_straight_ips": bare_results["straight"].per_second,
        "bare_human_ips": bare_results["human"].per_second,
    }
    for backend in BACKENDS:
        result = backends.get(backend)
        for workload in ("straight", "human"):
            run: Throughput | None = getattr(result, workload) if result else None
            out[f"{backend}_{workload}_ips"] = run.per_second if run else None
            out[f"{backend}_{workload}_ratio"] = run.per_second / bare_results[workload].per_second if run else None
    out.update({
        "latency_ms": {name: {"straight": result.straight_latency, "human": result.human_latency}
                       for name, result in backends.items()},
        "round_trip_ms": {name: result.round_trip_ms for name, result in backends.items()},
        "sandbox_overhead": sandbox.ratio,
        "sandbox_overhead_note": sandbox.reason,
        "evaluator_us_per_request": evaluator.us_per_evaluation if evaluator else None,
        "evaluator_requests_per_straight_instance": evaluator.evaluations_per_instance if evaluator else None,
        "peak_rss_mb": machine.peak_rss_mb(),
        "elapsed_seconds": elapsed,
        "machine": {**machine.facts(),
                    "postgresql_server_version": backends["pg"].database_version if "pg" in backends else None,
                    "load_average_at_start": load_at_start, "load_average_at_end": machine.load_average()},
        "parameters": {**asdict(sizes), "quick": args.quick, "only": args.only, "seed": args.seed,
                       "pg_server": make_url(args.pg_url).render_as_string(hide_password=True)},
        "errors": errors,
        "detail": {
            "bare": {when: {w: asdict(runs[w]) for w in ("straight", "human")} for when, runs in bare_runs.items()},
            "sandbox": asdict(sandbox),
            "evaluator": asdict(evaluator) if evaluator else None,
            **{name: asdict(result) for name, result in backends.items()},
        },
    })
    return out


def print_table(out: dict[str, Any], bare_runs: dict[str, dict[str, Throughput]],
                backends: dict[str, persisted.BackendResult]) -> None:
    """Throughput per workload and backend, then latency and SQL statements per service call."""
    bare_results = bare_runs["pooled"]
    say("\nThroughput (instances/s; ratio = persisted / bare, same run; bare pooled from before and after)")
    say(f"{'workload':<18}{'backend':<9}{'instances':>10}{'seconds':>10}{'inst/s':>10}{'ms/inst':>10}{'ratio':>9}")
    for workload, title in (("straight", "straight-through"), ("human", "human (3 tasks)")):
        rows = [("bare", bare_results[workload])] + [(n, getattr(r, workload)) for n, r in backends.items()]
        for name, run in rows:
            ratio = run.per_second / bare_results[workload].per_second
            say(f"{title:<18}{name:<9}{run.instances:>10}{run.seconds:>10.2f}{run.per_second:>10.1f}"
                f"{run.ms_per_instance:>10.2f}{ratio:>9.4f}")
    say("Bare before / after the persisted runs, inst/s: " + "; ".join(
        f"{w} {bare_runs['before'][w].per_second:.1f} / {bare_runs['after'][w].per_second:.1f}"
        for w in ("straight", "human")))
    if backends:
        print_latency(backends)
    ratio = out["sandbox_overhead"]
    say(f"\nSandbox overhead (sandboxed / plain time per straight-through instance): "
        f"{f'{ratio:.2f}x' if ratio is not None else 'not measured - ' + out['sandbox_overhead_note']}")
    cost = out.get("evaluator_us_per_request")
    if cost is not None:
        say(f"Evaluator processes: {out['evaluator_requests_per_straight_instance']:.1f} requests per straight-through "
            f"instance, {cost:.0f} us each over the in-process sandbox")
    say(f"Peak RSS: {out['peak_rss_mb']:.1f} MB   elapsed: {out['elapsed_seconds']:.1f} s")
    say("Machine: " + ", ".join(f"{k}={v}" for k, v in out["machine"].items()))
    if out["errors"]:
        say("Errors: " + "; ".join(f"{k}: {v}" for k, v in out["errors"].items()))


def print_latency(backends: dict[str, persisted.BackendResult]) -> None:
    """Per call type, so a slow figure points at the call (and SQL count) that causes it."""
    say("\nService-call latency (ms) and SQL statements per call (counted during warm-up)")
    say(f"{'backend':<9}{'workload':<10}{'call':<10}{'calls':>7}{'p50':>9}{'p95':>9}{'mean':>9}{'stmts':>8}")
    for name, result in backends.items():
        for workload, latency in (("straight", result.straight_latency), ("human", result.human_latency)):
            for call, stats in latency.items():
                statements = result.statements_per_call[workload].get(call, float("nan"))
                say(f"{name:<9}{workload:<10}{call:<10}{stats['calls']:>7}{stats['p50_ms']:>9.2f}"
                    f"{stats['p95_ms']:>9.2f}{stats['mean_ms']:>9.2f}{statements:>8.1f}")
    say("Script engine of the persisted runs (bare uses the plain PythonScriptEngine): "
        + ", ".join(f"{name} {result.script_engine}" for name, result in backends.items()))
    say("Database round trip (median SELECT 1 on an open driver connection), the floor under each statement: "
        + ", ".join(f"{name} {result.round_trip_ms:.3f} ms" for name, result in backends.items()))


def main(argv: list[str] | None = None) -> int:
    """Exit status 1 when a requested backend could not run, so scripts notice missing figures."""
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    rng = random.Random(args.seed)
    straight = straight_inputs(max(sizes.straight, sizes.bare_straight), rng)
    human = human_cases(max(sizes.human, sizes.bare_human), rng)
    if args.profile:
        workload = args.profile.removeprefix("sqlite-")
        profiling.profile(workload, straight[:sizes.straight], human[:sizes.human], sizes.warmup)
        return 0
    began = time.perf_counter()
    load_at_start = machine.load_average()
    before = run_bare(sizes, straight, human, "before")
    sandbox = run_sandbox_overhead(sizes, straight)
    evaluator = run_evaluator_overhead(sizes, straight)
    backends: dict[str, persisted.BackendResult] = {}
    errors: dict[str, str] = {}
    for backend in BACKENDS if args.only is None else [b for b in BACKENDS if b == args.only]:
        try:
            backends[backend] = run_backend(backend, args.pg_url, sizes, straight, human)
        except OperationalError as exc:  # e.g. the PostgreSQL server is down: report it, keep the other figures
            errors[backend] = " ".join(str(exc.orig).split())
            say(f"  {backend} skipped: {errors[backend]}")
    after = run_bare(sizes, straight, human, "after")
    bare_runs = {"before": before, "after": after, "pooled": bracketed(before, after)}
    out = figures(sizes, args, bare_runs, sandbox, backends, errors, time.perf_counter() - began, load_at_start,
                  evaluator)
    print_table(out, bare_runs, backends)
    from bench import analytics  # metrics over 100k/1M history rows, the simulator
    if args.only != "bare" and (args.analytics if args.analytics is not None else not args.quick):
        found = analytics.run(args.pg_url, quick=args.quick, only=args.only)
        out.update(found["figures"])
        out["detail"]["analytics"] = found["detail"]
        say("Analytics: " + ", ".join(f"{k}={v}" for k, v in found["figures"].items()))
    else:
        out.update({name: None for name in analytics.FIGURES})
    from bench import dashboard  # /dashboard/<key> over 100k cases on PostgreSQL (10k with --quick)
    if args.only in (None, "pg") and (args.analytics if args.analytics is not None else not args.quick):
        found = dashboard.run(args.pg_url, quick=args.quick)
        out.update(found["figures"])
        out["detail"]["dashboard"] = found["detail"]
        say("Dashboard: " + ", ".join(f"{k}={v}" for k, v in found["figures"].items()))
    else:
        out.update({name: None for name in dashboard.FIGURES})
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
        say(f"Wrote {args.json}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
