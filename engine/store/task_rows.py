"""Human task rows as plain dicts: read, created and updated with Core statements.

Updates are guarded by the row's `lock_version`, like the ORM model's, so two
people acting on one task never both win: the loser raises StaleDataError, which
the unit of work turns into a Conflict.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.store.tables import CANDIDATE, TASK

TaskRow = dict[str, Any]


# Statements are built once: building one costs more than running it on SQLite.
_READ = select(TASK).where(TASK.c.id == bindparam("id"))
_READ_LOCKED = _READ.with_for_update()
_INSERT = insert(TASK).returning(TASK.c.id, sort_by_parameter_order=True)
_INSERT_CANDIDATES = insert(CANDIDATE)
_CANCEL = (update(TASK).where(TASK.c.id.in_(bindparam("ids", expanding=True)))
           .values(status="cancelled", lock_version=TASK.c.lock_version + 1))


def read_task(session: Session, task_id: int, lock: bool = False) -> TaskRow | None:
    """The task's columns, or None; `lock` also takes the row lock (PostgreSQL) so concurrent actions queue."""
    row = session.execute(_READ_LOCKED if lock else _READ, {"id": task_id}).mappings().first()
    return dict(row) if row is not None else None


@lru_cache(maxsize=None)
def _update(columns: tuple[str, ...]):
    """The guarded UPDATE of these columns (one statement per set of columns, built once)."""
    return (update(TASK).where(TASK.c.id == bindparam("_id"), TASK.c.lock_version == bindparam("_version"))
            .values({name: bindparam(f"_{name}") for name in columns} | {"lock_version": bindparam("_next")}))


def update_task(session: Session, task: TaskRow, **changes: Any) -> TaskRow:
    """Write `changes` if nobody changed the task since it was read; the task as it now is."""
    version = task["lock_version"]
    params = {f"_{name}": value for name, value in changes.items()}
    result = session.execute(_update(tuple(sorted(changes))),
                             params | {"_id": task["id"], "_version": version, "_next": version + 1})
    if result.rowcount != 1:
        raise StaleDataError(f"human_task {task['id']} was changed by another transaction")
    return task | changes | {"lock_version": version + 1}


def insert_tasks(session: Session, rows: list[TaskRow]) -> list[TaskRow]:
    """Insert new tasks with their candidate rows; the tasks with their ids."""
    ids = session.execute(_INSERT, rows).scalars().all()
    created = [row | {"id": task_id} for row, task_id in zip(rows, ids)]
    candidates = [{"task_id": task["id"], "kind": kind, "name": name}
                  for task in created
                  for kind, names in (("group", task["candidate_groups"]), ("user", task["candidate_users"]))
                  for name in names]
    if candidates:
        session.execute(_INSERT_CANDIDATES, candidates)
    return created


def cancel_tasks(session: Session, task_ids: list[int]) -> None:
    session.execute(_CANCEL, {"ids": task_ids})
