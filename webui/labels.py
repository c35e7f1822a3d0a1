"""Words for the engine's codes (statuses, event types), so pages show them in the user's language.

Listed here as literal messages so that the catalogue extraction finds them.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

LABELS = {
    "open": _l("open"), "claimed": _l("claimed"), "completed": _l("completed"), "cancelled": _l("cancelled"),
    "running": _l("running"), "incident": _l("incident"), "new": _l("new"), "unchanged": _l("unchanged"),
    "instance_started": _l("instance_started"), "task_created": _l("task_created"),
    "task_claimed": _l("task_claimed"), "task_unclaimed": _l("task_unclaimed"), "task_assigned": _l("task_assigned"),
    "task_completed": _l("task_completed"), "task_cancelled": _l("task_cancelled"),
    "service_completed": _l("service_completed"), "timer_fired": _l("timer_fired"),
    "sla_breached": _l("sla_breached"), "escalated": _l("escalated"), "retried": _l("retried"),
    "instance_completed": _l("instance_completed"), "commented": _l("commented"),
}


def label(code: str | None) -> str:
    """The code in the user's language; codes without a word are shown as they are."""
    return str(LABELS.get(code, code or ""))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["label"] = label
