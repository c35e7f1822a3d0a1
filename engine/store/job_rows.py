"""Job rows: due timers, periodic starts, SLA checks and external service tasks.

Workers claim jobs with `SELECT ... FOR UPDATE SKIP LOCKED` and a time-limited
lock (`JOB_LOCK`), so several workers on PostgreSQL never take the same job and a
job whose worker died is taken again once its lock runs out. Statements are built
once (building one costs more than running it on SQLite) and match one row per
parameter set rather than `IN (...)`, which is re-rendered per call.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from engine.store.tables import DEFINITION, INSTANCE, JOB

JOB_LOCK = timedelta(minutes=5)  # how long a claimed job stays a worker's
# What a running case waits on; none of it is due once the case has ended.
WAITING_KINDS = ("timer", "external", "sla_at_risk", "sla_breach")

_INSERT = insert(JOB)
_READ = select(JOB).where(JOB.c.id == bindparam("job_id"))
_READ_LOCKED = _READ.with_for_update()
_DELETE = delete(JOB).where(JOB.c.id == bindparam("job_id"))
_RESCHEDULE = (update(JOB).where(JOB.c.id == bindparam("job_id"))
               .values(due_at=bindparam("_due_at"), locked_by=None, locked_until=None))
_DELETE_OF_TASK = delete(JOB).where(JOB.c.task_id == bindparam("task_id"))
_DELETE_WAITING = delete(JOB).where(JOB.c.instance_id == bindparam("instance_id"),
                                    or_(*(JOB.c.kind == kind for kind in WAITING_KINDS)))
_JOBS_OF = select(JOB.c.id, JOB.c.spiff_task_id, JOB.c.due_at).where(
    JOB.c.instance_id == bindparam("instance_id"), JOB.c.kind == bindparam("kind"))


def insert_jobs(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(_INSERT, rows)


def read_job(session: Session, job_id: int, lock: bool = False) -> dict[str, Any] | None:
    row = session.execute(_READ_LOCKED if lock else _READ, {"job_id": job_id}).mappings().first()
    return dict(row) if row is not None else None


def update_job(session: Session, job_id: int, **changes: Any) -> None:
    session.execute(update(JOB).where(JOB.c.id == job_id).values(**changes))


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


def jobs_of(session: Session, instance_id: int, kind: str) -> dict[str, Any]:
    """A case's jobs of one kind by SpiffWorkflow task id (rows with id, spiff_task_id, due_at)."""
    return {row.spiff_task_id: row for row in session.execute(_JOBS_OF, {"instance_id": instance_id,
                                                                          "kind": kind})}


def claim_jobs(session: Session, worker_id: str, now: datetime, kinds: Iterable[str], limit: int,
               topics: Iterable[str] | None = None, lock_for: timedelta = JOB_LOCK) -> list[dict[str, Any]]:
    """Lock up to `limit` unlocked jobs of `kinds` for `worker_id`: due ones, or with `topics`, the
    external jobs of those topics whose case is running. Returns the locked rows."""
    query = select(JOB).where(JOB.c.kind.in_(list(kinds)), or_(JOB.c.locked_until.is_(None), JOB.c.locked_until < now))
    if topics is None:
        query = query.where(JOB.c.due_at <= now)
    else:
        query = (query.join(INSTANCE, INSTANCE.c.id == JOB.c.instance_id)
                 .where(JOB.c.topic.in_(list(topics)), INSTANCE.c.status == "running"))
    rows = [dict(row) for row in session.execute(
        query.order_by(JOB.c.due_at, JOB.c.id).limit(limit).with_for_update(skip_locked=True, of=JOB)).mappings()]
    if rows:
        until = now + lock_for
        session.execute(update(JOB).where(JOB.c.id == bindparam("job_id"))
                        .values(locked_by=worker_id, locked_until=until),
                        [{"job_id": row["id"]} for row in rows])
        for row in rows:
            row["locked_by"], row["locked_until"] = worker_id, until
    return rows


def replace_timer_starts(session: Session, key: str, definition_id: int, rows: list[dict[str, Any]]) -> None:
    """A new version of a periodic process takes over the schedule of its older versions."""
    older = select(DEFINITION.c.id).where(DEFINITION.c.key == key, DEFINITION.c.id != definition_id)
    session.execute(delete(JOB).where(JOB.c.kind == "timer_start", JOB.c.definition_id.in_(older)))
    insert_jobs(session, rows)


_WAITS_OF = (select(JOB).where(JOB.c.instance_id == bindparam("instance_id"), JOB.c.kind.in_(("timer", "external")))
             .order_by(JOB.c.due_at, JOB.c.id))


def waits_of(session: Session, instance_id: int) -> list[dict[str, Any]]:
    """The timers and external service jobs a case waits on, soonest first."""
    return [dict(row) for row in session.execute(_WAITS_OF, {"instance_id": instance_id}).mappings()]


def oldest_worker_job(session: Session, now: datetime, topics: Iterable[str]) -> datetime | None:
    """Since when the longest-waiting work of a worker is due: a due timer, periodic start or SLA check,
    or an external job of a running case whose topic bankflow's connectors answer (not held by a worker
    now). None when a worker would find nothing to do."""
    free = or_(JOB.c.locked_until.is_(None), JOB.c.locked_until < now)
    due = session.execute(select(func.min(JOB.c.due_at)).where(JOB.c.kind != "external", JOB.c.due_at <= now,
                                                               free)).scalar()
    external = session.execute(
        select(func.min(JOB.c.due_at)).select_from(JOB.join(INSTANCE, INSTANCE.c.id == JOB.c.instance_id))
        .where(and_(JOB.c.kind == "external", JOB.c.topic.in_(list(topics)), INSTANCE.c.status == "running",
                    JOB.c.due_at <= now, free))).scalar()
    found = [when for when in (due, external) if when is not None]
    return min(found) if found else None
