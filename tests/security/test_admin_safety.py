"""Class 2: the last enabled admin can neither lose the role nor be disabled, and `bankflow users set`
lets the local operator repair an installation that no admin can sign in to."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from engine.errors import InvalidData
from engine.services import users
from tests.web.conftest import PASSWORD, csrf_token
from webui.cli import main


@pytest.fixture
def bankflow(database_url):
    runner = CliRunner()

    def run(*args: str, expect: int = 0):
        result = runner.invoke(main, ["--database-url", database_url, *args], catch_exceptions=False)
        assert result.exit_code == expect, (result.output, result.stderr)
        return result

    return run


def test_the_last_admin_cannot_take_away_their_own_admin_role(bank, client, sign_in):
    sign_in("ada")
    response = client.post("/admin/users/ada", data={"roles": ["staff"], "groups": "",
                                                     "csrf_token": csrf_token(client, "/admin")})
    assert response.status_code == 400
    assert "cannot remove the admin role from the last enabled admin" in response.get_data(as_text=True)
    assert users.get_user(bank, "ada").roles == ("admin",)
    assert client.get("/admin").status_code == 200


def test_the_message_is_in_chinese_for_a_chinese_admin(bank, client, sign_in):
    sign_in("ada")
    response = client.post("/admin/users/ada", data={"roles": ["staff"], "groups": "",
                                                     "csrf_token": csrf_token(client, "/admin")},
                           headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 400 and "最后一位启用的管理员" in response.get_data(as_text=True)


def test_the_last_enabled_admin_cannot_be_disabled(bank):
    users.add_user(bank, "root", PASSWORD, roles=["admin"])
    users.update_user(bank, "root", "ada", disabled=True)  # another admin is still enabled: allowed
    with pytest.raises(InvalidData) as refused:
        users.update_user(bank, "ada", None, disabled=True)  # the local operator, not ada herself
    assert refused.value.problems() == [f"disabled: {users.LAST_ADMIN_DISABLED}"]
    users.update_user(bank, "root", None, disabled=False)
    users.update_user(bank, "ada", "root", roles=["staff"])  # two enabled admins: one may lose the role
    assert users.get_user(bank, "ada").roles == ("staff",)


def test_the_command_line_refuses_too_and_says_why(bank, bankflow):
    result = bankflow("users", "set", "ada", "--disable", expect=1)
    assert "cannot disable the last enabled admin" in result.stderr
    result = bankflow("users", "set", "ada", "--role", "staff", expect=1)
    assert "cannot remove the admin role from the last enabled admin" in result.stderr


def test_users_set_repairs_an_installation_without_an_admin(ctx, bankflow, client, sign_in):
    """A database whose only admin forgot the password and was locked out, and no other admin."""
    users.add_user(ctx, "olga", PASSWORD, ["credit_officers"], ["staff"])
    users.add_user(ctx, "ada", PASSWORD, roles=["admin"])
    for _ in range(5):
        client.post("/login", data={"name": "ada", "password": "forgotten", "csrf_token": csrf_token(client)})
    sign_in("olga")
    assert client.get("/admin").status_code == 403

    changed = bankflow("users", "set", "olga", "--role", "staff", "--role", "admin", "--group", "credit_officers",
                       "--group", "tellers", "--json")
    assert '"roles": [\n    "staff",\n    "admin"\n  ]' in changed.stdout
    assert client.get("/admin").status_code == 200  # a role added: the running session stays
    assert "user ada changed (roles: admin; groups: -; enabled)" in bankflow(
        "users", "set", "ada", "--password", "remembered-1").stdout
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    sign_in("ada", "remembered-1")  # the new password also lifted the lock-out
    bankflow("users", "set", "olga", "--disable")
    assert users.get_user(ctx, "olga").disabled is True
    bankflow("users", "set", "olga", "--enable", "--group", "")
    assert users.get_user(ctx, "olga").groups == () and users.get_user(ctx, "olga").disabled is False
