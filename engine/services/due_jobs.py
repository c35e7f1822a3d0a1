"""Due jobs: timers, periodic process starts and SLA checks, run by the worker.

Jobs are claimed with `SELECT ... FOR UPDATE SKIP LOCKED` and a time-limited
lock, so several workers on PostgreSQL never run the same job; each timer fires
in its own transaction, guarded by the instance's optimistic lock, so a timer
fires exactly once even when workers race. After downtime every overdue job runs
on the next pass: late, never lost.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Callable

from engine.errors import BankflowError
from engine.records.instances import InstanceRecord
from engine.records.jobs import JobRecord
from engine.records.tasks import TaskRecord
from engine.runtime.runner import StepOutcome, fire_due_timer
from engine.runtime.timer_events import next_occurrence
from engine.services.context import EngineContext
from engine.services.execution import advance, begin, load_case, restore, runnable
from engine.services.notifications import escalate_breach
from engine.services.unit_of_work import unit_of_work
from engine.statuses import ACTIVE_TASK_STATUSES, InstanceStatus, JobKind, SlaStatus
from engine.store.unit_of_work import UnitOfWork

log = logging.getLogger("bankflow.worker")
OPEN_CASE = (InstanceStatus.RUNNING, InstanceStatus.INCIDENT)  # a case whose SLA still counts


def claim_due(ctx: EngineContext, kinds: tuple[JobKind, ...], worker_id: str,
              batch: int) -> list[tuple[int, JobKind]]:
    """Lock up to `batch` due jobs of `kinds` for this worker; their ids and kinds."""
    with unit_of_work(ctx) as uow:
        return [(job.id, job.kind) for job in uow.jobs.claim(worker_id, ctx.clock.now(), kinds, batch)]


def release(ctx: EngineContext, job_id: int, worker_id: str) -> None:
    """Give a job back at once (its run failed), so the next pass retries it."""
    with unit_of_work(ctx) as uow:
        job = _own_job(uow, job_id, worker_id)
        if job is not None:
            uow.jobs.save(replace(job, locked_by=None, locked_until=None))


def _own_job(uow: UnitOfWork, job_id: int, worker_id: str) -> JobRecord | None:
    job = uow.jobs.get(job_id)
    return job if job is not None and job.locked_by == worker_id else None


def fire_timer(ctx: EngineContext, job_id: int, worker_id: str) -> bool:
    """Fire one due timer event and run its instance on; False when there was nothing to fire."""
    with unit_of_work(ctx) as uow:
        job = _own_job(uow, job_id, worker_id)
        if job is None or job.instance_id is None or job.spiff_task_id is None:
            return False
        # Workers firing two timers of one case queue here instead of failing the version check.
        case = load_case(ctx, uow, job.instance_id, lock=True)
        if case is None or case.instance.status != InstanceStatus.RUNNING:
            uow.jobs.delete([job_id])
            return False
        restore(ctx, case)
        fired = fire_due_timer(case.workflow, job.spiff_task_id)
        if fired:
            uow.history.record("timer_fired", ctx.clock.now(), instance_id=case.instance.id,
                               element_id=job.element_id, actor=worker_id, payload={"due_at": job.due_at.isoformat()})
        advance(ctx, uow, case, StepOutcome(), worker_id)
        return fired


def fire_timer_start(ctx: EngineContext, job_id: int, worker_id: str) -> int | None:
    """Start the periodic process a timer start event schedules, and schedule the next run."""
    with unit_of_work(ctx) as uow:
        job = _own_job(uow, job_id, worker_id)
        if job is None or job.definition_id is None:
            return None
        started = begin(ctx, uow, runnable(ctx, uow, job.definition_id), {}, None, worker_id).instance
        uow.history.record("timer_fired", ctx.clock.now(), instance_id=started.id, element_id=job.element_id,
                           actor=worker_id, payload={"due_at": job.due_at.isoformat(), "started": True})
        _reschedule_start(ctx, uow, job)
        return started.id


def _reschedule_start(ctx: EngineContext, uow: UnitOfWork, job: JobRecord) -> None:
    """The next occurrence of a cycle after now (missed runs are not replayed); one-shots end."""
    schedule = job.payload
    cycles = schedule.get("cycles", 0)
    if schedule.get("kind") != "cycle" or cycles == 1:
        uow.jobs.delete([job.id])
        return
    # The first occurrence after now, computed in one step: missed ones are skipped, not stepped through.
    due = next_occurrence(job.due_at, schedule["duration"], ctx.clock.now(), schedule.get("calendar"),
                          ctx.calendars)
    uow.jobs.save(replace(job, due_at=due, locked_by=None, locked_until=None,
                          payload={**schedule, "cycles": cycles - 1 if cycles > 0 else -1}))


def check_sla(ctx: EngineContext, job_id: int, worker_id: str) -> SlaStatus | None:
    """Turn a task or case at risk, or record its breach and escalate, exactly once."""
    with unit_of_work(ctx) as uow:
        job = _own_job(uow, job_id, worker_id)
        if job is None or job.instance_id is None:
            return None
        now = ctx.clock.now()
        uow.jobs.delete([job_id])
        # Lock what changes, so two workers checking one task's at-risk and breach jobs queue.
        task = uow.tasks.get(job.task_id, lock=True) if job.task_id else None
        case = load_case(ctx, uow, job.instance_id, lock=task is None)
        if case is None:
            return None
        subject: TaskRecord | InstanceRecord = task if task is not None else case.instance
        still_open = subject.status in (ACTIVE_TASK_STATUSES if task is not None else OPEN_CASE)
        if not still_open or subject.sla_status == SlaStatus.BREACHED or subject.due_at is None:
            return None
        status = SlaStatus.AT_RISK if job.kind == JobKind.SLA_AT_RISK else SlaStatus.BREACHED
        if task is not None:
            task = uow.tasks.save(replace(task, sla_status=status))
        else:
            case.instance = uow.instances.save(replace(case.instance, sla_status=status))
        if status == SlaStatus.BREACHED:
            uow.history.record("sla_breached", now, instance_id=case.instance.id, task_id=job.task_id,
                               element_id=task.element_id if task else None, actor=worker_id,
                               payload={"due_at": subject.due_at.isoformat()})
            escalate_breach(uow, case.instance.id, case.definition, task, subject.due_at, now)
        return status


RUNNERS: dict[JobKind, Callable[[EngineContext, int, str], object]] = {
    JobKind.TIMER: fire_timer,
    JobKind.TIMER_START: fire_timer_start,
    JobKind.SLA_AT_RISK: check_sla,
    JobKind.SLA_BREACH: check_sla,
}
COUNTED_AS = {JobKind.TIMER: "timers", JobKind.TIMER_START: "starts"}  # else "sla_checks"


def run_due_jobs(ctx: EngineContext, worker_id: str = "bankflow-worker", batch: int = 100) -> dict[str, int]:
    """Run every job due now: fire timers, start periodic processes, check SLAs; return counts."""
    counts = {"timers": 0, "starts": 0, "sla_checks": 0, "errors": 0}
    while True:
        claimed = claim_due(ctx, tuple(RUNNERS), worker_id, batch)
        if not claimed:
            return counts
        for job_id, kind in claimed:
            try:
                RUNNERS[kind](ctx, job_id, worker_id)
            except BankflowError as exc:
                counts["errors"] += 1
                log.warning("job %s (%s) not run, retried on the next pass: %s", job_id, kind, exc)
                release(ctx, job_id, worker_id)
                continue
            counts[COUNTED_AS.get(kind, "sla_checks")] += 1
