"""Fixtures for the Flask app tests (flaskr-style): the app on the test's database, its client, and
a small bank with staff in two groups, a designer, a manager and an admin."""
from __future__ import annotations

import re

import pytest

from engine.services import deployments, users
from webui import create_app

PASSWORD = "secret123"


@pytest.fixture
def app(ctx):
    return create_app({"TESTING": True, "ENGINE_CONTEXT": ctx, "SECRET_KEY": "test"})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def bank(ctx, fixture_path):
    """two_lane_review (credit_officers capture, credit_managers approve) and the people who work on it."""
    for name, groups, roles in (("olga", ["credit_officers"], ["staff"]), ("oleg", ["credit_officers"], ["staff"]),
                                ("max", ["credit_managers"], ["staff"]), ("mona", ["credit_managers"], ["manager"]),
                                ("dana", [], ["designer"]), ("ada", [], ["admin"])):
        users.add_user(ctx, name, PASSWORD, groups, roles)
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]))
    return ctx


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def sign_in(client):
    """Sign `name` in through the real form (CSRF token included); returns the client."""

    def sign(name: str, password: str = PASSWORD):
        response = client.post("/login", data={"name": name, "password": password,
                                               "csrf_token": csrf_token(client)})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign


@pytest.fixture
def token(client):
    return lambda path="/tasks": csrf_token(client, path)
