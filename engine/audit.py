"""The append-only audit log: one helper so every event has the same shape.

Events are only ever inserted, so they are collected on the session and written
in one multi-row Core INSERT when the unit of work commits (`write_pending`),
instead of one ORM insert each.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engine.store.tables import EVENT

PENDING = "bankflow_pending_events"
_INSERT = insert(EVENT)


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
    session.info.setdefault(PENDING, []).append({
        "type": type_, "at": at, "instance_id": instance_id, "task_id": task_id,
        "element_id": element_id, "actor": actor, "payload": payload or {},
    })


def write_pending(session: Session) -> None:
    """Insert the events recorded in this transaction, in the order they happened."""
    rows = session.info.pop(PENDING, None)
    if rows:
        session.execute(_INSERT, rows)
