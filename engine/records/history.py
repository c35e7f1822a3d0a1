"""A case's history as the store returns it: audit-log events and the activities open or done."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.statuses import ActivityState


@dataclass(frozen=True, kw_only=True)
class EventRecord:
    """One entry of the append-only audit log (`type` says what happened, e.g. `task_completed`)."""

    id: int
    type: str
    at: datetime
    instance_id: int | None  # None: an administration event (deployed, user_created, ...)
    task_id: int | None
    element_id: str | None
    actor: str | None
    payload: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class NewActivity:
    """A flow node a case reached, about to be written to the history: open until `ended_at`."""

    instance_id: int
    spiff_task_id: str
    element_id: str
    element_type: str
    name: str | None
    started_at: datetime
    ended_at: datetime | None
    state: ActivityState


@dataclass(frozen=True, kw_only=True)
class OpenActivity:
    """A flow node a case is at now."""

    spiff_task_id: str
    element_id: str
    name: str | None


@dataclass(frozen=True, kw_only=True)
class ActivityStates:
    """The element ids of a case's activities open now and of those that completed (for its diagram)."""

    current: tuple[str, ...]
    completed: tuple[str, ...]
