"""The analytics commands of `bankflow` (docs/architecture.md §7): metrics, export-xes, export-csv, simulate.

Registered on the main group by webui/cli/__init__.py (`COMMANDS`). Each parses its input,
calls one service function and prints the result; the JSON of `metrics --json` is
documented in docs/metrics-json.md.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import click

from engine.errors import BankflowError
from engine.services import demo_data, exports, metrics, simulation, what_if
from engine.json_shapes import csv_export_view, xes_export_view
from webui.cli.common import DATABASE_ID, CliState, emit, fail, progress_bar, service_command, shared_options


class Moment(click.ParamType):
    """An ISO 8601 date (midnight UTC) or date-time (UTC unless it names an offset)."""

    name = "TIME"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), time.min, timezone.utc)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"'{value}' is not a date (2026-03-01) or date-time (2026-03-01T09:00:00Z)", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


MOMENT = Moment()


# --- metrics ---------------------------------------------------------------------------------

@click.command("metrics")
@click.option("--process", "key", help="Process key (default: every process with cases).")
@click.option("--version", type=DATABASE_ID, help="Only this version of the process.")
@click.option("--since", type=MOMENT, help="Start of the window (default: the beginning).")
@click.option("--until", type=MOMENT, help="End of the window (default: now).")
@click.option("--group", help="Only the activities of this lane or candidate group.")
@click.option("--business-time", is_flag=True, help="Durations in working time on the tasks' SLA calendars.")
@service_command
def metrics_command(ctx: Any, as_json: bool, key: str | None, version: int | None, since: datetime | None,
                    until: datetime | None, group: str | None, business_time: bool) -> None:
    """Cycle times, where work waits (bottlenecks), groups and variants of a process."""
    filters: dict[str, Any] = dict(since=since, until=until, group=group, business_time=business_time)
    if key:
        result: Any = metrics.process_metrics(ctx, key, version=version, **filters)
        emit(result, as_json, metrics_text)
    else:
        if version is not None:
            raise click.UsageError("--version needs --process")
        documents = metrics.all_process_metrics(ctx, **filters)
        emit(documents, as_json, lambda docs: "\n\n".join(metrics_text(d) for d in docs) or "no cases yet")


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def metrics_text(m: dict[str, Any]) -> str:
    inst, cycle = m["instances"], m["instances"]["cycle_time"]
    window = f"{m['window']['since'] or 'beginning'} .. {m['window']['until']}"
    title = m["process"] + (f" v{m['version']}" if m["version"] else "")
    notes = [window] + (["business time"] if m["business_time"] else []) \
        + ([f"group {m['group']}"] if m["group"] else [])
    lines = [
        f"{title}  ({', '.join(notes)})",
        f"cases: {inst['started']} started, {inst['completed']} completed, {inst['open']} open"
        f" (oldest {human_duration(inst['oldest_open_age'])}), {inst['sla_breaches']} process SLA breaches",
        f"SLA: {m['sla']['cases']['completed_breached']} of {m['sla']['cases']['completed']} completed cases over "
        f"their end-to-end target, {m['sla']['cases']['open_breached']} open cases past it; "
        f"{m['sla']['tasks']['breaches']} task SLA breaches, {m['sla']['tasks']['open_breached']} open tasks past due",
        f"cycle time: median {human_duration(cycle['median'])}, p90 {human_duration(cycle['p90'])}, "
        f"p95 {human_duration(cycle['p95'])}, max {human_duration(cycle['max'])} over {cycle['count']} cases",
        "",
        f"{'activity':<32} {'share':>6} {'wait%':>6} {'median':>8} {'p90':>8} {'open':>5} {'in':>5} {'out':>5} "
        f"{'rework':>6} {'SLA!':>5}  verdict",
    ]
    for a in m["activities"]:
        if not (a["share"] or a["open"] or a["duration"]["mean"]):
            continue  # instantaneous steps (events, scripts) add nothing to read
        lines.append(f"{a['element_id'][:32]:<32} {percent(a['share']):>6} {percent(a['wait_share']):>6} "
                     f"{human_duration(a['duration']['median']):>8} {human_duration(a['duration']['p90']):>8} "
                     f"{a['open']:>5} {a['arrivals']:>5} {a['completions']:>5} {a['rework']:>6} "
                     f"{a['sla_breaches']:>5}  {a['verdict']}")
    if m["groups"]:
        lines += ["", f"{'group':<28} {'backlog':>7} {'oldest open':>22} {'handling':>9} {'done/day':>9}"]
        lines += [f"{g['group'][:28]:<28} {g['backlog']:>7} {g['oldest_open_at'] or '-':>22} "
                  f"{human_duration(g['mean_handling']):>9} {g['completions_per_day']:>9.2f}" for g in m["groups"]]
    if m["variants"]:
        lines += ["", "variants:"]
        lines += [f"{v['count']:>5} ({percent(v['share'])}) median {human_duration(v['median_cycle_time'])}: "
                  + " > ".join(v["path"]) for v in m["variants"][:10]]
    return "\n".join(lines)


# --- exports ---------------------------------------------------------------------------------

@click.command("export-xes")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--process", "key", help="Only this process (default: all).")
@click.option("--since", type=MOMENT, help="Only cases started at or after this time.")
@service_command
def export_xes_command(ctx: Any, as_json: bool, file: str, key: str | None, since: datetime | None) -> None:
    """Write the history as an IEEE 1849 XES event log (pm4py, ProM, Celonis)."""
    result = exports.export_xes(ctx, file, key=key, since=since)
    emit(xes_export_view(file, result), as_json,
         lambda r: f"{r['file']}: {r['traces']} cases, {r['events']} events")


@click.command("export-csv")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--process", "key", help="Only this process (default: every process with cases).")
@click.option("--since", type=MOMENT)
@click.option("--until", type=MOMENT)
@click.option("--business-time", is_flag=True)
@service_command
def export_csv_command(ctx: Any, as_json: bool, directory: str, key: str | None, since: datetime | None,
                       until: datetime | None, business_time: bool) -> None:
    """Write each table of `bankflow metrics` as a CSV file into DIRECTORY."""
    result = exports.export_csv(ctx, directory, key=key, since=since, until=until, business_time=business_time)
    emit(csv_export_view(result), as_json, lambda r: "\n".join(f"{f['path']}: {f['rows']} rows" for f in r["files"].values()))


# --- simulate --------------------------------------------------------------------------------

@click.command("simulate")
@click.option("--process", "keys", multiple=True, help="Simulate this process with its default scenario "
              "(repeatable; default: the whole library unless --scenario is given).")
@click.option("--scenario", "scenario_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A scenario file (repeatable); format in docs/metrics-json.md (Scenarios).")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="Virtual days to run [default: 20].")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same run.")
@click.option("--compare", "compare_file", type=click.Path(exists=True, dir_okay=False),
              help="Also run this scenario (on its own fresh database) and show both side by side.")
@click.option("--start", type=MOMENT, help="Virtual start (default: midnight UTC, DAYS days ago).")
@click.option("--keep", type=click.Path(dir_okay=False), help="Keep the simulated database as this SQLite file.")
@click.option("--library", type=click.Path(file_okay=False, exists=True),
              help="Process library folder (default: the repository's processes/).")
@shared_options
@click.pass_context
def simulate_command(click_ctx: click.Context, keys: tuple[str, ...], scenario_files: tuple[str, ...],
                     days: int | None, seed: int, compare_file: str | None, start: datetime | None,
                     keep: str | None, library: str | None) -> None:
    """Run real cases through the engine on a virtual clock and report where the work waits.

    Runs on a fresh database of its own (temporary unless --keep), never the one of
    --database-url: `bankflow demo --history` fills that one.
    """
    state = click_ctx.ensure_object(CliState)
    folder = Path(library) if library else demo_data.LIBRARY
    try:
        plan = simulation.load_scenarios(list(scenario_files), folder)
        if keys or not plan:
            plan += simulation.default_scenarios(list(keys), folder)
        days = days or max((s.days or 0) for s in plan) or 20
        if compare_file:
            other = simulation.load_scenarios([compare_file], folder)
            result = what_if.compare(plan, other, days, seed, start, progress_bar(days, 2, state.as_json), folder)
            emit(result, state.as_json, compare_text)
        else:
            result = what_if.simulate(None, plan, days, seed, start, progress_bar(days, 1, state.as_json),
                                      folder, keep=keep)
            emit(result, state.as_json, summary_text)
    except BankflowError as exc:
        fail(exc.problems())


def summary_text(r: dict[str, Any]) -> str:
    c = r["counters"]
    lines = [f"simulated {r['days']} days from {r['start']} (seed {r['seed']}): {c['cases_started']} cases, "
             f"{c['tasks_completed']} tasks done, {c['service_jobs']} service calls, {c['timer_jobs']} timer and "
             f"SLA jobs; {r['cases_per_second']} cases/s"]
    for p in r["processes"]:
        top = p["bottleneck"]
        lines.append(
            f"  {p['process']:<32} {p['completed']:>4}/{p['started']:<4} done, median {_d(p['cycle_time_median_days'])}"
            f", p90 {_d(p['cycle_time_p90_days'])}, {p['sla_breaches']} SLA breaches; bottleneck: "
            + (f"{top['element_id']} ({percent(top['share'])} of cycle time, {top['verdict']})" if top else "-"))
    if r["database"] and "bankflow-sim-" not in r["database"]:
        lines.append(f"database kept: bankflow --database-url {r['database']} metrics")
    return "\n".join(lines)


def _d(days: float | None) -> str:
    return "-" if days is None else f"{days:.1f}d"


def compare_text(r: dict[str, Any]) -> str:
    a_name = ", ".join(p["scenario"] for p in r["a"]["processes"])
    b_name = ", ".join(p["scenario"] for p in r["b"]["processes"])
    lines = [f"A: {a_name}", f"B: {b_name}", ""]
    for row in r["comparison"]:
        a, b = row["a"], row["b"]
        if "cycle time" in row["figure"]:
            lines.append(f"{row['process']}: {row['figure']}: {human_duration(a)} → {human_duration(b)}")
        elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
            lines.append(f"{row['process']}: {row['figure']}: {a} → {b}")
        else:
            lines.append(f"{row['process']}: {row['figure']}: {a or '-'} → {b or '-'}")
    return "\n".join(lines)


COMMANDS = [metrics_command, export_xes_command, export_csv_command, simulate_command]
