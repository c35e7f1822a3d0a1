"""Job rows the engine writes with Core as a case runs: timers, external jobs and SLA checks.

Statements are built once (building one costs more than running it on SQLite) and
match one row per parameter set rather than `IN (...)`, which is re-rendered per call.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, update
from sqlalchemy.orm import Session

from engine.store.tables import JOB

# What a running case waits on; none of it is due once the case has ended.
WAITING_KINDS = ("timer", "external", "sla_at_risk", "sla_breach")

_INSERT = insert(JOB)
_DELETE = delete(JOB).where(JOB.c.id == bindparam("job_id"))
_RESCHEDULE = (update(JOB).where(JOB.c.id == bindparam("job_id"))
               .values(due_at=bindparam("_due_at"), locked_by=None, locked_until=None))
_DELETE_OF_TASK = delete(JOB).where(JOB.c.task_id == bindparam("task_id"))
_DELETE_WAITING = delete(JOB).where(JOB.c.instance_id == bindparam("instance_id"),
                                    or_(*(JOB.c.kind == kind for kind in WAITING_KINDS)))


def insert_jobs(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(_INSERT, rows)


def delete_jobs(session: Session, job_ids: list[int]) -> None:
    if job_ids:
        session.execute(_DELETE, [{"job_id": job_id} for job_id in job_ids])


def reschedule_jobs(session: Session, due: dict[int, Any]) -> None:
    """Move jobs to a new due time (job id -> when), releasing any worker's lock on them."""
    if due:
        session.execute(_RESCHEDULE, [{"job_id": job_id, "_due_at": when} for job_id, when in due.items()])


def delete_task_jobs(session: Session, task_ids: list[int]) -> None:
    """Drop the jobs (SLA checks) of tasks that ended."""
    if task_ids:
        session.execute(_DELETE_OF_TASK, [{"task_id": task_id} for task_id in task_ids])


def delete_waiting_jobs(session: Session, instance_id: int) -> None:
    """Drop what an ended case waited on (timers, external jobs, SLA checks)."""
    session.execute(_DELETE_WAITING, {"instance_id": instance_id})
