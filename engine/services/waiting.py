"""What a running case waits for besides people: service jobs, timers, messages and signals.

Read from the case's job rows (and, when its process catches messages or signals, its open
activities) in at most two statements, whatever the case's history; the case page and
`bankflow instance` show it.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.connectors import CONNECTOR_RETRIES
from engine.runtime.waits import catch_events
from engine.services.context import EngineContext
from engine.services.execution import Case
from engine.store import history_rows, job_rows
from engine.views import WaitView, wait_view


def waits_of(ctx: EngineContext, session: Session, case: Case) -> list[WaitView]:
    """The timers, service jobs, messages and signals a running case waits for, soonest first
    (none for a case that is not running: an incident says itself what stopped it)."""
    if case.instance.status != "running":
        return []
    now = ctx.clock.now()
    elements = case.definition.elements
    events = catch_events(case.definition.specs)
    topics = set(ctx.connectors.topics())  # answered by bankflow's own worker

    def name_of(element_id: str | None) -> str | None:
        return (elements.get(element_id) or {}).get("name") if element_id else None

    waits: list[WaitView] = []
    jobs = job_rows.waits_of(session, case.instance.id)
    for job in jobs:
        element_id = job["element_id"]
        if job["kind"] == "timer":
            event = events.get(element_id)
            host = event.attached_to if event else None
            waits.append(wait_view("timer", element_id, name_of(element_id), host, name_of(host),
                                   due_at=job["due_at"], overdue=job["due_at"] <= now))
        else:
            waits.append(_service_wait(job, name_of(element_id), job["topic"] in topics, now))
    if any(event.kind in ("message", "signal") for event in events.values()):
        with_jobs = {job["spiff_task_id"] for job in jobs}
        for activity in history_rows.open_activities(session, case.instance.id):
            event = events.get(activity["element_id"])
            if event is None or event.kind not in ("message", "signal") or activity["spiff_task_id"] in with_jobs:
                continue
            host = event.attached_to
            waits.append(wait_view(event.kind, activity["element_id"], activity["name"] or name_of(
                activity["element_id"]), host, name_of(host), topic=event.event_name))
    return waits


def _service_wait(job: dict[str, Any], name: str | None, answered_here: bool, now) -> WaitView:
    held = job["locked_until"] is not None and job["locked_until"] > now
    return wait_view(
        "service", job["element_id"], name, topic=job["topic"], due_at=job["due_at"], answered_here=answered_here,
        worker=job["locked_by"] if held and job["locked_by"] else None, attempts=job["attempts"],
        last_error=job["last_error"],
        retry_at=job["locked_until"] if held and not job["locked_by"] and job["attempts"] else None,
        retries_left=max(0, CONNECTOR_RETRIES + 1 - job["attempts"]) if answered_here and job["attempts"] else None)
