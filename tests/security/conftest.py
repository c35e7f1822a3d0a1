"""The web fixtures (`app`, `client`, `bank`, `sign_in`, `token`) for the security tests, and a second
browser on the same app for cookies copied from the first."""
from __future__ import annotations

import pytest

from tests.web.conftest import app, bank, client, sign_in, token  # noqa: F401 (fixtures)


@pytest.fixture
def other_client(app):
    """A second browser: another machine that got hold of a cookie."""
    return app.test_client()


def copy_session_cookie(source, target) -> str:
    """Give `target` the session cookie of `source`, as an attacker who copied it would; returns it."""
    value = source.get_cookie("session").value
    target.set_cookie("session", value)
    return value
