"""Managers' SLA overrides per definition version (`bankflow sla set`)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.audit import record
from engine.services.context import EngineContext
from engine.deployments import find_definition
from engine.errors import FieldProblem, InvalidData
from engine.sla.calendar import ALWAYS_OPEN_NAME
from engine.sla.durations import DurationError, parse_duration
from engine.sla.registry import DEFAULT_NAME
from engine.store.models import SlaOverride
from engine.services.unit_of_work import unit_of_work
from engine.users import load_actor

WORK_ELEMENTS = ("userTask", "manualTask")


def set_target(ctx: EngineContext, key: str, duration: str, version: int | None = None,
               element_id: str | None = None, calendar: str | None = None,
               user: str | None = None) -> dict[str, Any]:
    """Set the SLA of a task (or, without `element_id`, of the whole process) for one version.

    Applies to tasks and instances created from now on; due dates already fixed stay.
    """
    problems = []
    try:
        parse_duration(duration)
    except DurationError as exc:
        problems.append(FieldProblem("duration", str(exc)))
    with unit_of_work(ctx) as session:
        if user:
            actor = load_actor(session, user)
            if not actor.has_role("manager", "admin"):
                problems.append(FieldProblem("user", f"{actor.name} is not a manager or admin"))
        definition = find_definition(session, key, version)
        if element_id is not None:
            meta = definition.elements.get(element_id)
            if meta is None or meta["type"] not in WORK_ELEMENTS:
                tasks = sorted(e for e, m in definition.elements.items() if m["type"] in WORK_ELEMENTS)
                problems.append(FieldProblem("task", f"'{element_id}' is not a user task of {key} "
                                                     f"v{definition.version} (its tasks: {', '.join(tasks)})"))
        ctx.calendars.refresh(session)
        if calendar not in (None, ALWAYS_OPEN_NAME, DEFAULT_NAME) and calendar not in ctx.calendars.names():
            problems.append(FieldProblem("calendar", f"unknown calendar '{calendar}' (loaded: "
                                                     f"{', '.join(ctx.calendars.names()) or 'none'}, or 24x7)"))
        if problems:
            raise InvalidData(problems, summary="cannot set the SLA")
        override = session.scalar(select(SlaOverride).where(SlaOverride.definition_id == definition.id,
                                                            SlaOverride.element_id.is_(None) if element_id is None
                                                            else SlaOverride.element_id == element_id))
        override = override or SlaOverride(definition_id=definition.id, element_id=element_id)
        override.duration, override.calendar = duration, calendar
        override.set_by, override.set_at = user, ctx.clock.now()
        session.add(override)
        record(session, "sla_target_set", override.set_at, actor=user, element_id=element_id,
               payload={"key": key, "version": definition.version, "duration": duration, "calendar": calendar})
        result = {"key": key, "version": definition.version, "task": element_id, "duration": duration,
                  "calendar": calendar}
        definition_id = definition.id
    ctx.sla_overrides.forget(definition_id)
    return result
