"""A process instance row as a plain record for the length of one service call.

Read with one Core SELECT and written back with one UPDATE guarded by the row's
`lock_version` (the one optimistic lock of the table), so two calls
that both changed a case can never both win: the second raises StaleDataError,
which the unit of work turns into a Conflict.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.store.tables import DEFINITION, INSTANCE, TASK


@dataclass
class InstanceRecord:
    """The columns of `process_instance` (the definition version it runs is `definition_id`)."""

    definition_id: int
    status: str
    started_at: datetime
    state: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    id: int | None = None  # None until inserted
    business_key: str | None = None
    started_by: str | None = None
    ended_at: datetime | None = None
    lock_version: int = 1
    next_due_at: datetime | None = None
    incident_element: str | None = None
    incident_message: str | None = None
    due_at: datetime | None = None
    sla_status: str | None = None


# What a service call may change; the rest is fixed when the instance starts.
MUTABLE = ("status", "ended_at", "state", "variables", "next_due_at", "incident_element", "incident_message",
           "due_at", "sla_status")
_COLUMNS = tuple(f.name for f in fields(InstanceRecord) if f.name != "id")
# Built once (building a statement costs more than running it on SQLite); bound names
# differ from column names because SQLAlchemy reserves those for its own SET parameters.
_SAVE = (update(INSTANCE)
         .where(INSTANCE.c.id == bindparam("_id"), INSTANCE.c.lock_version == bindparam("_version"))
         .values({name: bindparam(f"_{name}") for name in MUTABLE} | {"lock_version": bindparam("_next_version")}))


_READ = select(INSTANCE).where(INSTANCE.c.id == bindparam("id"))
_READ_LOCKED = _READ.with_for_update()
_INSERT = insert(INSTANCE).returning(INSTANCE.c.id)


def read_instance(session: Session, instance_id: int, lock: bool = False) -> InstanceRecord | None:
    """The instance, or None; `lock` also takes its row lock (PostgreSQL) so concurrent callers queue."""
    row = session.execute(_READ_LOCKED if lock else _READ, {"id": instance_id}).mappings().first()
    return InstanceRecord(**row) if row is not None else None


def insert_instance(session: Session, instance: InstanceRecord) -> None:
    """Insert a new instance and give the record its id."""
    values = {name: getattr(instance, name) for name in _COLUMNS}
    instance.id = session.execute(_INSERT, values).scalar_one()


def save_instance(session: Session, instance: InstanceRecord) -> None:
    """Write the changed columns back if nobody else did in between; raise StaleDataError if someone did."""
    params = {f"_{name}": getattr(instance, name) for name in MUTABLE}
    result = session.execute(_SAVE, params | {"_id": instance.id, "_version": instance.lock_version,
                                              "_next_version": instance.lock_version + 1})
    if result.rowcount != 1:
        raise StaleDataError(f"process_instance {instance.id} was changed by another transaction")
    instance.lock_version += 1


def visible_to(user: str):
    """Cases a staff member may see: they started it, or hold or completed one of its tasks."""
    worked_on = exists().where(TASK.c.instance_id == INSTANCE.c.id,
                               or_(TASK.c.assignee == user, TASK.c.completed_by == user))
    return or_(INSTANCE.c.started_by == user, worked_on)


def can_see(session: Session, instance_id: int, user: str) -> bool:
    return session.scalar(select(INSTANCE.c.id).where(INSTANCE.c.id == instance_id, visible_to(user))) is not None


def search_instances(session: Session, *, visible_for: str | None, business_key: str | None, process: str | None,
                     status: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """One page of cases, newest first, with their process key, name and version; and the total."""
    joined = INSTANCE.join(DEFINITION, DEFINITION.c.id == INSTANCE.c.definition_id)
    filters = []
    if visible_for is not None:
        filters.append(visible_to(visible_for))
    if business_key:
        filters.append(INSTANCE.c.business_key.contains(business_key, autoescape=True))
    if process:
        filters.append(DEFINITION.c.key == process)
    if status:
        filters.append(INSTANCE.c.status == status)
    total = session.scalar(select(func.count()).select_from(joined).where(*filters))
    columns = [c for c in INSTANCE.c if c.name not in ("state", "variables")]
    rows = session.execute(
        select(*columns, DEFINITION.c.key.label("process_key"), DEFINITION.c.name.label("process_name"),
               DEFINITION.c.version.label("version")).select_from(joined).where(*filters)
        .order_by(INSTANCE.c.id.desc()).limit(limit).offset(offset)).mappings()
    return [dict(r) for r in rows], total


def has_instances(session: Session) -> bool:
    return session.scalar(select(INSTANCE.c.id).limit(1)) is not None
