"""Service errors as pages: refused is 403, unknown (or private) is 404, an unusable database 503."""
from __future__ import annotations

from flask import Flask, render_template

from engine.errors import BankflowError, DatabaseProblem, NotFound, PermissionDenied


def _page(status: int, message: str):
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    app.register_error_handler(PermissionDenied, lambda exc: _page(403, str(exc)))
    app.register_error_handler(NotFound, lambda exc: _page(404, str(exc)))
    app.register_error_handler(DatabaseProblem, lambda exc: _page(503, str(exc)))
    app.register_error_handler(BankflowError, lambda exc: _page(409, str(exc)))
    app.register_error_handler(403, lambda exc: _page(403, ""))
    app.register_error_handler(404, lambda exc: _page(404, ""))
    app.register_error_handler(400, lambda exc: _page(400, getattr(exc, "description", "")))
