"""Job rows: due timers, periodic starts, SLA checks and external service tasks.

Workers claim jobs with `SELECT ... FOR UPDATE SKIP LOCKED` and a time-limited
lock (`JOB_LOCK`), so several workers on PostgreSQL never take the same job and a
job whose worker died is taken again once its lock runs out. Statements are built
once (building one costs more than running it on SQLite) and match one row per
parameter set rather than `IN (...)`, which is re-rendered per call.
"""
from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime, timedelta
from typing import Any, Iterable, Unpack

from sqlalchemy import Row, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from engine.records.jobs import JobDue, JobRecord, NewJob
from engine.statuses import InstanceStatus, JobKind
from engine.store.tables import DEFINITION, INSTANCE, JOB

JOB_LOCK = timedelta(minutes=5)  # how long a claimed job stays a worker's
# What a running case waits on; none of it is due once the case has ended.
WAITING_KINDS = (JobKind.TIMER, JobKind.EXTERNAL, JobKind.SLA_AT_RISK, JobKind.SLA_BREACH)
_NEW_COLUMNS = tuple(f.name for f in fields(NewJob))
_MUTABLE = ("due_at", "locked_by", "locked_until", "attempts", "last_error", "payload")  # what `save` writes

_INSERT = insert(JOB)
_READ = select(JOB).where(JOB.c.id == bindparam("job_id"))
_READ_LOCKED = _READ.with_for_update()
_DELETE = delete(JOB).where(JOB.c.id == bindparam("job_id"))
_SAVE = update(JOB).where(JOB.c.id == bindparam("job_id")).values({name: bindparam(f"_{name}") for name in _MUTABLE})
_RESCHEDULE = (update(JOB).where(JOB.c.id == bindparam("job_id"))
               .values(due_at=bindparam("_due_at"), locked_by=None, locked_until=None))
_DELETE_OF_TASK = delete(JOB).where(JOB.c.task_id == bindparam("task_id"))
_DELETE_WAITING = delete(JOB).where(JOB.c.instance_id == bindparam("instance_id"),
                                    or_(*(JOB.c.kind == kind for kind in WAITING_KINDS)))
_JOBS_OF = select(JOB.c.id, JOB.c.spiff_task_id, JOB.c.due_at).where(
    JOB.c.instance_id == bindparam("instance_id"), JOB.c.kind == bindparam("kind"))


_WAITS_OF = (select(JOB).where(JOB.c.instance_id == bindparam("instance_id"),
                               JOB.c.kind.in_((JobKind.TIMER, JobKind.EXTERNAL)))
             .order_by(JOB.c.due_at, JOB.c.id))


def _job(row: Row[Unpack[tuple[Any, ...]]]) -> JobRecord:
    return JobRecord(id=row.id, kind=JobKind(row.kind), instance_id=row.instance_id, task_id=row.task_id,
                     definition_id=row.definition_id, spiff_task_id=row.spiff_task_id, element_id=row.element_id,
                     topic=row.topic, due_at=row.due_at, locked_by=row.locked_by, locked_until=row.locked_until,
                     attempts=row.attempts, last_error=row.last_error, payload=row.payload)


class JobRepository:
    """Jobs inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, job_id: int, lock: bool = False) -> JobRecord | None:
        row = self.session.execute(_READ_LOCKED if lock else _READ, {"job_id": job_id}).first()
        return _job(row) if row is not None else None

    def insert(self, jobs: list[NewJob]) -> None:
        if jobs:
            self.session.execute(_INSERT, [{name: getattr(job, name) for name in _NEW_COLUMNS} | {"attempts": 0}
                                           for job in jobs])

    def save(self, job: JobRecord) -> None:
        """Write what a worker changes: the due time, the lock, the attempts and the payload."""
        self.session.execute(_SAVE, {"job_id": job.id} | {f"_{name}": getattr(job, name) for name in _MUTABLE})

    def delete(self, job_ids: list[int]) -> None:
        if job_ids:
            self.session.execute(_DELETE, [{"job_id": job_id} for job_id in job_ids])

    def delete_of_tasks(self, task_ids: list[int]) -> None:
        """Drop the jobs (SLA checks) of tasks that ended."""
        if task_ids:
            self.session.execute(_DELETE_OF_TASK, [{"task_id": task_id} for task_id in task_ids])

    def delete_waiting(self, instance_id: int) -> None:
        """Drop what an ended case waited on (timers, external jobs, SLA checks)."""
        self.session.execute(_DELETE_WAITING, {"instance_id": instance_id})

    def due_of(self, instance_id: int, kind: JobKind) -> dict[str, JobDue]:
        """A case's jobs of one kind by SpiffWorkflow task id."""
        return {row.spiff_task_id: JobDue(id=row.id, spiff_task_id=row.spiff_task_id, due_at=row.due_at)
                for row in self.session.execute(_JOBS_OF, {"instance_id": instance_id, "kind": kind})}

    def reschedule(self, due: dict[int, datetime]) -> None:
        """Move jobs to a new due time (job id -> when), releasing any worker's lock on them."""
        if due:
            self.session.execute(_RESCHEDULE, [{"job_id": job_id, "_due_at": when} for job_id, when in due.items()])

    def claim(self, worker_id: str, now: datetime, kinds: Iterable[JobKind], limit: int,
              topics: Iterable[str] | None = None, lock_for: timedelta = JOB_LOCK) -> list[JobRecord]:
        """Lock up to `limit` unlocked jobs of `kinds` for `worker_id`: due ones, or with `topics`, the
        external jobs of those topics whose case is running. Returns the locked jobs."""
        query = select(JOB).where(JOB.c.kind.in_(list(kinds)),
                                  or_(JOB.c.locked_until.is_(None), JOB.c.locked_until < now))
        if topics is None:
            query = query.where(JOB.c.due_at <= now)
        else:
            query = (query.join(INSTANCE, INSTANCE.c.id == JOB.c.instance_id)
                     .where(JOB.c.topic.in_(list(topics)), INSTANCE.c.status == InstanceStatus.RUNNING))
        jobs = [_job(row) for row in self.session.execute(
            query.order_by(JOB.c.due_at, JOB.c.id).limit(limit).with_for_update(skip_locked=True, of=JOB))]
        if not jobs:
            return []
        until = now + lock_for
        self.session.execute(update(JOB).where(JOB.c.id == bindparam("job_id"))
                             .values(locked_by=worker_id, locked_until=until),
                             [{"job_id": job.id} for job in jobs])
        return [replace(job, locked_by=worker_id, locked_until=until) for job in jobs]

    def replace_timer_starts(self, key: str, definition_id: int, starts: list[NewJob]) -> None:
        """A new version of a periodic process takes over the schedule of its older versions."""
        older = select(DEFINITION.c.id).where(DEFINITION.c.key == key, DEFINITION.c.id != definition_id)
        self.session.execute(delete(JOB).where(JOB.c.kind == JobKind.TIMER_START, JOB.c.definition_id.in_(older)))
        self.insert(starts)

    def waits_of(self, instance_id: int) -> list[JobRecord]:
        """The timers and external service jobs a case waits on, soonest first."""
        return [_job(row) for row in self.session.execute(_WAITS_OF, {"instance_id": instance_id})]

    def oldest_due(self, now: datetime, topics: Iterable[str]) -> datetime | None:
        """Since when the longest-waiting work of a worker is due: a due timer, periodic start or SLA check,
        or an external job of a running case whose topic bankflow's connectors answer (not held by a worker
        now). None when a worker would find nothing to do."""
        free = or_(JOB.c.locked_until.is_(None), JOB.c.locked_until < now)
        due = self.session.execute(select(func.min(JOB.c.due_at)).where(JOB.c.kind != JobKind.EXTERNAL,
                                                                        JOB.c.due_at <= now, free)).scalar()
        external = self.session.execute(
            select(func.min(JOB.c.due_at)).select_from(JOB.join(INSTANCE, INSTANCE.c.id == JOB.c.instance_id))
            .where(and_(JOB.c.kind == JobKind.EXTERNAL, JOB.c.topic.in_(list(topics)),
                        INSTANCE.c.status == InstanceStatus.RUNNING, JOB.c.due_at <= now, free))).scalar()
        found = [when for when in (due, external) if when is not None]
        return min(found) if found else None

