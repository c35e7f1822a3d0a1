"""Managers' SLA targets per definition version (`bankflow sla set`)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.errors import N_, FieldProblem, InvalidData, Listing
from engine.policy.roles import SUPERVISORS
from engine.records.sla_targets import SlaTargetRecord
from engine.services.context import EngineContext
from engine.services.execution import find_definition_id, refresh_calendars
from engine.services.limits import length_problems
from engine.services.unit_of_work import unit_of_work
from engine.services.users import acting, require_role
from engine.sla.business_calendar import ALWAYS_OPEN_NAME
from engine.sla.calendar_cache import DEFAULT_NAME
from engine.sla.durations import DurationError, parse_duration, parse_iso_duration
from engine.sla.set_targets import SetTarget
from engine.store.models import SlaTarget

WORK_ELEMENTS = ("userTask", "manualTask")


def set_target(ctx: EngineContext, key: str, duration: str, version: int | None = None,
               element_id: str | None = None, calendar: str | None = None,
               user: str | None = None) -> SlaTargetRecord:
    """Set the SLA of a task (or, without `element_id`, of the whole process) for one version.
    Needs `manager` or `admin`.

    Applies to tasks and instances created from now on; due dates already fixed stay.
    """
    problems = length_problems(("duration", duration, SlaTarget.duration))
    try:
        parse_duration(duration)
    except DurationError as exc:
        problems.append(FieldProblem("duration", exc.message))
    with unit_of_work(ctx) as uow:
        actor = acting(uow, user)
        require_role(actor, *SUPERVISORS, to=N_("set SLA targets"))
        definition = uow.definitions.get(find_definition_id(uow, key, version))
        if element_id is not None:
            meta = definition.elements.get(element_id)
            if meta is None or meta["type"] not in WORK_ELEMENTS:
                tasks = sorted(e for e, m in definition.elements.items() if m["type"] in WORK_ELEMENTS)
                problems.append(FieldProblem("task", "'%(element)s' is not a user task of %(key)s v%(version)s (its "
                                                     "tasks: %(tasks)s)", element=element_id, key=key,
                                             version=definition.version, tasks=Listing(tasks, "list")))
        refresh_calendars(ctx, uow)
        if calendar not in (None, ALWAYS_OPEN_NAME, DEFAULT_NAME) and calendar not in ctx.calendars.names():
            loaded = ctx.calendars.names()
            if loaded:
                problems.append(FieldProblem("calendar", "unknown calendar '%(calendar)s' (loaded: %(loaded)s, or "
                                                         "24x7)", calendar=calendar, loaded=Listing(loaded, "list")))
            else:
                problems.append(FieldProblem("calendar", "unknown calendar '%(calendar)s' (loaded: none, or 24x7)",
                                             calendar=calendar))
        if problems:
            raise InvalidData(problems, summary=N_("cannot set the SLA"))
        now = ctx.clock.now()
        uow.sla_targets.save(definition.id, element_id, SetTarget(duration, calendar), actor.name, now)
        uow.history.record("sla_target_set", now, actor=actor.name, element_id=element_id,
                           payload={"key": key, "version": definition.version, "duration": duration,
                                    "calendar": calendar})
    ctx.set_targets.forget(definition.id)
    return SlaTargetRecord(key=key, version=definition.version, element_id=element_id, duration=duration,
                           calendar=calendar)


@dataclass(frozen=True)
class TargetParts:
    """An SLA target (`P2D`, `PT4H`, `P1DT4H30M`) split as people say it. On a business calendar days
    count working days (a week is five of them, so weeks are given as days) and hours working time;
    on `24x7` everything is elapsed time."""

    business: bool
    weeks: Decimal
    days: Decimal
    hours: int
    minutes: int
    seconds: int


def target_parts(duration: str | None, calendar: str | None = None) -> TargetParts | None:
    """`duration` on `calendar` (None: the default calendar, a business one) in parts; None when it is
    empty or not a duration an SLA may have (a page then shows it as written)."""
    try:
        parsed = parse_iso_duration(duration) if duration else None
    except DurationError:
        return None
    if parsed is None or parsed.months:
        return None
    business = calendar != ALWAYS_OPEN_NAME
    seconds = round(parsed.span.total_seconds())
    return TargetParts(business, Decimal(0) if business else parsed.weeks,
                       parsed.days + 5 * parsed.weeks if business else parsed.days,
                       seconds // 3600, seconds % 3600 // 60, seconds % 60)
