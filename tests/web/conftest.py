"""Fixtures for the Flask app tests (flaskr-style): the app on the test's database, and its client."""
from __future__ import annotations

import pytest

from webui import create_app


@pytest.fixture
def app(ctx):
    return create_app({"TESTING": True, "ENGINE_CONTEXT": ctx, "SECRET_KEY": "test"})


@pytest.fixture
def client(app):
    return app.test_client()
