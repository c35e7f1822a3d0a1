"""The case history: the append-only audit log (`event`) and the activity rows.

Events are only ever inserted, so they are collected on the session and written
in one multi-row Core INSERT when the unit of work commits (`write_pending`),
instead of one insert each. Activity rows are opened when a flow node starts
waiting and closed when it ends; the engine never reads them back while a case
runs (it knows the open ones from the workflow).
"""
from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, insert, select, update
from sqlalchemy.orm import Session

from engine.records.history import ActivityStates, EventRecord, NewActivity, OpenActivity
from engine.statuses import ActivityState
from engine.store.tables import ACTIVITY, EVENT

PENDING = "bankflow_pending_events"
_INSERT_EVENTS = insert(EVENT)
# Built once: building a statement costs more than running it on SQLite. One row per
# parameter set rather than `IN (...)`: an expanding IN is re-rendered on every call.
_CLOSE_ACTIVITIES = (update(ACTIVITY).where(ACTIVITY.c.instance_id == bindparam("_instance_id"),
                                            ACTIVITY.c.spiff_task_id == bindparam("_spiff_id"),
                                            ACTIVITY.c.ended_at.is_(None))
                     .values(ended_at=bindparam("_ended_at"), state=bindparam("_state")))
_INSERT_ACTIVITIES = insert(ACTIVITY)
_ACTIVITY_COLUMNS = tuple(f.name for f in fields(NewActivity))
_EVENTS_OF = select(EVENT).where(EVENT.c.instance_id == bindparam("instance_id")).order_by(EVENT.c.id)
_ACTIVITY_STATES = select(ACTIVITY.c.element_id, ACTIVITY.c.ended_at, ACTIVITY.c.state).where(
    ACTIVITY.c.instance_id == bindparam("instance_id"))
_OPEN_ACTIVITIES = (select(ACTIVITY.c.spiff_task_id, ACTIVITY.c.element_id, ACTIVITY.c.name)
                    .where(ACTIVITY.c.instance_id == bindparam("instance_id"), ACTIVITY.c.ended_at.is_(None))
                    .order_by(ACTIVITY.c.id))


def record(
    session: Session,
    type_: str,
    at: datetime,
    *,
    instance_id: int | None = None,
    task_id: int | None = None,
    element_id: str | None = None,
    actor: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add an event to the audit log when the transaction commits."""
    session.info.setdefault(PENDING, []).append({
        "type": type_, "at": at, "instance_id": instance_id, "task_id": task_id,
        "element_id": element_id, "actor": actor, "payload": payload or {},
    })


def write_pending(session: Session) -> None:
    """Insert the events recorded in this transaction, in the order they happened."""
    rows = session.info.pop(PENDING, None)
    if rows:
        session.execute(_INSERT_EVENTS, rows)


def event_record(row: RowMapping) -> EventRecord:
    """The record of one `event` row."""
    return EventRecord(id=row["id"], type=row["type"], at=row["at"], instance_id=row["instance_id"],
                       task_id=row["task_id"], element_id=row["element_id"], actor=row["actor"],
                       payload=row["payload"])


class HistoryRepository:
    """`uow.history`: the audit log and the activity rows of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, type_: str, at: datetime, *, instance_id: int | None = None, task_id: int | None = None,
               element_id: str | None = None, actor: str | None = None,
               payload: dict[str, Any] | None = None) -> None:
        """Add an event to the audit log when the transaction commits."""
        record(self.session, type_, at, instance_id=instance_id, task_id=task_id, element_id=element_id,
               actor=actor, payload=payload)

    def events_of(self, instance_id: int) -> list[EventRecord]:
        """A case's audit log, oldest first."""
        return [event_record(row) for row in self.session.execute(_EVENTS_OF, {"instance_id": instance_id})
                .mappings()]

    def insert_activities(self, activities: list[NewActivity]) -> None:
        if activities:
            self.session.execute(_INSERT_ACTIVITIES, [{name: getattr(activity, name) for name in _ACTIVITY_COLUMNS}
                                                      for activity in activities])

    def close_activities(self, instance_id: int, ended: dict[str, list[str]], at: datetime) -> None:
        """Close open activity rows: final state (completed, cancelled) -> SpiffWorkflow task ids."""
        params = [{"_instance_id": instance_id, "_spiff_id": spiff_id, "_ended_at": at, "_state": state}
                  for state, ids in ended.items() for spiff_id in ids]
        if params:
            self.session.execute(_CLOSE_ACTIVITIES, params)

    def activity_states(self, instance_id: int) -> ActivityStates:
        """The elements of a case's activities open now and of those that completed."""
        rows = self.session.execute(_ACTIVITY_STATES, {"instance_id": instance_id}).all()
        return ActivityStates(current=tuple(sorted({r.element_id for r in rows if r.ended_at is None})),
                              completed=tuple(sorted({r.element_id for r in rows
                                                      if r.state == ActivityState.COMPLETED})))

    def open_activities(self, instance_id: int) -> list[OpenActivity]:
        """A case's activities open now, oldest first."""
        return [OpenActivity(spiff_task_id=row.spiff_task_id, element_id=row.element_id, name=row.name)
                for row in self.session.execute(_OPEN_ACTIVITIES, {"instance_id": instance_id})]
