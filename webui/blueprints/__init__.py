"""One blueprint per area of the web app; what they share is here.

A route parses the request, calls one service function with the signed-in user,
and maps the service's errors to a page (`webui.errors`).

Whole numbers from the request never reach the database unbounded: every `<int:...>` in a
route is a `DatabaseId` (the app factory registers it as the `int` converter), so an id
out of the database's range is a 404 like any id that does not exist; a whole number in a
query string or form is read with `whole_number`/`int_arg`, which answer 400 with a message.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from flask import abort, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import IntegerConverter, ValidationError

from engine.errors import Conflict, InvalidData, PermissionDenied
from engine.records.instances import CaseSummary
from engine.services.instances import StartForm
from engine.services.limits import MAX_INTEGER, MIN_INTEGER
from webui.errors import status_of
from webui.messages import say

WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,19}")



def me() -> str:
    """The signed-in user's name: every service call from the web acts as them."""
    return current_user.name


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: a row id, 0 to MAX_INTEGER (the database's Integer range). A larger
    number cannot name a row, so it is a 404 like any id that does not exist, never an overflow in the
    database; its digits are counted before converting, so a thousand digits cost nothing."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = 0, max: int | None = MAX_INTEGER,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-")) > len(str(MAX_INTEGER)):
            raise ValidationError()
        return super().to_python(value)


def whole_number(raw: str, name: str, low: int = MIN_INTEGER, high: int = MAX_INTEGER) -> int:
    """`raw`, a whole number from `low` to `high` submitted as `name`; anything else is a 400 whose page
    says what was expected."""
    text = raw.strip()
    if WHOLE_NUMBER.fullmatch(text) and low <= int(text) <= high:
        return int(text)
    abort(400, description=_("%(name)s must be a whole number from %(low)s to %(high)s.", name=name, low=low,
                             high=high))


def int_arg(name: str, default: int | None = None, low: int = MIN_INTEGER, high: int = MAX_INTEGER) -> int | None:
    """The query argument `name` as a whole number from `low` to `high` (400 otherwise); `default` when
    it is absent or empty."""
    raw = request.args.get(name, "")
    return default if not raw.strip() else whole_number(raw, name, low, high)


def page_number() -> int:
    return int_arg("page", 1, low=1) or 1


def start_page(process: StartForm, begin: Callable[[str | None, Mapping[str, str]], CaseSummary],
               after: Callable[[CaseSummary], str], values: Mapping[str, str] | None = None) -> Any:
    """A process's start form (cases/start.html: a business key and the start event's fields). On POST,
    `begin(business_key, submitted form)` starts the case and the user goes where `after(case)` says; a
    refused value is shown beside its field with what was typed kept. `values` fills the form first."""
    shown, problems, message, status = dict(values or {}), {}, None, 200
    if request.method == "POST":
        shown = request.form.to_dict()
        business_key = request.form.get("business_key", "").strip() or None
        try:
            case = begin(business_key, request.form)
        except InvalidData as exc:
            problems = {p.field: p.message for p in exc.field_problems}
            message, status = _("Some fields need your attention."), status_of(exc)
        except (Conflict, PermissionDenied) as exc:
            message, status = say(exc), status_of(exc)
        else:
            return redirect(after(case))
        shown["business_key"] = business_key or ""
    return render_template("cases/start.html", process=process, values=shown, problems=problems,
                           message=message), status
