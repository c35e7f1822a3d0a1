"""The running app's engine context, for routes, template filters and the sign-in loader.

`create_app` stores it in `app.extensions`; everything in the web app reaches it through here, so no
module has to import the `webui` package (whose factory imports them all).
"""
from __future__ import annotations

from flask import Flask, current_app

from engine.services.context import EngineContext

EXTENSION = "bankflow"


def engine_context(app: Flask) -> EngineContext:
    context: EngineContext = app.extensions[EXTENSION]
    return context


def current_engine() -> EngineContext:
    """The engine context of the app handling this request."""
    return engine_context(current_app)
