"""What a running case waits for besides people: service jobs, timers, messages and signals.

Read from the case's job rows (and, when its process catches messages or signals, its open
activities) in at most two statements, whatever the case's history; the case page and
`bankflow instance` show it.
"""
from __future__ import annotations

from datetime import datetime

from engine.connectors import CONNECTOR_RETRIES
from engine.records.instances import Wait
from engine.records.jobs import JobRecord
from engine.runtime.waits import catch_events
from engine.services.context import EngineContext
from engine.services.execution import Case
from engine.statuses import InstanceStatus, JobKind
from engine.store.unit_of_work import UnitOfWork

CAUGHT = ("message", "signal")  # catch events that wait for something sent, not for a time


def waits_of(ctx: EngineContext, uow: UnitOfWork, case: Case) -> tuple[Wait, ...]:
    """The timers, service jobs, messages and signals a running case waits for, soonest first
    (none for a case that is not running: an incident says itself what stopped it)."""
    if case.instance.status != InstanceStatus.RUNNING:
        return ()
    now = ctx.clock.now()
    elements = case.definition.elements
    events = catch_events(case.definition.specs)
    topics = set(ctx.connectors.topics())  # answered by bankflow's own worker

    def name_of(element_id: str | None) -> str | None:
        return (elements.get(element_id) or {}).get("name") if element_id else None

    waits: list[Wait] = []
    jobs = uow.jobs.waits_of(case.instance.id)
    for job in jobs:
        element_id = job.element_id
        assert element_id is not None  # timers and service jobs always wait at an element
        if job.kind == JobKind.TIMER:
            event = events.get(element_id)
            host = event.attached_to if event else None
            waits.append(Wait(kind="timer", element_id=element_id, name=name_of(element_id), on_element_id=host,
                              on_name=name_of(host), due_at=job.due_at, overdue=job.due_at <= now))
        else:
            waits.append(_service_wait(job, element_id, name_of(element_id), job.topic in topics, now))
    if any(event.kind in CAUGHT for event in events.values()):
        with_jobs = {job.spiff_task_id for job in jobs}
        for activity in uow.history.open_activities(case.instance.id):
            event = events.get(activity.element_id)
            if event is None or event.kind not in CAUGHT or activity.spiff_task_id in with_jobs:
                continue
            waits.append(Wait(kind=event.kind, element_id=activity.element_id,
                              name=activity.name or name_of(activity.element_id), on_element_id=event.attached_to,
                              on_name=name_of(event.attached_to), topic=event.event_name))
    return tuple(waits)


def _service_wait(job: JobRecord, element_id: str, name: str | None, answered_here: bool, now: datetime) -> Wait:
    held = job.locked_until is not None and job.locked_until > now
    return Wait(
        kind="service", element_id=element_id, name=name, topic=job.topic, due_at=job.due_at,
        answered_here=answered_here, worker=job.locked_by if held and job.locked_by else None,
        attempts=job.attempts, last_error=job.last_error,
        retry_at=job.locked_until if held and not job.locked_by and job.attempts else None,
        retries_left=max(0, CONNECTOR_RETRIES + 1 - job.attempts) if answered_here and job.attempts else None)
