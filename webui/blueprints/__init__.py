"""One blueprint per area of the web app; what they share is here.

A route parses the request, calls one service function with the signed-in user,
and maps the service's errors to a page (`webui.errors`).
"""
from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

from engine.services.context import EngineContext


def engine() -> EngineContext:
    from webui import engine_context

    return engine_context(current_app)


def me() -> str:
    """The signed-in user's name: every service call from the web acts as them."""
    return current_user.name


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def form_values(fields: list[dict]) -> dict[str, str]:
    """The submitted values of a task or start form, by field id, as the user typed them."""
    values = {}
    for field in fields:
        if field.get("readonly"):
            continue
        raw = request.form.get(field["id"], "")
        if field["type"] == "boolean" and not raw:
            continue  # neither yes nor no chosen: the form says whether that is allowed
        values[field["id"]] = raw
    return values
