"""The append-only audit log: one helper so every event has the same shape."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.store.models import Event


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
) -> Event:
    event = Event(type=type_, at=at, instance_id=instance_id, task_id=task_id,
                  element_id=element_id, actor=actor, payload=payload or {})
    session.add(event)
    return event
