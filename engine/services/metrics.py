"""Process metrics (docs/metrics-json.md): cycle times, where the work waits, groups, variants.

`process_metrics` is the one function behind `bankflow metrics` and the
dashboard, so the two can never disagree. It is one read-only unit of work
running a fixed number of aggregate statements (the read model `uow.metrics`); the
shape of its answer is documented in docs/metrics-json.md.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from engine.analytics import report
from engine.analytics.business_time import DayTable, build_day_table
from engine.errors import FieldProblem, InvalidData, NotFound
from engine.records.analytics import MeasuredVersion, RawMetrics, Scope
from engine.services.context import EngineContext
from engine.services.execution import refresh_calendars
from engine.services.unit_of_work import unit_of_work
from engine.store.unit_of_work import UnitOfWork
from engine.json_shapes import iso

VARIANTS_LIMIT = 20


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
    with unit_of_work(ctx, read_only=True) as uow:
        definitions = _definitions(uow, key, version)
        elements = _elements(definitions)
        scope = Scope(
            definition_ids=tuple(d.id for d in definitions), since=since, until=until,
            elements=_group_elements(elements, group) if group else None, group=group,
            definition_calendars={d.id: d.sla_calendar for d in definitions})
        instances = uow.metrics.case_figures(scope)
        if instances.first_started_at is None:
            raw = RawMetrics(instances=instances)
        else:
            days = business_days(ctx, uow, instances.first_started_at, until) if business_time else None
            raw = uow.metrics.raw_metrics(scope, instances, variants_limit, days)
    human = [eid for eid, meta in elements.items() if meta.get("type") in report.HUMAN_TYPES]
    return report.build(key=key, version=version, since=since, until=until, group=group,
                        business_time=business_time, raw=raw, elements=elements, iso=iso, human_elements=human)


def all_process_metrics(ctx: EngineContext, **filters: Any) -> list[dict[str, Any]]:
    """`process_metrics` of every deployed process that has instances, by key."""
    with unit_of_work(ctx, read_only=True) as uow:
        keys = uow.metrics.keys_with_cases()
    return [process_metrics(ctx, key, **filters) for key in keys]


def business_days(ctx: EngineContext, uow: UnitOfWork, first: datetime, until: datetime) -> DayTable:
    """The business-time day table of the calendars in force (`ctx.calendars`), from `first` to `until`."""
    refresh_calendars(ctx, uow)
    calendars, default = ctx.calendars.in_force()
    return build_day_table(calendars, default, first, until)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidData([FieldProblem(name, "must name its timezone (or be UTC)")])
    return value.astimezone(timezone.utc)


def _definitions(uow: UnitOfWork, key: str, version: int | None) -> list[MeasuredVersion]:
    definitions = uow.metrics.versions(key, version)
    if not definitions:
        if version is not None:
            raise NotFound("process '%(key)s' has no version %(version)s", key=key, version=version)
        raise NotFound("process '%(key)s' is not deployed", key=key)
    return definitions


def _elements(definitions: list[MeasuredVersion]) -> dict[str, dict[str, Any]]:
    """Element metadata of every version, the newest version's where they differ."""
    merged: dict[str, dict[str, Any]] = {}
    for definition in reversed(definitions):  # oldest first, newer ones overwrite
        merged.update(definition.elements)
    return merged


def _group_elements(elements: dict[str, dict[str, Any]], group: str) -> tuple[str, ...]:
    """The elements of lane `group`, and the tasks that name it as a candidate group."""
    return tuple(sorted(eid for eid, meta in elements.items()
                        if meta.get("lane") == group or group in (meta.get("candidate_groups") or [])))
