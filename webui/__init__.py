"""bankflow's entry points: the Flask web app (`create_app`) and the `bankflow` command line."""
from __future__ import annotations

import secrets
from typing import Any

from flask import Flask
from flask_wtf import CSRFProtect

from engine.services import database, users
from webui import errors, formatting, i18n, labels, messages, security, sign_in, words
from webui.blueprints import (DatabaseId, admin, assets, auth, cases, dashboard, designer, health, notifications,
                              tasks)
from webui.engine_access import EXTENSION, engine_context

__all__ = ["create_app", "engine_context"]

csrf = CSRFProtect()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The application factory: one engine context per app, one blueprint per area.

    Settings come from BANKFLOW_* environment variables (BANKFLOW_SECRET_KEY,
    BANKFLOW_DATABASE_URL, BANKFLOW_SESSION_COOKIE_SECURE=true behind HTTPS,
    BANKFLOW_DEFAULT_TIMEZONE) or from `config`.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        DATABASE_URL=None, SECRET_KEY=None,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=False,
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=users.SESSION_LIFETIME,  # one working day; the server refuses older sessions
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        DEFAULT_TIMEZONE="Asia/Shanghai",
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,  # uploads of BPMN/DMN files
    )
    app.config.from_prefixed_env("BANKFLOW")
    if config:
        app.config.from_mapping(config)
    if not app.config["SECRET_KEY"]:
        # Sessions then last as long as this process; several web processes need BANKFLOW_SECRET_KEY.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    context = app.config.get("ENGINE_CONTEXT") or database.open_context(app.config["DATABASE_URL"])
    app.extensions[EXTENSION] = context

    csrf.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    sign_in.init_app(app)
    errors.init_app(app)
    formatting.init_app(app)
    labels.init_app(app)
    messages.init_app(app)
    words.init_app(app)

    app.url_map.converters["int"] = DatabaseId  # every <int:...> id bounded to the database's range (404 beyond)
    for blueprint in (health.bp, assets.bp, auth.bp, tasks.bp, cases.bp, designer.bp, admin.bp, notifications.bp,
                      dashboard.bp):
        app.register_blueprint(blueprint)
    return app

