"""The case history: the append-only audit log (`event`) and the activity rows.

Events are only ever inserted, so they are collected on the session and written
in one multi-row Core INSERT when the unit of work commits (`write_pending`),
instead of one insert each. Activity rows are opened when a flow node starts
waiting and closed when it ends; the engine never reads them back while a case
runs (it knows the open ones from the workflow).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

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
_EVENTS_OF = select(EVENT).where(EVENT.c.instance_id == bindparam("instance_id")).order_by(EVENT.c.id)


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


def events_of(session: Session, instance_id: int) -> list[dict[str, Any]]:
    """A case's audit log, oldest first."""
    return [dict(row) for row in session.execute(_EVENTS_OF, {"instance_id": instance_id}).mappings()]


def insert_activities(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(_INSERT_ACTIVITIES, rows)


def close_activities(session: Session, instance_id: int, ended: dict[str, list[str]], at: datetime) -> None:
    """Close open activity rows: final state (completed, cancelled) -> SpiffWorkflow task ids."""
    params = [{"_instance_id": instance_id, "_spiff_id": spiff_id, "_ended_at": at, "_state": state}
              for state, ids in ended.items() for spiff_id in ids]
    if params:
        session.execute(_CLOSE_ACTIVITIES, params)


def activity_states(session: Session, instance_id: int) -> tuple[list[str], list[str]]:
    """The element ids of a case's activities that are open now, and of those that completed."""
    rows = session.execute(select(ACTIVITY.c.element_id, ACTIVITY.c.ended_at, ACTIVITY.c.state)
                           .where(ACTIVITY.c.instance_id == instance_id)).all()
    current = sorted({r.element_id for r in rows if r.ended_at is None})
    completed = sorted({r.element_id for r in rows if r.state == "completed"})
    return current, completed


_OPEN_ACTIVITIES = (select(ACTIVITY.c.spiff_task_id, ACTIVITY.c.element_id, ACTIVITY.c.name)
                    .where(ACTIVITY.c.instance_id == bindparam("instance_id"), ACTIVITY.c.ended_at.is_(None))
                    .order_by(ACTIVITY.c.id))


def open_activities(session: Session, instance_id: int) -> list[dict[str, Any]]:
    """A case's activities open now (spiff_task_id, element_id, name), oldest first."""
    return [dict(row) for row in session.execute(_OPEN_ACTIVITIES, {"instance_id": instance_id}).mappings()]
