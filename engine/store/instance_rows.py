"""Process instance rows: read with one Core SELECT, written back with one guarded UPDATE.

Every save is `UPDATE ... WHERE lock_version = ?` (the one optimistic lock of the table), so two
calls that both changed a case can never both win: the second raises StaleDataError, which the
unit of work turns into a Conflict.
"""
from __future__ import annotations

from dataclasses import fields, replace

from sqlalchemy import ColumnElement, RowMapping, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.records.instances import CaseSummary, InstanceRecord, NewInstance
from engine.statuses import InstanceStatus, SlaStatus
from engine.store.tables import DEFINITION, INSTANCE, TASK

# What a save may change; the rest is fixed when the instance starts.
MUTABLE = ("status", "ended_at", "state", "variables", "next_due_at", "incident_element", "incident_message",
           "due_at", "sla_status")
_NEW_COLUMNS = tuple(f.name for f in fields(NewInstance))
# Built once (building a statement costs more than running it on SQLite); bound names
# differ from column names because SQLAlchemy reserves those for its own SET parameters.
_SAVE = (update(INSTANCE)
         .where(INSTANCE.c.id == bindparam("_id"), INSTANCE.c.lock_version == bindparam("_version"))
         .values({name: bindparam(f"_{name}") for name in MUTABLE} | {"lock_version": bindparam("_next_version")}))
_READ = select(INSTANCE).where(INSTANCE.c.id == bindparam("id"))
_READ_LOCKED = _READ.with_for_update()
_INSERT = insert(INSTANCE).returning(INSTANCE.c.id)
_HAS_ANY = select(INSTANCE.c.id).limit(1)
_SUMMARY_COLUMNS = (INSTANCE.c.id, DEFINITION.c.key.label("definition_key"), DEFINITION.c.version,
                    DEFINITION.c.name.label("process_name"), INSTANCE.c.status, INSTANCE.c.business_key,
                    INSTANCE.c.started_at, INSTANCE.c.started_by, INSTANCE.c.ended_at, INSTANCE.c.incident_element,
                    INSTANCE.c.incident_message)


def instance_record(row: RowMapping) -> InstanceRecord:
    """The record of one `process_instance` row."""
    return InstanceRecord(
        id=row["id"], definition_id=row["definition_id"], status=InstanceStatus(row["status"]),
        started_at=row["started_at"], started_by=row["started_by"], business_key=row["business_key"],
        state=row["state"], variables=row["variables"], ended_at=row["ended_at"], next_due_at=row["next_due_at"],
        incident_element=row["incident_element"], incident_message=row["incident_message"], due_at=row["due_at"],
        sla_status=None if row["sla_status"] is None else SlaStatus(row["sla_status"]),
        lock_version=row["lock_version"])


def case_summary(row: RowMapping) -> CaseSummary:
    """The summary of one case from its row joined with its definition (`_SUMMARY_COLUMNS`)."""
    return CaseSummary(
        id=row["id"], definition_key=row["definition_key"], version=row["version"],
        process_name=row["process_name"], status=InstanceStatus(row["status"]), business_key=row["business_key"],
        started_at=row["started_at"], started_by=row["started_by"], ended_at=row["ended_at"],
        incident_element=row["incident_element"], incident_message=row["incident_message"])


def visible_to(user: str) -> ColumnElement[bool]:
    """Cases a staff member may see: they started it, or hold or completed one of its tasks."""
    worked_on = exists().where(TASK.c.instance_id == INSTANCE.c.id,
                               or_(TASK.c.assignee == user, TASK.c.completed_by == user))
    return or_(INSTANCE.c.started_by == user, worked_on)


class InstanceRepository:
    """`uow.instances`: the process instances of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, instance_id: int, lock: bool = False) -> InstanceRecord | None:
        """The instance, or None; `lock` also takes its row lock (PostgreSQL) so concurrent callers queue."""
        row = self.session.execute(_READ_LOCKED if lock else _READ, {"id": instance_id}).mappings().first()
        return instance_record(row) if row is not None else None

    def insert(self, new: NewInstance) -> InstanceRecord:
        """Insert a new instance; the stored record, with the id the database gave it."""
        values = {name: getattr(new, name) for name in _NEW_COLUMNS}
        instance_id = self.session.execute(_INSERT, values).scalar_one()
        return InstanceRecord(**values, id=instance_id, lock_version=1)

    def save(self, instance: InstanceRecord) -> InstanceRecord:
        """Write the changeable columns back if nobody else did since `instance` was read (else raise
        StaleDataError); the record as now stored."""
        params = {f"_{name}": getattr(instance, name) for name in MUTABLE}
        result = self.session.execute(_SAVE, params | {"_id": instance.id, "_version": instance.lock_version,
                                                       "_next_version": instance.lock_version + 1})
        if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
            raise StaleDataError(f"process_instance {instance.id} was changed by another transaction")
        return replace(instance, lock_version=instance.lock_version + 1)

    def can_see(self, instance_id: int, user: str) -> bool:
        """Whether staff member `user` started the case or holds or completed one of its tasks."""
        found = self.session.scalar(select(INSTANCE.c.id).where(INSTANCE.c.id == instance_id, visible_to(user)))
        return found is not None

    def search(self, *, visible_for: str | None, business_key: str | None, process: str | None,
               status: InstanceStatus | None, limit: int, offset: int) -> tuple[list[CaseSummary], int]:
        """One page of cases, newest first (only those `visible_for` may see, unless None); and the total."""
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
        total = self.session.scalar(select(func.count()).select_from(joined).where(*filters)) or 0
        rows = self.session.execute(select(*_SUMMARY_COLUMNS).select_from(joined).where(*filters)
                                    .order_by(INSTANCE.c.id.desc()).limit(limit).offset(offset)).mappings()
        return [case_summary(row) for row in rows], total

    def has_any(self) -> bool:
        return self.session.scalar(_HAS_ANY) is not None
