"""`--profile`: one persisted workload on SQLite under cProfile, to show where a service call spends its time.

cProfile charges a fixed cost per Python call, so call-heavy code (the ORM above
all) looks somewhat bigger than it is; the unprofiled table of `run.py` gives the
true per-call latencies.
"""
from __future__ import annotations

import cProfile
import pstats
from pathlib import Path
from typing import Any, Callable

from bench.measure import CallLatencies, say
from bench.persisted import prepare_context, sqlite_database, start_straight, warm_up, work_human_case
from bench.workload import HumanCase

ROOT = Path(__file__).resolve().parent.parent
TOP = 25
Func = tuple[str, int, str]  # (file, line, name) as pstats keys it; file is "~" for C functions

SQLITE_DRIVER = "SQLite C driver (executing SQL, commit)"
OTHER = "other Python (stdlib, uuid, libraries)"
# Areas of Python code, first match wins. C functions count where their caller is, except SQLite's own.
AREAS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("SQLAlchemy (ORM, Core, pool)", lambda file: "sqlalchemy" in file),
    ("state serialization (Spiff serializer + ours)",
     lambda file: "/SpiffWorkflow/bpmn/serializer/" in file or "/SpiffWorkflow/serializer/" in file
     or file == str(ROOT / "engine" / "runtime" / "serializer.py")),
    ("SpiffWorkflow engine", lambda file: "/SpiffWorkflow/" in file),
    ("BPMN scripts and conditions (exec'd code)", lambda file: file.startswith("<") and not file.startswith("<frozen")),
    ("json", lambda file: "/json/" in file),
    ("bankflow engine (services, sync, sandbox)", lambda file: file.startswith(str(ROOT / "engine"))),
    ("bench harness", lambda file: file.startswith(str(ROOT / "bench"))),
    (OTHER, lambda file: True),
)


def _area(func: Func) -> str:
    file, _, name = func
    if file == "~":
        return SQLITE_DRIVER if "sqlite3." in name else OTHER
    return next(label for label, matches in AREAS if matches(file))


def _where(func: Func) -> str:
    """file:line(name) relative to site-packages or the project, so lines stay readable."""
    file, line, name = func
    if file == "~":
        return name
    for marker in ("site-packages/", f"{ROOT}/", "lib/python"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{file}:{line}({name})"


def _print_areas(stats: pstats.Stats) -> None:
    """Own time summed by library: the short answer to 'SQL, serialization, SpiffWorkflow or our code?'."""
    totals: dict[str, float] = {label: 0.0 for label, _ in AREAS} | {SQLITE_DRIVER: 0.0}
    for func, (_, _, tottime, _, callers) in stats.stats.items():
        if func[0] == "~" and "sqlite3." not in func[2]:
            for caller, (_, _, edge_tottime, _) in callers.items():  # a builtin's time goes to who called it
                totals[_area(caller)] += edge_tottime
        else:
            totals[_area(func)] += tottime
    whole = sum(totals.values())
    say(f"\nOwn time by area, C builtins counted with their caller (total {whole:.2f} s under cProfile):")
    for label, seconds in sorted(totals.items(), key=lambda item: item[1], reverse=True):
        say(f"  {label:<48} {seconds:>8.3f} s  {100 * seconds / whole:5.1f} %")


def _print_top(title: str, rows: list[tuple[Func, tuple[Any, ...]]], total: float) -> None:
    """ms/call is per call of that function; % is of all profiled time."""
    say(f"\n{title}:")
    say(f"{'ncalls':>9} {'tottime s':>10} {'cumtime s':>10} {'cum ms/call':>12} {'cum %':>6}  function")
    for func, (_, ncalls, tottime, cumtime, _) in rows[:TOP]:
        say(f"{ncalls:>9} {tottime:>10.3f} {cumtime:>10.3f} {1000 * cumtime / ncalls:>12.3f} "
            f"{100 * cumtime / total:>6.1f}  {_where(func)}")


def _print_tops(stats: pstats.Stats) -> None:
    """Top functions by cumulative and by own time, then bankflow's own functions by cumulative time."""
    by_cumulative = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)
    total = stats.total_tt
    _print_top(f"Top {TOP} by cumulative time", by_cumulative, total)
    _print_top(f"Top {TOP} by own time (tottime)",
               sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True), total)
    engine = str(ROOT / "engine")
    _print_top(f"Top {TOP} bankflow engine functions by cumulative time",
               [row for row in by_cumulative if row[0][0].startswith(engine)], total)


def profile(workload: str, straight: list[dict[str, Any]], human: list[HumanCase], warmup: int) -> None:
    """Profile the timed part of one SQLite workload (after warm-up), then print where the time went."""
    say(f"Profiling sqlite-{workload}: warm-up {warmup}, then "
        f"{len(straight) if workload == 'straight' else len(human)} instances under cProfile")
    calls = CallLatencies()
    profiler = cProfile.Profile()
    with sqlite_database() as url:
        ctx = prepare_context(url)
        try:
            warm_up(ctx, straight[:warmup], human[:warmup])
            profiler.enable()
            if workload == "straight":
                for variables in straight:
                    start_straight(ctx, calls, variables)
            else:
                for case in human:
                    work_human_case(ctx, calls, case)
            profiler.disable()
        finally:
            ctx.close()
    stats = pstats.Stats(profiler)
    say("Per call type under cProfile: " + ", ".join(
        f"{kind} {summary['calls']}x mean {summary['mean_ms']:.1f} ms" for kind, summary in calls.summary().items()))
    _print_areas(stats)
    _print_tops(stats)
