"""In-app notifications to users, and which of them still wait to be mailed (`uow.notifications`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.orm import Session

from engine.records.notifications import NotificationRecord, PendingMail
from engine.store.tables import NOTIFICATION, USER


def _notification(row: Row[Unpack[tuple[Any, ...]]]) -> NotificationRecord:
    return NotificationRecord(id=row.id, user_name=row.user_name, instance_id=row.instance_id, task_id=row.task_id,
                              kind=row.kind, message=row.message, message_id=row.message_id, params=row.params,
                              created_at=row.created_at, read_at=row.read_at, emailed_at=row.emailed_at)


class NotificationRepository:
    """Notifications inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, recipients: list[str], *, instance_id: int | None, task_id: int | None, kind: str, message: str,
            message_id: str | None, params: dict[str, Any] | None, now: datetime) -> None:
        """The same notification to each of `recipients`."""
        if recipients:
            self.session.execute(insert(NOTIFICATION), [
                {"user_name": name, "instance_id": instance_id, "task_id": task_id, "kind": kind, "message": message,
                 "message_id": message_id, "params": params, "created_at": now} for name in recipients])

    def of(self, user: str, unread_only: bool, limit: int) -> list[NotificationRecord]:
        """A user's notifications, newest first."""
        query = select(NOTIFICATION).where(NOTIFICATION.c.user_name == user)
        if unread_only:
            query = query.where(NOTIFICATION.c.read_at.is_(None))
        return [_notification(row) for row in self.session.execute(query.order_by(NOTIFICATION.c.id.desc())
                                                                   .limit(limit))]

    def unread_count(self, user: str) -> int:
        return self.session.scalar(select(func.count()).where(NOTIFICATION.c.user_name == user,
                                                              NOTIFICATION.c.read_at.is_(None))) or 0

    def mark_read(self, user: str, ids: list[int] | None, now: datetime) -> int:
        """Mark the user's unread notifications read (only `ids` when given); how many changed."""
        statement = update(NOTIFICATION).where(NOTIFICATION.c.user_name == user, NOTIFICATION.c.read_at.is_(None))
        if ids is not None:
            statement = statement.where(NOTIFICATION.c.id.in_(ids))
        return self.session.connection().execute(statement.values(read_at=now)).rowcount

    def pending_mail(self, limit: int) -> list[PendingMail]:
        """Notifications not mailed yet to users with an address, oldest first."""
        return [PendingMail(id=row.id, message=row.message, email=row.email) for row in self.session.execute(
            select(NOTIFICATION.c.id, NOTIFICATION.c.message, USER.c.email)
            .join(USER, USER.c.name == NOTIFICATION.c.user_name)
            .where(NOTIFICATION.c.emailed_at.is_(None), USER.c.email.is_not(None))
            .order_by(NOTIFICATION.c.id).limit(limit))]

    def mark_mailed(self, ids: list[int], now: datetime) -> None:
        if ids:
            self.session.execute(update(NOTIFICATION).where(NOTIFICATION.c.id.in_(ids)).values(emailed_at=now))
