"""In-app notifications to users, and which of them still wait to be mailed."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engine.store.models import Notification, User

NOTIFICATION = Notification.__table__


def add_notifications(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(NOTIFICATION), rows)


def notifications_of(session: Session, user: str, unread_only: bool, limit: int) -> list[dict[str, Any]]:
    query = select(NOTIFICATION).where(NOTIFICATION.c.user_name == user)
    if unread_only:
        query = query.where(NOTIFICATION.c.read_at.is_(None))
    return [dict(r) for r in session.execute(query.order_by(NOTIFICATION.c.id.desc()).limit(limit)).mappings()]


def unread_count(session: Session, user: str) -> int:
    return session.scalar(select(func.count()).where(NOTIFICATION.c.user_name == user,
                                                     NOTIFICATION.c.read_at.is_(None)))


def mark_read(session: Session, user: str, ids: list[int] | None, now: datetime) -> int:
    """Mark the user's unread notifications read (only `ids` when given); how many changed."""
    statement = update(NOTIFICATION).where(NOTIFICATION.c.user_name == user, NOTIFICATION.c.read_at.is_(None))
    if ids is not None:
        statement = statement.where(NOTIFICATION.c.id.in_(ids))
    return session.execute(statement.values(read_at=now)).rowcount


def pending_mail(session: Session, limit: int) -> list[Any]:
    """(id, message, email) of notifications not mailed yet to users with an address, oldest first."""
    return session.execute(
        select(NOTIFICATION.c.id, NOTIFICATION.c.message, User.email)
        .join(User, User.name == NOTIFICATION.c.user_name)
        .where(NOTIFICATION.c.emailed_at.is_(None), User.email.is_not(None))
        .order_by(NOTIFICATION.c.id).limit(limit)).all()


def mark_mailed(session: Session, ids: list[int], now: datetime) -> None:
    if ids:
        session.execute(update(NOTIFICATION).where(NOTIFICATION.c.id.in_(ids)).values(emailed_at=now))
