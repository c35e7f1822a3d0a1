"""Who hears about a breached SLA: the managers of the groups the work was offered to.

Each gets an in-app notification; when SMTP is configured the worker also mails
them (see `engine.mail`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.store.models import HumanTask, Notification, ProcessInstance, User


def managers_for(session: Session, groups: list[str]) -> list[str]:
    """Managers who belong to one of `groups`; all managers when none does."""
    managers = session.scalars(select(User).order_by(User.name)).all()
    managers = [u for u in managers if "manager" in u.roles]
    in_groups = [u.name for u in managers if {g.name for g in u.groups} & set(groups)]
    return in_groups or [u.name for u in managers]


def escalate_breach(session: Session, instance: ProcessInstance, task: HumanTask | None, now: datetime) -> list[str]:
    """Notify the responsible managers and record the escalation in the case history."""
    groups = list(task.candidate_groups) if task is not None else []
    recipients = managers_for(session, groups)
    what = (f"task '{task.name}' (#{task.id})" if task is not None
            else f"case {instance.id} of {instance.definition.key}")
    message = f"SLA breached: {what} was due {instance.due_at if task is None else task.due_at:%Y-%m-%d %H:%M} UTC"
    for name in recipients:
        session.add(Notification(user_name=name, instance_id=instance.id, task_id=task.id if task else None,
                                 kind="sla_breached", message=message, created_at=now))
    record(session, "escalated", now, instance_id=instance.id, task_id=task.id if task else None,
           element_id=task.element_id if task else None, payload={"notified": recipients, "message": message})
    return recipients
