"""Notifications: SLA escalations to managers, in the app and by email.

Who hears about a breached SLA: the managers of the groups the work was offered
to (all managers when none of them is in those groups). Each gets an in-app
notification; with BANKFLOW_SMTP_HOST set the worker also mails them
(`engine.services.mailer`).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.runtime.specs import RunnableDefinition
from engine.services.context import EngineContext
from engine.services.unit_of_work import unit_of_work
from engine.services.users import load_actor
from engine.store import notification_rows, user_rows
from engine.store.history_rows import record
from engine.store.task_rows import TaskRow
from engine.views import iso, notification_view

log = logging.getLogger("bankflow.mail")
MAIL_BATCH = 100


def escalate_breach(session: Session, instance_id: int, process: RunnableDefinition, task: TaskRow | None,
                    due_at: datetime, now: datetime) -> list[str]:
    """Notify the responsible managers of a breach and record the escalation in the case history.

    The notification keeps its English text with the due time in UTC (what a mail says) and, for the
    pages, a message id with its parameters, which each reader sees in their language and time zone."""
    recipients = user_rows.managers_in(session, list(task["candidate_groups"]) if task is not None else [])
    what = f"task '{task['name']}' (#{task['id']})" if task is not None else f"case {instance_id} of {process.key}"
    message = f"SLA breached: {what} was due {due_at:%Y-%m-%d %H:%M} UTC"
    task_id = task["id"] if task is not None else None
    params = {"case": instance_id, "process": process.name or process.key, "due_at": iso(due_at)}
    if task is not None:
        params["task"] = task["name"] or task["element_id"]
    notification_rows.add_notifications(session, [
        {"user_name": name, "instance_id": instance_id, "task_id": task_id, "kind": "sla_breached",
         "message": message, "message_id": "sla_breached_task" if task is not None else "sla_breached_case",
         "params": params, "created_at": now} for name in recipients])
    record(session, "escalated", now, instance_id=instance_id, task_id=task_id,
           element_id=task["element_id"] if task is not None else None,
           payload={"notified": recipients, "message": message})
    return recipients


def list_for(ctx: EngineContext, user: str, unread_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    """A user's notifications, newest first."""
    with unit_of_work(ctx, read_only=True) as session:
        actor = load_actor(session, user)
        return [notification_view(n) for n in notification_rows.notifications_of(session, actor.name, unread_only,
                                                                                 limit)]


def unread_count(ctx: EngineContext, user: str) -> int:
    with unit_of_work(ctx, read_only=True) as session:
        return notification_rows.unread_count(session, load_actor(session, user).name)


def mark_read(ctx: EngineContext, user: str, ids: list[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones, or only `ids`); how many changed."""
    with unit_of_work(ctx) as session:
        actor = load_actor(session, user)
        return notification_rows.mark_read(session, actor.name, ids, ctx.clock.now())


def deliver_pending(ctx: EngineContext) -> int:
    """Mail notifications not mailed yet to users who have an address; returns how many were sent.

    A notification is marked mailed only after the SMTP server accepted it, so a
    mail server outage delays mails without losing them.
    """
    if ctx.mailer is None:
        return 0
    with unit_of_work(ctx) as session:
        pending = notification_rows.pending_mail(session, MAIL_BATCH)
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
            notification_rows.mark_mailed(session, sent, ctx.clock.now())
    return len(sent)
