"""Fixtures shared by the service tests (the database fixtures are in tests/conftest.py)."""
from __future__ import annotations

import pytest

from engine.services import users

# The demo-like people several test files share: name -> (groups, roles); no roles means staff.
STAFF = {
    "olga": (["credit_officers"], []),
    "oleg": (["credit_officers"], []),
    "max": (["credit_managers"], []),
    "mia": (["credit_managers"], ["manager"]),
    "ann": (["clerks"], []),
    "ben": (["clerks"], []),
}


@pytest.fixture
def staff(ctx):
    """The engine context with the people in STAFF added (password "secret123")."""
    for name, (groups, roles) in STAFF.items():
        users.add_user(ctx, name, "secret123", groups=groups, roles=roles)
    return ctx
