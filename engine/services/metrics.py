"""Process metrics (DESIGN §6): cycle times, where the work waits, groups, variants.

`process_metrics` is the one function behind `bankflow metrics` and the
dashboard, so the two can never disagree. It is one read-only unit of work
running a fixed number of aggregate statements (engine.analytics.queries); the
shape of its answer is documented in docs/metrics-json.md.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, text

from engine.analytics import report
from engine.analytics.business_time import build_day_table
from engine.analytics.queries import (
    HUMAN_TYPES,
    BusinessTime,
    ElapsedTime,
    MetricsQueries,
    RawMetrics,
    Scope,
    run,
)
from engine.analytics.sql import Dialect
from engine.errors import FieldProblem, InvalidData, NotFound
from engine.services.context import EngineContext
from engine.services.unit_of_work import unit_of_work
from engine.store.tables import DEFINITION, INSTANCE
from engine.views import iso

from engine.sla import business_calendar as calendar_module

CALENDAR_TABLE = DEFINITION.metadata.tables["business_calendar"]
VARIANTS_LIMIT = 20
# PostgreSQL: the statistics and variants sort every sample; with the default 4 MB they spill to disk.
POSTGRES_WORK_MEM = "64MB"


def process_metrics(ctx: EngineContext, key: str, version: int | None = None, since: datetime | None = None,
                    until: datetime | None = None, group: str | None = None, business_time: bool = False,
                    variants_limit: int = VARIANTS_LIMIT) -> dict[str, Any]:
    """The metrics of one process (all its versions unless `version`) over [since, until).

    `until` defaults to now; `since` to the beginning of the history. `group` keeps
    the activities of that lane or candidate group. `business_time` measures every
    duration in working time: human tasks on their SLA calendar, everything else on
    the process's SLA calendar (the default calendar when none is named).
    """
    until = _aware(until, "until") if until is not None else ctx.clock.now()
    since = _aware(since, "since") if since is not None else None
    if since is not None and since >= until:
        raise InvalidData([FieldProblem("since", "must be before until")])
    dialect = Dialect(ctx.db.dialect.name)
    with unit_of_work(ctx, read_only=True) as session:
        definitions = _definitions(session, key, version)
        elements = _elements(definitions)
        scope = Scope(
            definition_ids=tuple(d.id for d in definitions), since=since, until=until,
            elements=_group_elements(elements, group) if group else None, group=group,
            definition_calendars={d.id: d.sla_calendar for d in definitions})
        instances = dict(session.execute(MetricsQueries(dialect, scope, ElapsedTime(dialect)).instances())
                         .mappings().one())
        if instances["first_started_at"] is None:
            raw = RawMetrics(instances, [], [], [], [], [], [], [])
        else:
            measure: ElapsedTime | BusinessTime = ElapsedTime(dialect)
            if business_time:
                measure = BusinessTime(dialect, _day_table(session, instances["first_started_at"], until))
            if not dialect.is_sqlite:  # per connection (read sessions autocommit): set, and reset after
                session.execute(text(f"SET work_mem = '{POSTGRES_WORK_MEM}'"))
            try:
                raw = run(session, MetricsQueries(dialect, scope, measure), instances, variants_limit)
            finally:
                if not dialect.is_sqlite:
                    session.execute(text("RESET work_mem"))
    human = [eid for eid, meta in elements.items() if meta.get("type") in HUMAN_TYPES]
    return report.build(key=key, version=version, since=since, until=until, group=group,
                        business_time=business_time, raw=raw, elements=elements, iso=iso, human_elements=human)


def all_process_metrics(ctx: EngineContext, **filters: Any) -> list[dict[str, Any]]:
    """`process_metrics` of every deployed process that has instances, by key."""
    with unit_of_work(ctx, read_only=True) as session:
        keys = session.scalars(
            select(DEFINITION.c.key).where(DEFINITION.c.id.in_(select(INSTANCE.c.definition_id).distinct()))
            .distinct().order_by(DEFINITION.c.key)).all()
    return [process_metrics(ctx, key, **filters) for key in keys]


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidData([FieldProblem(name, "must name its timezone (or be UTC)")])
    return value.astimezone(timezone.utc)


def _definitions(session: Any, key: str, version: int | None) -> list[Any]:
    query = (select(DEFINITION.c.id, DEFINITION.c.version, DEFINITION.c.sla_calendar, DEFINITION.c.elements)
             .where(DEFINITION.c.key == key).order_by(DEFINITION.c.version.desc()))
    if version is not None:
        query = query.where(DEFINITION.c.version == version)
    rows = session.execute(query).all()
    if not rows:
        if version is not None:
            raise NotFound("process '%(key)s' has no version %(version)s", key=key, version=version)
        raise NotFound("process '%(key)s' is not deployed", key=key)
    return rows


def _elements(definitions: list[Any]) -> dict[str, dict[str, Any]]:
    """Element metadata of every version, the newest version's where they differ."""
    merged: dict[str, dict[str, Any]] = {}
    for definition in reversed(definitions):  # oldest first, newer ones overwrite
        merged.update(definition.elements or {})
    return merged


def _group_elements(elements: dict[str, dict[str, Any]], group: str) -> tuple[str, ...]:
    """The elements of lane `group`, and the tasks that name it as a candidate group."""
    return tuple(sorted(eid for eid, meta in elements.items()
                        if meta.get("lane") == group or group in (meta.get("candidate_groups") or [])))


def _day_table(session: Any, first: Any, until: datetime) -> Any:
    rows = session.execute(select(CALENDAR_TABLE.c.name, CALENDAR_TABLE.c.source,
                                  CALENDAR_TABLE.c.is_default)).all()
    calendars = {row.name: calendar_module.parse_calendars(row.source, row.name)[row.name] for row in rows}
    default = next((row.name for row in rows if row.is_default), None)
    return build_day_table(calendars, default, report._utc(first), until)
