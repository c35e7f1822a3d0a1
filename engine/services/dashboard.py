"""The operations dashboard (managers and admins): processes at a glance, one process's
bottlenecks on its diagram, charts, drill-down, the SLA board and exports.

Every figure of the metrics document comes from `metrics.process_metrics`, the
call behind `bankflow metrics`, so the page and the command line never disagree.
What the dashboard adds (histogram, weekly trend, arrivals and completions per
day, an activity's slowest cases, the SLA board) are the aggregates of
engine.analytics.dashboard_queries, a fixed number of statements per page.
"""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.analytics import dashboard_queries as dq
from engine.analytics import report, tables
from engine.analytics.queries import BusinessTime, ElapsedTime, Scope
from engine.analytics.sql import Dialect
from engine.errors import N_, NotFound
from engine.services import exports, metrics
from engine.services.context import EngineContext
from engine.services.deployments import process_source
from engine.services.tasks import handover_candidates
from engine.services.unit_of_work import unit_of_work
from engine.services.users import acting, require_role
from engine.store.tables import DEFINITION, INSTANCE
from engine.views import iso

MEASURES = ("duration", "share", "wait_share", "open")
HISTOGRAM_BINS = 20
PROCESS_TABLES = ("activities", "groups", "variants", "throughput", "histogram", "trend", "flow", "slowest")
TREND_COLUMNS = ["week", "count", "median", "p90"]
HISTOGRAM_COLUMNS = ["from_seconds", "to_seconds", "count"]
FLOW_COLUMNS = ["day", "arrivals", "completions"]
SLOWEST_COLUMNS = ["instance_id", "business_key", "started_at", "ended_at", "by", "wait", "work", "duration"]
SLA_COLUMNS = ["task_id", "process", "task", "element_id", "sla", "status", "assignee", "groups", "created_at",
               "due_at", "instance_id", "business_key"]
OVERVIEW_COLUMNS = ["process", "name", "started", "completed", "open", "cycle_time_median", "cycle_time_p90",
                    *tables.SLA_COLUMNS, "oldest_open_started_at"]


def _require_manager(session: Any, user: str | None) -> None:
    require_role(acting(session, user), "manager", "admin", to=N_("open the dashboard"))


def check_access(ctx: EngineContext, user: str | None) -> None:
    """Refuse (PermissionDenied) unless `user` is a manager or an admin."""
    with unit_of_work(ctx, read_only=True) as session:
        _require_manager(session, user)


# --- /dashboard ----------------------------------------------------------------------------------

def overview(ctx: EngineContext, user: str | None, since: datetime | None = None, until: datetime | None = None,
             version: int | None = None) -> dict[str, Any]:
    """Every process with cases: started and completed in the window, median and p90 cycle time with
    the weekly median trend, the case SLA and the task SLA figures of the metrics document (`sla`),
    open cases and the oldest open case."""
    until = until or ctx.clock.now()
    with unit_of_work(ctx, read_only=True) as session:
        _require_manager(session, user)
        dialect = Dialect(ctx.db.dialect.name)
        named = session.execute(
            select(DEFINITION.c.key, DEFINITION.c.name, DEFINITION.c.version)
            .where(DEFINITION.c.id.in_(select(INSTANCE.c.definition_id).distinct()))
            .order_by(DEFINITION.c.key, DEFINITION.c.version)).all()
        trend_rows = session.execute(dq.weekly_trend_all(dialect, since, until, ElapsedTime(dialect))).all()
    names: dict[str, str] = {}
    versions: set[int] = set()
    for row in named:
        names[row.key] = row.name or row.key
        versions.add(row.version)
    trends: dict[str, list[dict[str, Any]]] = {}
    for row in trend_rows:
        trends.setdefault(row.m, []).append(_trend_point(row))
    processes = []
    for key, name in names.items():
        try:
            doc = metrics.process_metrics(ctx, key, version=version, since=since, until=until, variants_limit=0)
        except NotFound:
            continue  # no such version of this process
        inst = doc["instances"]
        processes.append({
            "process": key, "name": name, "started": inst["started"], "completed": inst["completed"],
            "open": inst["open"], "cycle_time_median": inst["cycle_time"]["median"],
            "cycle_time_p90": inst["cycle_time"]["p90"], "sla": doc["sla"], **tables.sla_row(doc),
            "oldest_open_started_at": inst["oldest_open_started_at"],
            "trend": trends.get(key, []) if version is None else [],
        })
    return {"window": {"since": iso(since), "until": iso(until)}, "version": version,
            "versions": sorted(versions), "processes": processes}


def _trend_point(row: Any) -> dict[str, Any]:
    stats = report.stats_from_row(row)
    return {"week": row.g, "count": stats["count"], "median": stats["median"], "p90": stats["p90"]}


# --- /dashboard/<key> ------------------------------------------------------------------------------

def process_page(ctx: EngineContext, user: str | None, key: str, version: int | None = None,
                 since: datetime | None = None, until: datetime | None = None, business_time: bool = False,
                 element: str | None = None) -> dict[str, Any]:
    """Everything `/dashboard/<key>` shows: the metrics document (exactly `bankflow metrics --json`),
    each activity's heat per measure, the charts' figures and the drill-down of `element`."""
    until = until or ctx.clock.now()
    check_access(ctx, user)
    doc = metrics.process_metrics(ctx, key, version=version, since=since, until=until, business_time=business_time)
    dialect = Dialect(ctx.db.dialect.name)
    activities = {a["element_id"]: a for a in doc["activities"]}
    if element is not None and element not in activities:
        raise NotFound("activity '%(element)s' has no history in this window", element=element)
    with unit_of_work(ctx, read_only=True) as session:
        definitions = session.execute(
            select(DEFINITION.c.id, DEFINITION.c.version, DEFINITION.c.name, DEFINITION.c.sla_calendar)
            .where(DEFINITION.c.key == key).order_by(DEFINITION.c.version.desc())).all()
        chosen = [d for d in definitions if version is None or d.version == version]
        scope = Scope(definition_ids=tuple(d.id for d in chosen), since=since, until=until,
                      definition_calendars={d.id: d.sla_calendar for d in chosen})
        has_calendars = session.scalar(select(metrics.CALENDAR_TABLE.c.name).limit(1)) is not None
        measure: Any = ElapsedTime(dialect)
        first = session.scalar(select(INSTANCE.c.started_at).where(INSTANCE.c.definition_id.in_(scope.definition_ids))
                               .order_by(INSTANCE.c.started_at).limit(1))
        if business_time and first is not None:
            measure = BusinessTime(dialect, metrics._day_table(session, first, until))
        queries = dq.DashboardQueries(dialect, scope, measure)
        upper = doc["instances"]["cycle_time"]["max"] or 0.0
        _prepare(measure, session)  # business time on SQLite: the day table as a temporary table
        try:
            histogram_rows = session.execute(queries.histogram(upper, HISTOGRAM_BINS)).all() if upper else []
            trend_rows = session.execute(queries.weekly_trend()).all()
            flow_rows = session.execute(queries.flow_per_day()).all()
            slowest_rows = []
            if element is not None:
                slowest_rows = session.execute(queries.slowest(element, activities[element]["type"])).all()
        finally:
            _finish(measure, session)
    counts = {int(r.bin): int(r.n) for r in histogram_rows}
    width = upper / HISTOGRAM_BINS if upper else 0.0
    histogram = [{"from_seconds": round(i * width, 3), "to_seconds": round((i + 1) * width, 3),
                  "count": counts.get(i, 0)} for i in range(HISTOGRAM_BINS)] if upper else []
    flow: dict[str, dict[str, Any]] = {}
    for row in flow_rows:
        flow.setdefault(row.day, {"day": row.day, "arrivals": 0, "completions": 0})[row.kind] = int(row.n)
    return {
        "process": key,
        "name": chosen[0].name if chosen else key,
        "version": version,
        "versions": [d.version for d in definitions],
        "business_time": business_time,
        "has_calendars": has_calendars,
        "metrics": doc,
        "heat": heat(doc),
        "histogram": histogram,
        "trend": [_trend_point(r) for r in trend_rows],
        "flow": [flow[day] for day in sorted(flow)],
        "groups": [{"group": g["group"], "backlog": g["backlog"]} for g in doc["groups"] if not g["customer"]],
        "element": element and activities[element],
        "slowest": [_slowest_row(r) for r in slowest_rows],
    }


def _prepare(measure: Any, session: Any) -> None:
    if hasattr(measure, "prepare"):
        measure.prepare(session)


def _finish(measure: Any, session: Any) -> None:
    if hasattr(measure, "finish"):
        measure.finish(session)


def heat(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each activity's value and heat (0..1) per measure: median duration, share and open count
    scaled by the largest of the process; wait share is already a fraction."""
    values = {}
    for a in doc["activities"]:
        if a["type"] in report.CONTAINER_TYPES:
            continue
        values[a["element_id"]] = {"duration": a["duration"]["median"], "share": a["share"],
                                   "wait_share": a["wait_share"], "open": a["open"]}
    result: dict[str, dict[str, Any]] = {eid: {} for eid in values}
    for measure in MEASURES:
        top = max((v[measure] or 0 for v in values.values()), default=0) or 0
        for eid, v in values.items():
            value = v[measure]
            if measure == "wait_share":
                scaled = value
            else:
                scaled = (value or 0) / top if top else (0.0 if value is not None else None)
            result[eid][measure] = {"value": value, "heat": None if scaled is None else round(min(1.0, scaled), 4)}
    return result


def _slowest_row(row: Any) -> dict[str, Any]:
    return {"instance_id": row.instance_id, "business_key": row.business_key,
            "started_at": iso(report._utc(row.started_at)), "ended_at": iso(report._utc(row.ended_at)),
            "by": row.by, "wait": report.seconds(row.wait), "work": report.seconds(row.work),
            "duration": report.seconds(row.duration)}


def diagram(ctx: EngineContext, user: str | None, key: str, version: int | None = None) -> bytes:
    """The BPMN file of `key` (the newest version, or `version`), for drawing the heatmap."""
    with unit_of_work(ctx, read_only=True) as session:
        _require_manager(session, user)
        query = select(DEFINITION.c.id).where(DEFINITION.c.key == key).order_by(DEFINITION.c.version.desc())
        if version is not None:
            query = query.where(DEFINITION.c.version == version)
        definition_id = session.scalar(query.limit(1))
        if definition_id is None:
            raise NotFound("process '%(key)s' is not deployed", key=key)
        return process_source(session, definition_id, key).content


# --- /dashboard/sla ------------------------------------------------------------------------------

def sla_board(ctx: EngineContext, user: str | None, key: str | None = None,
              group: str | None = None) -> dict[str, Any]:
    """Open tasks at risk or breached (breached first, then at risk, each by due time; at most
    dq.SLA_BOARD_LIMIT) with who holds them and to whom each can be handed (`candidates`: who may take
    it, with how many tasks they hold), and how many there are per process and group. `processes`:
    every process key with the name of its newest version."""
    now = ctx.clock.now()
    with unit_of_work(ctx, read_only=True) as session:
        _require_manager(session, user)
        rows = session.execute(dq.sla_board(now, key, group)).all()
        counts = session.execute(dq.sla_board_counts(now, key, group)).all()
        names = {r.key: r.name or r.key for r in session.execute(
            select(DEFINITION.c.key, DEFINITION.c.name).order_by(DEFINITION.c.key, DEFINITION.c.version))}
        candidates = handover_candidates(session, [r._mapping for r in rows])
    tasks = [{
        "task_id": r.id, "process": r.process, "process_name": r.process_name or r.process, "task": r.name or r.element_id,
        "element_id": r.element_id, "sla": r.sla, "status": r.status, "assignee": r.assignee,
        "groups": list(r.candidate_groups or []) or ([r.lane] if r.lane else []),
        "candidate_users": list(r.candidate_users or []),
        "created_at": iso(report._utc(r.created_at)), "due_at": iso(report._utc(r.due_at)),
        "instance_id": r.instance_id, "business_key": r.business_key, "candidates": candidates[r.id],
    } for r in rows]
    return {"now": iso(now), "process": key, "group": group,
            "processes": [{"key": k, "name": n} for k, n in names.items()],
            "limit": dq.SLA_BOARD_LIMIT, "tasks": tasks,
            "counts": [{"process": c.process, "process_name": names.get(c.process, c.process), "group": c.group,
                        "at_risk": int(c.at_risk or 0), "breached": int(c.breached or 0)} for c in counts]}


# --- exports -------------------------------------------------------------------------------------

def process_csv(ctx: EngineContext, user: str | None, key: str, table: str, **filters: Any) -> str:
    """One table of `/dashboard/<key>` as CSV (the tables of `bankflow export-csv`, and the charts')."""
    if table not in PROCESS_TABLES:
        raise NotFound("no table '%(table)s'", table=table)
    page = process_page(ctx, user, key, **filters)
    if table in tables.TABLES:
        return exports.csv_text(tables.TABLES[table], tables.tables([page["metrics"]])[table])
    columns = {"histogram": HISTOGRAM_COLUMNS, "trend": TREND_COLUMNS, "flow": FLOW_COLUMNS,
               "slowest": SLOWEST_COLUMNS}[table]
    return exports.csv_text(columns, page[table])


def overview_csv(ctx: EngineContext, user: str | None, **filters: Any) -> str:
    return exports.csv_text(OVERVIEW_COLUMNS, overview(ctx, user, **filters)["processes"])


def sla_csv(ctx: EngineContext, user: str | None, **filters: Any) -> str:
    tasks = sla_board(ctx, user, **filters)["tasks"]
    return exports.csv_text(SLA_COLUMNS, [{**t, "groups": " ".join(t["groups"])} for t in tasks])


def process_xes(ctx: EngineContext, user: str | None, key: str, since: datetime | None = None) -> str:
    """The XES event log of `key`'s cases started at or after `since` (exports.export_xes)."""
    check_access(ctx, user)
    buffer = io.StringIO()
    exports.export_xes(ctx, buffer, key=key, since=since)
    return buffer.getvalue()
