"""In-app notifications, and mailing them to users with an email address."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from engine.services.context import EngineContext
from engine.store.models import Notification, User
from engine.services.unit_of_work import unit_of_work
from engine.views import iso

log = logging.getLogger("bankflow.mail")
MAIL_BATCH = 100


def notification_view(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "kind": n.kind, "message": n.message, "instance_id": n.instance_id,
            "task_id": n.task_id, "created_at": iso(n.created_at), "read_at": iso(n.read_at)}


def list_for(ctx: EngineContext, user: str, unread_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    with unit_of_work(ctx, read_only=True) as session:
        query = select(Notification).where(Notification.user_name == user)
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        return [notification_view(n) for n in session.scalars(query.order_by(Notification.id.desc()).limit(limit))]


def deliver_pending(ctx: EngineContext) -> int:
    """Mail notifications not mailed yet to users who have an address; returns how many were sent.

    A notification is marked mailed only after the SMTP server accepted it, so a
    mail server outage delays mails without losing them.
    """
    if ctx.mailer is None:
        return 0
    with unit_of_work(ctx) as session:
        pending = session.execute(
            select(Notification.id, Notification.message, User.email)
            .join(User, User.name == Notification.user_name)
            .where(Notification.emailed_at.is_(None), User.email.is_not(None))
            .order_by(Notification.id).limit(MAIL_BATCH)).all()
    sent = []
    for notification_id, message, email in pending:
        try:
            ctx.mailer.send(email, f"[bankflow] {message[:120]}", message)
            sent.append(notification_id)
        except OSError as exc:  # smtplib's errors are OSErrors; try again on the next pass
            log.warning("mail to %s failed: %s", email, exc)
            break
    if sent:
        with unit_of_work(ctx) as session:
            for notification in session.scalars(select(Notification).where(Notification.id.in_(sent))):
                notification.emailed_at = ctx.clock.now()
    return len(sent)
