"""External service tasks: jobs that workers fetch, lock and complete.

A service task with `camunda:type="external" camunda:topic="..."` waits in the
workflow (SpiffWorkflow leaves it STARTED) and has one `external` job. Workers
fetch jobs by topic under a time-limited lock, do the work, and complete the job
with result variables; the process then moves on in the same transaction. On
PostgreSQL several workers fetch with `FOR UPDATE SKIP LOCKED` and never get the
same job.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterable

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select

from engine.audit import record
from engine.services.context import EngineContext
from engine.errors import Conflict, NotFound
from engine.execution import advance, load_instance, restore
from engine.instances import check_variable_names
from engine.runtime.runner import StepOutcome, find_task
from engine.runtime.serializer import json_ready
from engine.store.models import Job, ProcessInstance
from engine.services.unit_of_work import unit_of_work
from engine.views import instance_summary, iso

DEFAULT_LOCK = timedelta(minutes=5)


def job_view(job: Job) -> dict[str, Any]:
    return {"id": job.id, "instance_id": job.instance_id, "element_id": job.element_id, "topic": job.topic,
            "variables": job.payload, "attempts": job.attempts, "locked_by": job.locked_by,
            "locked_until": iso(job.locked_until), "last_error": job.last_error}


def fetch_and_lock(ctx: EngineContext, worker_id: str, topics: Iterable[str], max_jobs: int = 10,
                   lock_for: timedelta = DEFAULT_LOCK) -> list[dict[str, Any]]:
    """Lock up to `max_jobs` unlocked jobs of `topics` for `worker_id` and return them."""
    topics = list(topics)
    with unit_of_work(ctx) as session:
        now = ctx.clock.now()
        query = (select(Job).join(ProcessInstance, ProcessInstance.id == Job.instance_id)
                 .where(Job.kind == "external", Job.topic.in_(topics), ProcessInstance.status == "running",
                        or_(Job.locked_until.is_(None), Job.locked_until < now))
                 .order_by(Job.due_at, Job.id).limit(max_jobs)
                 .with_for_update(skip_locked=True, of=Job))
        jobs = session.scalars(query).all()
        for job in jobs:
            job.locked_by, job.locked_until = worker_id, now + lock_for
        session.flush()
        return [job_view(j) for j in jobs]


def _locked_job(session, job_id: int, worker_id: str, now) -> Job:
    job = session.scalar(select(Job).where(Job.id == job_id, Job.kind == "external").with_for_update())
    if job is None:
        raise NotFound(f"external job {job_id} does not exist (it may have been completed already)")
    if job.locked_by != worker_id or job.locked_until is None or job.locked_until < now:
        raise Conflict(f"external job {job_id} is not locked by {worker_id}; fetch and lock it first")
    return job


def complete_job(ctx: EngineContext, job_id: int, worker_id: str,
                 variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Finish the service task with result variables and run the process on."""
    variables = dict(variables or {})
    check_variable_names(variables)
    with unit_of_work(ctx) as session:
        now = ctx.clock.now()
        job = _locked_job(session, job_id, worker_id, now)
        instance = load_instance(ctx, session, job.instance_id)
        case = restore(ctx, instance)
        task = find_task(case.workflow, job.spiff_task_id)
        if task is None or not task.has_state(TaskState.STARTED):
            raise Conflict(f"instance {instance.id} no longer waits for {job.element_id}")
        task.data.update(variables)
        task.complete()
        record(session, "service_completed", now, instance_id=instance.id, element_id=job.element_id,
               actor=worker_id, payload={"topic": job.topic, "variables": json_ready(variables)})
        session.delete(job)
        outcome = StepOutcome()
        outcome.completed.append(task)
        advance(ctx, session, case, outcome, worker_id)
        return instance_summary(instance)


def fail_job(ctx: EngineContext, job_id: int, worker_id: str, message: str, retries: int = 0,
             retry_in: timedelta = timedelta(minutes=1)) -> dict[str, Any]:
    """Record a failed attempt; with no retries left the instance goes into incident."""
    with unit_of_work(ctx) as session:
        now = ctx.clock.now()
        job = _locked_job(session, job_id, worker_id, now)
        job.attempts += 1
        job.last_error = message
        job.locked_by = None
        instance = session.get(ProcessInstance, job.instance_id)
        if retries > 0:
            job.locked_until = now + retry_in
        else:
            job.locked_until = None
            instance.status = "incident"
            instance.incident_element, instance.incident_message = job.element_id, message
            record(session, "incident", now, instance_id=instance.id, element_id=job.element_id, actor=worker_id,
                   payload={"message": message, "topic": job.topic})
        session.flush()
        return job_view(job)
