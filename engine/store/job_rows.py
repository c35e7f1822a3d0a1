"""Job rows the hot paths write with Core: SLA checks scheduled and dropped, a finished case's jobs cleared."""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, insert
from sqlalchemy.orm import Session

from engine.store.tables import JOB

# Built once: building a statement costs more than running it on SQLite.
_INSERT = insert(JOB)
_DELETE_OF_TASKS = delete(JOB).where(JOB.c.task_id.in_(bindparam("ids", expanding=True)))
_DELETE_OF_INSTANCE = delete(JOB).where(JOB.c.instance_id == bindparam("instance_id"),
                                        JOB.c.kind.in_(bindparam("kinds", expanding=True)))


def insert_jobs(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(_INSERT, rows)


def delete_task_jobs(session: Session, task_ids: list[int]) -> None:
    """Drop the jobs (SLA checks) of tasks that ended."""
    if task_ids:
        session.execute(_DELETE_OF_TASKS, {"ids": task_ids})


def delete_instance_jobs(session: Session, instance_id: int, kinds: tuple[str, ...]) -> None:
    session.execute(_DELETE_OF_INSTANCE, {"instance_id": instance_id, "kinds": list(kinds)})
