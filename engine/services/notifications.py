"""Notifications: SLA escalations to managers, in the app and by email.

Who hears about a breached SLA: the managers of the groups the work was offered
to (all managers when none of them is in those groups). Each gets an in-app
notification; with BANKFLOW_SMTP_HOST set the worker also mails them
(`engine.services.mailer`).
"""
from __future__ import annotations

import logging
from datetime import datetime

from engine.records.notifications import NotificationRecord
from engine.records.tasks import TaskRecord
from engine.runtime.specs import RunnableDefinition
from engine.services.context import EngineContext
from engine.services.unit_of_work import unit_of_work
from engine.services.users import load_actor
from engine.store.unit_of_work import UnitOfWork
from engine.json_shapes import iso

log = logging.getLogger("bankflow.mail")
MAIL_BATCH = 100


def escalate_breach(uow: UnitOfWork, instance_id: int, process: RunnableDefinition, task: TaskRecord | None,
                    due_at: datetime, now: datetime) -> list[str]:
    """Notify the responsible managers of a breach and record the escalation in the case history.

    The notification keeps its English text with the due time in UTC (what a mail says) and, for the
    pages, a message id with its parameters, which each reader sees in their language and time zone."""
    recipients = uow.users.managers_in(list(task.candidate_groups) if task is not None else [])
    what = f"task '{task.name}' (#{task.id})" if task is not None else f"case {instance_id} of {process.key}"
    message = f"SLA breached: {what} was due {due_at:%Y-%m-%d %H:%M} UTC"
    task_id = task.id if task is not None else None
    params = {"case": instance_id, "process": process.name or process.key, "due_at": iso(due_at)}
    if task is not None:
        params["task"] = task.name or task.element_id
    uow.notifications.add(recipients, instance_id=instance_id, task_id=task_id, kind="sla_breached", message=message,
                          message_id="sla_breached_task" if task is not None else "sla_breached_case", params=params,
                          now=now)
    uow.history.record("escalated", now, instance_id=instance_id, task_id=task_id,
                       element_id=task.element_id if task is not None else None,
                       payload={"notified": recipients, "message": message})
    return recipients


def list_for(ctx: EngineContext, user: str, unread_only: bool = False, limit: int = 100) -> list[NotificationRecord]:
    """A user's notifications, newest first."""
    with unit_of_work(ctx, read_only=True) as uow:
        return uow.notifications.of(load_actor(uow, user).name, unread_only, limit)


def unread_count(ctx: EngineContext, user: str) -> int:
    with unit_of_work(ctx, read_only=True) as uow:
        return uow.notifications.unread_count(load_actor(uow, user).name)


def mark_read(ctx: EngineContext, user: str, ids: list[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones, or only `ids`); how many changed."""
    with unit_of_work(ctx) as uow:
        return uow.notifications.mark_read(load_actor(uow, user).name, ids, ctx.clock.now())


def deliver_pending(ctx: EngineContext) -> int:
    """Mail notifications not mailed yet to users who have an address; returns how many were sent.

    A notification is marked mailed only after the SMTP server accepted it, so a
    mail server outage delays mails without losing them.
    """
    if ctx.mailer is None:
        return 0
    with unit_of_work(ctx) as uow:
        pending = uow.notifications.pending_mail(MAIL_BATCH)
    sent = []
    for mail in pending:
        try:
            ctx.mailer.send(mail.email, f"[bankflow] {mail.message[:120]}", mail.message)
            sent.append(mail.id)
        except OSError as exc:  # smtplib's errors are OSErrors; try again on the next pass
            log.warning("mail to %s failed: %s", mail.email, exc)
            break
    if sent:
        with unit_of_work(ctx) as uow:
            uow.notifications.mark_mailed(sent, ctx.clock.now())
    return len(sent)
