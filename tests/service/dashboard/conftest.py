"""The claims history of the analytics tests, and a manager and a clerk to look at it."""
from __future__ import annotations

import pytest

from engine.services import users
from tests.service.analytics.conftest import build_history, claims  # noqa: F401  (fixtures)
from tests.helpers.statements import counting


@pytest.fixture
def history(build_history):  # noqa: F811
    """14 claims with known times; returns (ctx, end) with mona (manager) and ada (admin) added."""
    end = build_history()
    from tests.service.analytics.conftest import HERE  # noqa: F401

    return end


@pytest.fixture
def managers(claims):  # noqa: F811
    users.add_user(claims, "mona", "secret123", roles=["manager"])
    users.add_user(claims, "ada", "secret123", roles=["admin"])
    return claims


@pytest.fixture
def statement_counter():
    return counting
