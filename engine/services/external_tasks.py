"""External service tasks: jobs that workers fetch, lock and complete.

A service task with `camunda:type="external" camunda:topic="..."` waits in the
workflow and has one `external` job. Workers fetch jobs by topic under a
time-limited lock, do the work, and complete the job with result variables; the
process then moves on in the same transaction. On PostgreSQL several workers
fetch with `FOR UPDATE SKIP LOCKED` and never get the same job.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Iterable

from engine.errors import N_, Conflict, NotFound
from engine.records.instances import CaseSummary
from engine.records.jobs import JobRecord
from engine.runtime.runner import StepOutcome, TaskNotReady, complete_service_task
from engine.runtime.serializer import json_ready
from engine.services.context import EngineContext
from engine.services.execution import advance, existing_case, restore
from engine.services.instances import check_variable_names
from engine.services.limits import check_lengths
from engine.services.unit_of_work import unit_of_work
from engine.statuses import InstanceStatus, JobKind
from engine.store.job_rows import JOB_LOCK
from engine.store.models import Job
from engine.store.unit_of_work import UnitOfWork


def fetch_and_lock(ctx: EngineContext, worker_id: str, topics: Iterable[str], max_jobs: int = 10,
                   lock_for: timedelta = JOB_LOCK) -> list[JobRecord]:
    """Lock up to `max_jobs` unlocked jobs of `topics` for `worker_id` and return them."""
    check_lengths(N_("cannot fetch jobs"), ("worker_id", worker_id, Job.locked_by))
    with unit_of_work(ctx) as uow:
        return uow.jobs.claim(worker_id, ctx.clock.now(), [JobKind.EXTERNAL], max_jobs, topics=list(topics),
                              lock_for=lock_for)


def _locked_job(uow: UnitOfWork, job_id: int, worker_id: str, now: datetime) -> JobRecord:
    job = uow.jobs.get(job_id, lock=True)
    if job is None or job.kind != JobKind.EXTERNAL:
        raise NotFound("external job %(id)s does not exist (it may have been completed already)", id=job_id)
    if job.locked_by != worker_id or job.locked_until is None or job.locked_until < now:
        raise Conflict("external job %(id)s is not locked by %(worker)s; fetch and lock it first", id=job_id,
                       worker=worker_id)
    return job


def complete_job(ctx: EngineContext, job_id: int, worker_id: str,
                 variables: dict[str, Any] | None = None) -> CaseSummary:
    """Finish the service task with result variables and run the process on."""
    variables = dict(variables or {})
    check_variable_names(variables)
    with unit_of_work(ctx) as uow:
        now = ctx.clock.now()
        job = _locked_job(uow, job_id, worker_id, now)
        assert job.instance_id is not None and job.spiff_task_id is not None  # an external job has both
        case = restore(ctx, existing_case(ctx, uow, job.instance_id))
        outcome = StepOutcome()
        try:
            outcome.completed.append(complete_service_task(case.workflow, job.spiff_task_id, variables))
        except TaskNotReady:
            raise Conflict("instance %(id)s no longer waits for %(element)s", id=case.instance.id,
                           element=job.element_id) from None
        uow.history.record("service_completed", now, instance_id=case.instance.id, element_id=job.element_id,
                           actor=worker_id, payload={"topic": job.topic, "variables": json_ready(variables)})
        uow.jobs.delete([job_id])
        advance(ctx, uow, case, outcome, worker_id)
        return case.summary()


def fail_job(ctx: EngineContext, job_id: int, worker_id: str, message: str, retries: int = 0,
             retry_in: timedelta = timedelta(minutes=1)) -> JobRecord:
    """Record a failed attempt; with no retries left the instance goes into incident."""
    with unit_of_work(ctx) as uow:
        now = ctx.clock.now()
        job = _locked_job(uow, job_id, worker_id, now)
        failed = replace(job, attempts=job.attempts + 1, last_error=message, locked_by=None,
                         locked_until=now + retry_in if retries > 0 else None)
        uow.jobs.save(failed)
        if retries <= 0:
            assert job.instance_id is not None  # an external job has one
            instance = uow.instances.get(job.instance_id)
            if instance is None:
                raise NotFound("instance %(id)s does not exist", id=job.instance_id)
            uow.instances.save(replace(instance, status=InstanceStatus.INCIDENT, incident_element=job.element_id,
                                       incident_message=message))
            uow.history.record("incident", now, instance_id=instance.id, element_id=job.element_id, actor=worker_id,
                               payload={"message": message, "topic": job.topic})
        return failed
