"""bankflow's entry points: the Flask web app (`create_app`) and the `bankflow` command line."""
from __future__ import annotations

import secrets
from typing import Any

from flask import Flask

from engine.services import database
from engine.services.context import EngineContext


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The application factory: one engine context per app, one blueprint per area."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DATABASE_URL=None, SECRET_KEY=None)
    app.config.from_prefixed_env("BANKFLOW")
    if config:
        app.config.from_mapping(config)
    if not app.config["SECRET_KEY"]:
        # Sessions then last as long as this process; several web processes need BANKFLOW_SECRET_KEY.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    context = app.config.get("ENGINE_CONTEXT") or database.open_context(app.config["DATABASE_URL"])
    app.extensions["bankflow"] = context

    from webui.blueprints import health

    app.register_blueprint(health.bp)
    return app


def engine_context(app: Flask) -> EngineContext:
    return app.extensions["bankflow"]
