"""In-app notifications (SLA escalations) as the store returns them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, kw_only=True)
class NotificationRecord:
    """A message to one user. `message` is English, as mailed; pages say `message_id` with `params` in
    the reader's language (both None on notifications stored before they were kept)."""

    id: int
    user_name: str
    instance_id: int | None
    task_id: int | None
    kind: str
    message: str
    message_id: str | None
    params: dict[str, Any] | None
    created_at: datetime
    read_at: datetime | None
    emailed_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class PendingMail:
    """A notification not mailed yet, and the address of its user."""

    id: int
    message: str
    email: str
