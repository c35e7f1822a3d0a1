"""The operations dashboard (managers and admins): processes at a glance, one process's
bottlenecks on its diagram, charts, drill-down, the SLA board and exports.

Every figure of the metrics document comes from `metrics.process_metrics`, the
call behind `bankflow metrics`, so the page and the command line never disagree.
What the dashboard adds (histogram, weekly trend, arrivals and completions per
day, an activity's slowest cases, the SLA board) comes from the read model
`uow.dashboard`, a fixed number of statements per page. The answers are the records
of engine.records.dashboard.
"""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from engine.analytics import csv_tables, report
from engine.errors import N_, NotFound
from engine.policy.roles import SUPERVISORS
from engine.records.analytics import Scope, Statistics
from engine.records.dashboard import (
    DayFlow,
    GroupBacklog,
    Heat,
    HistogramBar,
    Overview,
    OverviewRow,
    ProcessChoice,
    ProcessPage,
    SlaBoard,
    SlaBoardCount,
    SlaBoardTask,
    SlowCase,
    SlowExecution,
    WeekPoint,
    Window,
)
from engine.services import exports, metrics
from engine.services.context import EngineContext
from engine.services.deployments import process_source
from engine.services.execution import refresh_calendars
from engine.services.tasks import handover_candidates
from engine.services.unit_of_work import unit_of_work
from engine.services.users import acting, require_role
from engine.store.unit_of_work import UnitOfWork
from engine.json_shapes import iso

MEASURES = ("duration", "share", "wait_share", "open")
HISTOGRAM_BINS = 20
SLA_BOARD_LIMIT = 500  # late tasks on the board; filter by process or group to see others
PROCESS_TABLES = ("activities", "groups", "variants", "throughput", "histogram", "trend", "flow", "slowest")
TREND_COLUMNS = ["week", "count", "median", "p90"]
HISTOGRAM_COLUMNS = ["from_seconds", "to_seconds", "count"]
FLOW_COLUMNS = ["day", "arrivals", "completions"]
SLOWEST_COLUMNS = ["instance_id", "business_key", "started_at", "ended_at", "by", "wait", "work", "duration"]
SLA_COLUMNS = ["task_id", "process", "task", "element_id", "sla", "status", "assignee", "groups", "created_at",
               "due_at", "instance_id", "business_key"]
OVERVIEW_COLUMNS = ["process", "name", "started", "completed", "open", "cycle_time_median", "cycle_time_p90",
                    *csv_tables.SLA_COLUMNS, "oldest_open_started_at"]


def _require_manager(uow: UnitOfWork, user: str | None) -> None:
    require_role(acting(uow, user), *SUPERVISORS, to=N_("open the dashboard"))


def check_access(ctx: EngineContext, user: str | None) -> None:
    """Refuse (PermissionDenied) unless `user` is a manager or an admin."""
    with unit_of_work(ctx, read_only=True) as uow:
        _require_manager(uow, user)


# --- /dashboard ----------------------------------------------------------------------------------

def overview(ctx: EngineContext, user: str | None, since: datetime | None = None, until: datetime | None = None,
             version: int | None = None) -> Overview:
    """Every process with cases: started and completed in the window, median and p90 cycle time with
    the weekly median trend, the case SLA and the task SLA figures of the metrics document (`sla`),
    open cases and the oldest open case."""
    until = until or ctx.clock.now()
    with unit_of_work(ctx, read_only=True) as uow:
        _require_manager(uow, user)
        named = uow.dashboard.versions_with_cases()
        trend_rows = uow.dashboard.weekly_trends(since, until)
    names: dict[str, str] = {}
    versions: set[int] = set()
    for row in named:
        names[row.key] = row.name or row.key
        versions.add(row.version)
    trends: dict[str, list[WeekPoint]] = {}
    for point in trend_rows:
        trends.setdefault(point.m, []).append(_trend_point(point))
    processes = []
    for key, name in names.items():
        try:
            doc = metrics.process_metrics(ctx, key, version=version, since=since, until=until, variants_limit=0)
        except NotFound:
            continue  # no such version of this process
        inst = doc["instances"]
        processes.append(OverviewRow(
            process=key, name=name, started=inst["started"], completed=inst["completed"], open=inst["open"],
            cycle_time_median=inst["cycle_time"]["median"], cycle_time_p90=inst["cycle_time"]["p90"],
            sla=doc["sla"], oldest_open_started_at=inst["oldest_open_started_at"],
            trend=tuple(trends.get(key, [])) if version is None else ()))
    return Overview(window=Window(since=iso(since), until=iso(until)), version=version,
                    versions=tuple(sorted(versions)), processes=tuple(processes))


def _trend_point(row: Statistics) -> WeekPoint:
    stats = report.stats_from_row(row)
    return WeekPoint(week=row.g, count=stats["count"], median=stats["median"], p90=stats["p90"])


# --- /dashboard/<key> ------------------------------------------------------------------------------

def process_page(ctx: EngineContext, user: str | None, key: str, version: int | None = None,
                 since: datetime | None = None, until: datetime | None = None, business_time: bool = False,
                 element: str | None = None) -> ProcessPage:
    """Everything `/dashboard/<key>` shows: the metrics document (exactly `bankflow metrics --json`),
    each activity's heat per measure, the charts' figures and the drill-down of `element`."""
    until = until or ctx.clock.now()
    check_access(ctx, user)
    doc = metrics.process_metrics(ctx, key, version=version, since=since, until=until, business_time=business_time)
    activities = {a["element_id"]: a for a in doc["activities"]}
    if element is not None and element not in activities:
        raise NotFound("activity '%(element)s' has no history in this window", element=element)
    upper = doc["instances"]["cycle_time"]["max"] or 0.0
    with unit_of_work(ctx, read_only=True) as uow:
        definitions = uow.dashboard.versions(key)
        chosen = [d for d in definitions if version is None or d.version == version]
        scope = Scope(definition_ids=tuple(d.id for d in chosen), since=since, until=until,
                      definition_calendars={d.id: d.sla_calendar for d in chosen})
        refresh_calendars(ctx, uow)
        has_calendars = bool(ctx.calendars.names())
        days = None
        if business_time:
            first = uow.dashboard.first_started_at(scope.definition_ids)
            days = metrics.business_days(ctx, uow, first, until) if first is not None else None
        drill = (element, activities[element]["type"]) if element is not None else None
        charts = uow.dashboard.charts(scope, upper, HISTOGRAM_BINS, drill, days)
    counts = {int(r.bin): int(r.n) for r in charts.histogram}
    width = upper / HISTOGRAM_BINS if upper else 0.0
    histogram = tuple(HistogramBar(from_seconds=round(i * width, 3), to_seconds=round((i + 1) * width, 3),
                                   count=counts.get(i, 0)) for i in range(HISTOGRAM_BINS)) if upper else ()
    flow: dict[str, dict[str, int]] = {}
    for row in charts.flow:
        flow.setdefault(row.day, {"arrivals": 0, "completions": 0})[row.kind] = int(row.n)
    return ProcessPage(
        process=key,
        name=chosen[0].name if chosen else key,
        version=version,
        versions=tuple(d.version for d in definitions),
        business_time=business_time,
        has_calendars=has_calendars,
        metrics=doc,
        heat=heat(doc),
        histogram=histogram,
        trend=tuple(_trend_point(r) for r in charts.trend),
        flow=tuple(DayFlow(day=day, **flow[day]) for day in sorted(flow)),
        groups=tuple(GroupBacklog(group=g["group"], backlog=g["backlog"]) for g in doc["groups"] if not g["customer"]),
        element=activities[element] if element is not None else None,
        slowest=tuple(_slow_case(r) for r in charts.slowest),
    )


def heat(doc: dict[str, Any]) -> dict[str, dict[str, Heat]]:
    """Each activity's value and heat (0..1) per measure: median duration, share and open count
    scaled by the largest of the process; wait share is already a fraction."""
    values = {}
    for a in doc["activities"]:
        if a["type"] in report.CONTAINER_TYPES:
            continue
        values[a["element_id"]] = {"duration": a["duration"]["median"], "share": a["share"],
                                   "wait_share": a["wait_share"], "open": a["open"]}
    result: dict[str, dict[str, Heat]] = {eid: {} for eid in values}
    for measure in MEASURES:
        top = max((v[measure] or 0 for v in values.values()), default=0) or 0
        for eid, v in values.items():
            value = v[measure]
            if measure == "wait_share":
                scaled = value
            else:
                scaled = (value or 0) / top if top else (0.0 if value is not None else None)
            result[eid][measure] = Heat(value=value, heat=None if scaled is None else round(min(1.0, scaled), 4))
    return result


def _slow_case(row: SlowExecution) -> SlowCase:
    return SlowCase(instance_id=row.instance_id, business_key=row.business_key, started_at=iso(row.started_at),
                    ended_at=iso(row.ended_at), by=row.by, wait=report.seconds(row.wait),
                    work=report.seconds(row.work), duration=report.seconds(row.duration))


def diagram(ctx: EngineContext, user: str | None, key: str, version: int | None = None) -> bytes:
    """The BPMN file of `key` (the newest version, or `version`), for drawing the heatmap."""
    with unit_of_work(ctx, read_only=True) as uow:
        _require_manager(uow, user)
        definition_id = uow.dashboard.definition_id(key, version)
        if definition_id is None:
            raise NotFound("process '%(key)s' is not deployed", key=key)
        return process_source(uow, definition_id, key).content


# --- /dashboard/sla ------------------------------------------------------------------------------

def sla_board(ctx: EngineContext, user: str | None, key: str | None = None, group: str | None = None) -> SlaBoard:
    """Open tasks at risk or breached (breached first, then at risk, each by due time; at most
    SLA_BOARD_LIMIT) with who holds them and to whom each can be handed (`candidates`: who may take
    it, with how many tasks they hold), and how many there are per process and group. `processes`:
    every process key with the name of its newest version."""
    now = ctx.clock.now()
    with unit_of_work(ctx, read_only=True) as uow:
        _require_manager(uow, user)
        rows = uow.dashboard.late_tasks(now, SLA_BOARD_LIMIT, key, group)
        counts = uow.dashboard.late_task_counts(now, key, group)
        names = {k: n or k for k, n in uow.dashboard.process_names().items()}
        candidates = handover_candidates(uow, rows)
    tasks = tuple(SlaBoardTask(
        task_id=r.id, process=r.process, process_name=r.process_name or r.process, task=r.name or r.element_id,
        element_id=r.element_id, sla=r.sla, status=r.status, assignee=r.assignee,
        groups=r.candidate_groups or ((r.lane,) if r.lane else ()), candidate_users=r.candidate_users,
        created_at=iso(r.created_at), due_at=iso(r.due_at), instance_id=r.instance_id, business_key=r.business_key,
        candidates=tuple(candidates[r.id])) for r in rows)
    return SlaBoard(now=iso(now), process=key, group=group,
                    processes=tuple(ProcessChoice(key=k, name=n) for k, n in names.items()),
                    limit=SLA_BOARD_LIMIT, tasks=tasks,
                    counts=tuple(SlaBoardCount(process=c.process, process_name=names.get(c.process, c.process),
                                               group=c.group, at_risk=int(c.at_risk or 0),
                                               breached=int(c.breached or 0)) for c in counts))


# --- exports -------------------------------------------------------------------------------------

def process_csv(ctx: EngineContext, user: str | None, key: str, table: str, **filters: Any) -> str:
    """One table of `/dashboard/<key>` as CSV (the tables of `bankflow export-csv`, and the charts')."""
    if table not in PROCESS_TABLES:
        raise NotFound("no table '%(table)s'", table=table)
    page = process_page(ctx, user, key, **filters)
    if table in csv_tables.TABLES:
        return exports.csv_text(csv_tables.TABLES[table], csv_tables.tables([page.metrics])[table])
    columns = {"histogram": HISTOGRAM_COLUMNS, "trend": TREND_COLUMNS, "flow": FLOW_COLUMNS,
               "slowest": SLOWEST_COLUMNS}[table]
    return exports.csv_text(columns, [vars(row) for row in getattr(page, table)])


def overview_csv(ctx: EngineContext, user: str | None, **filters: Any) -> str:
    rows = overview(ctx, user, **filters).processes
    return exports.csv_text(OVERVIEW_COLUMNS, [{**vars(row), **csv_tables.sla_row(row.sla)} for row in rows])


def sla_csv(ctx: EngineContext, user: str | None, **filters: Any) -> str:
    tasks = sla_board(ctx, user, **filters).tasks
    return exports.csv_text(SLA_COLUMNS, [{**vars(t), "groups": " ".join(t.groups)} for t in tasks])


def process_xes(ctx: EngineContext, user: str | None, key: str, since: datetime | None = None) -> str:
    """The XES event log of `key`'s cases started at or after `since` (exports.export_xes)."""
    check_access(ctx, user)
    buffer = io.StringIO()
    exports.export_xes(ctx, buffer, key=key, since=since)
    return buffer.getvalue()
