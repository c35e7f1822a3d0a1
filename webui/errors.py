"""Errors as pages: one table from the engine's errors to HTTP statuses, and a styled page for each status.

The pages use the base layout (navigation, language switch) and say the engine's
message in the user's language. An unexpected exception is a 500 page; Flask logs its
traceback before the handler runs. Should the page itself fail (the database being
the trouble, say), a minimal page in both languages is sent instead.
"""
from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from engine.errors import BankflowError, Conflict, DatabaseProblem, DeployError, InvalidData, NotFound, PermissionDenied
from webui.messages import say

# Engine error class -> HTTP status; the most specific class of an error decides (see `status_of`).
STATUSES: dict[type[BankflowError], int] = {
    PermissionDenied: 403, NotFound: 404, Conflict: 409, InvalidData: 400, DeployError: 400, DatabaseProblem: 503,
    BankflowError: 409,
}
PAGES = (400, 403, 404, 405, 409, 500, 503)
log = logging.getLogger("bankflow.web")
FALLBACK = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status} · bankflow</title></head>"
            "<body><h1>{status}</h1><p>Something went wrong on our side; please try again later.</p>"
            "<p lang=\"zh-Hans\">系统出现问题，请稍后再试。</p><p><a href=\"/\">bankflow</a></p></body></html>")


def status_of(exc: BankflowError) -> int:
    """The HTTP status of an engine error."""
    return next(STATUSES[kind] for kind in type(exc).__mro__ if kind in STATUSES)


def error_page(status: int, message: str = ""):
    """The styled page for `status` with `message` (already in the user's language)."""
    try:
        return render_template("errors/error.html", status=status, message=message), status
    except Exception:  # the page needs the database, the session, the templates: send what needs none
        log.exception("the error page for %s could not be shown", status)
        return FALLBACK.format(status=escape(status)), status


def _http_page(exc: HTTPException):
    if isinstance(exc, CSRFError):
        return error_page(400, _("The form had expired or did not come from this site. Go back, reload the page "
                                 "and try again."))
    # A 400 from this app's own `abort` says which input was wrong; the framework's texts are not shown.
    own = exc.code == 400 and exc.description != type(exc).description
    return error_page(exc.code or 500, (exc.description or "") if own else "")


def init_app(app: Flask) -> None:
    app.register_error_handler(BankflowError, lambda exc: error_page(status_of(exc), say(exc)))
    for status in PAGES:
        app.register_error_handler(status, _http_page)
