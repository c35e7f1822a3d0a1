"""Words for the engine's codes (statuses, event types), so pages show them in the user's language.

Listed here as literal messages so that the catalogue extraction finds them.
"""
from __future__ import annotations

import re

from flask import Flask
from flask_babel import lazy_gettext as _l

from engine.services import users

LABELS = {
    "open": _l("open"), "claimed": _l("claimed"), "completed": _l("completed"), "cancelled": _l("cancelled"),
    "running": _l("running"), "incident": _l("incident"), "new": _l("new"), "unchanged": _l("unchanged"),
    "instance_started": _l("Case started"), "task_created": _l("Task created"), "task_claimed": _l("Task claimed"),
    "task_unclaimed": _l("Task given back"), "task_assigned": _l("Task assigned"),
    "task_completed": _l("Task completed"), "task_cancelled": _l("Task cancelled"),
    "service_completed": _l("Service answered"), "timer_fired": _l("Timer fired"),
    "sla_breached": _l("SLA breached"), "escalated": _l("Escalated"), "retried": _l("Retried"),
    "instance_completed": _l("Case completed"), "commented": _l("Comment added"),
}


def label(code: str | None) -> str:
    """The code in the user's language; codes without a word are shown as they are."""
    return str(LABELS.get(code, code or ""))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(label=label, problem=problem)


# The engine's field messages (engine.bpmn.forms, engine.services), matched so the page can say them in the user's language.
PROBLEMS = [
    (re.compile(r"is required"), lambda m: _l("is required")),
    (re.compile(r"must be text"), lambda m: _l("must be text")),
    (re.compile(r"must be a whole number"), lambda m: _l("must be a whole number")),
    (re.compile(r"must be a whole number between (\S+) and (\S+)"),
     lambda m: _l("must be a whole number between %(low)s and %(high)s", low=m.group(1), high=m.group(2))),
    (re.compile(r"must be a number"), lambda m: _l("must be a number")),
    (re.compile(r"must be a (finite )?decimal number"), lambda m: _l("must be a decimal number")),
    (re.compile(r"must be true or false"), lambda m: _l("must be yes or no")),
    (re.compile(r"must be a date \(YYYY-MM-DD\)"), lambda m: _l("must be a date (YYYY-MM-DD)")),
    (re.compile(r"must be at least (\S+) characters long"), lambda m: _l("must be at least %(n)s characters long",
                                                                           n=m.group(1))),
    (re.compile(r"must be at most (\S+) characters long"), lambda m: _l("must be at most %(n)s characters long",
                                                                          n=m.group(1))),
    (re.compile(r"must be at least (.+)"), lambda m: _l("must be at least %(n)s", n=m.group(1))),
    (re.compile(r"must be at most (.+)"), lambda m: _l("must be at most %(n)s", n=m.group(1))),
    (re.compile(r"must be one of (.+)"), lambda m: _l("must be one of %(values)s", values=m.group(1))),
    (re.compile(r"is read-only"), lambda m: _l("is read-only")),
    # engine.services.users: the profile and the admin's user pages
    (re.compile(re.escape(users.UNKNOWN_TIMEZONE)), lambda m: _l("is not a time zone name such as Asia/Shanghai")),
    (re.compile(re.escape(users.LAST_ADMIN_ROLE)),
     lambda m: _l("The last enabled admin cannot lose the admin role: give another user the admin role first.")),
    (re.compile(re.escape(users.LAST_ADMIN_DISABLED)),
     lambda m: _l("The last enabled admin cannot be disabled: give another user the admin role first.")),
]


def problem(message: str) -> str:
    """A field problem from the engine in the user's language; an unknown one as the engine said it."""
    for pattern, words in PROBLEMS:
        found = pattern.fullmatch(message)
        if found:
            return str(words(found))
    return message
