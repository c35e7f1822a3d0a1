"""Due jobs: timers, periodic process starts and SLA checks, run by the worker.

Jobs are claimed with `SELECT ... FOR UPDATE SKIP LOCKED` and a time-limited
lock, so several workers on PostgreSQL never run the same job; each timer fires
in its own transaction, guarded by the instance's optimistic lock, so a timer
fires exactly once even when workers race. After downtime every overdue job runs
on the next pass: late, never lost.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.services.context import EngineContext
from engine.errors import BankflowError
from engine.escalation import escalate_breach
from engine.execution import advance, begin, load_instance, restore, runnable
from engine.notifications import deliver_pending
from engine.runtime.runner import StepOutcome, find_task
from engine.runtime.timers import due_after, next_due
from engine.store.models import HumanTask, Job, ProcessInstance
from engine.services.unit_of_work import unit_of_work

log = logging.getLogger("bankflow.worker")
CLAIM_FOR = timedelta(minutes=5)
ACTIVE_TASK = ("open", "claimed")


def claim_due(ctx: EngineContext, kinds: tuple[str, ...], worker_id: str, batch: int) -> list[tuple[int, str]]:
    """Lock up to `batch` due jobs of `kinds` for this worker; their ids and kinds."""
    with unit_of_work(ctx) as session:
        now = ctx.clock.now()
        jobs = session.scalars(
            select(Job).where(Job.kind.in_(kinds), Job.due_at <= now,
                              or_(Job.locked_until.is_(None), Job.locked_until < now))
            .order_by(Job.due_at, Job.id).limit(batch).with_for_update(skip_locked=True)).all()
        for job in jobs:
            job.locked_by, job.locked_until = worker_id, now + CLAIM_FOR
        return [(job.id, job.kind) for job in jobs]


def release(ctx: EngineContext, job_id: int, worker_id: str) -> None:
    """Give a job back at once (its run failed), so the next pass retries it."""
    with unit_of_work(ctx) as session:
        job = _own_job(session, job_id, worker_id)
        if job is not None:
            job.locked_by = job.locked_until = None


def _own_job(session: Session, job_id: int, worker_id: str) -> Job | None:
    job = session.get(Job, job_id)
    return job if job is not None and job.locked_by == worker_id else None


def fire_timer(ctx: EngineContext, job_id: int, worker_id: str) -> bool:
    """Fire one due timer event and run its instance on; False when there was nothing to fire."""
    with unit_of_work(ctx) as session:
        job = _own_job(session, job_id, worker_id)
        if job is None:
            return False
        # Workers firing two timers of one case queue here instead of failing the version check.
        instance = load_instance(ctx, session, job.instance_id, lock=True)
        if instance is None or instance.status != "running":
            session.delete(job)
            return False
        case = restore(ctx, instance)
        task = find_task(case.workflow, job.spiff_task_id)
        before = next_due(task) if task is not None else None
        case.workflow.refresh_timers()
        fired = task is not None and (not task.has_state(TaskState.WAITING) or next_due(task) != before)
        if fired:
            record(session, "timer_fired", ctx.clock.now(), instance_id=instance.id, element_id=job.element_id,
                   actor=worker_id, payload={"due_at": job.due_at.isoformat()})
        advance(ctx, session, case, StepOutcome(), worker_id)
        return fired


def fire_timer_start(ctx: EngineContext, job_id: int, worker_id: str) -> int | None:
    """Start the periodic process a timer start event schedules, and schedule the next run."""
    with unit_of_work(ctx) as session:
        job = _own_job(session, job_id, worker_id)
        if job is None:
            return None
        started = begin(ctx, session, runnable(ctx, session, job.definition_id), {}, None, None)
        record(session, "timer_fired", ctx.clock.now(), instance_id=started.id, element_id=job.element_id,
               actor=worker_id, payload={"due_at": job.due_at.isoformat(), "started": True})
        _reschedule_start(ctx, session, job)
        return started.id


def _reschedule_start(ctx: EngineContext, session: Session, job: Job) -> None:
    """The next occurrence of a cycle after now (missed runs are not replayed); one-shots end."""
    schedule = job.payload
    cycles = schedule.get("cycles", 0)
    if schedule.get("kind") != "cycle" or cycles == 1:
        session.delete(job)
        return
    now = ctx.clock.now()
    due = job.due_at
    while due <= now:
        due = due_after(due, schedule["duration"], schedule.get("calendar"), calendars=ctx.calendars)
    job.due_at, job.locked_by, job.locked_until = due, None, None
    job.payload = {**schedule, "cycles": cycles - 1 if cycles > 0 else -1}


def check_sla(ctx: EngineContext, job_id: int, worker_id: str) -> str | None:
    """Turn a task or case at risk, or record its breach and escalate, exactly once."""
    with unit_of_work(ctx) as session:
        job = _own_job(session, job_id, worker_id)
        if job is None:
            return None
        now = ctx.clock.now()
        # Lock what changes, so two workers checking one task's at-risk and breach jobs queue.
        if job.task_id:
            subject: Any = session.get(HumanTask, job.task_id, with_for_update={"of": HumanTask})
            instance = session.get(ProcessInstance, job.instance_id)
        else:
            subject = instance = session.get(ProcessInstance, job.instance_id,
                                             with_for_update={"of": ProcessInstance})
        kind = job.kind
        session.delete(job)
        still_open = subject is not None and (
            subject.status in ACTIVE_TASK if job.task_id else subject.status in ("running", "incident"))
        if not still_open or subject.sla_status == "breached":
            return None
        if kind == "sla_at_risk":
            subject.sla_status = "at_risk"
            return "at_risk"
        subject.sla_status = "breached"
        record(session, "sla_breached", now, instance_id=instance.id, task_id=job.task_id,
               element_id=getattr(subject, "element_id", None), actor=worker_id,
               payload={"due_at": subject.due_at.isoformat() if subject.due_at else None})
        escalate_breach(session, instance, subject if job.task_id else None, now)
        return "breached"


RUNNERS = {
    "timer": fire_timer,
    "timer_start": fire_timer_start,
    "sla_at_risk": check_sla,
    "sla_breach": check_sla,
}


def run_due_jobs(ctx: EngineContext, worker_id: str = "bankflow-worker", batch: int = 100) -> dict[str, int]:
    """Run every job due now: fire timers, start periodic processes, check SLAs, mail
    escalations; return counts."""
    counts = {"timers": 0, "starts": 0, "sla_checks": 0, "errors": 0, "emails": 0}
    while True:
        claimed = claim_due(ctx, tuple(RUNNERS), worker_id, batch)
        if not claimed:
            counts["emails"] = deliver_pending(ctx)
            return counts
        for job_id, kind in claimed:
            try:
                RUNNERS[kind](ctx, job_id, worker_id)
            except BankflowError as exc:
                counts["errors"] += 1
                log.warning("job %s (%s) not run, retried on the next pass: %s", job_id, kind, exc)
                release(ctx, job_id, worker_id)
                continue
            counts[{"timer": "timers", "timer_start": "starts"}.get(kind, "sla_checks")] += 1
