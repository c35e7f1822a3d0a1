"""Classes 3 and 4: sign-in tells nothing about a user name. An unknown user, a wrong password and a
disabled account (right password or not) cost the same work, one password hash, and get the same
message; the lock-out after five failures keeps working. No timing here (no timed unit tests): the
hash calls are counted instead."""
from __future__ import annotations

import pytest

from engine.services import users
from tests.web.conftest import PASSWORD, csrf_token

WRONG = "The user name or password is wrong."


@pytest.fixture
def hash_checks(monkeypatch) -> list[str]:
    """The password hash checks sign-in makes, by the hash's method."""
    calls: list[str] = []
    real = users.check_password_hash

    def counted(pwhash: str, password: str) -> bool:
        calls.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", counted)
    return calls


def attempt(client, name: str, password: str):
    return client.post("/login", data={"name": name, "password": password, "csrf_token": csrf_token(client)})


@pytest.mark.parametrize("name, password", [("nobody", "secret123"), ("olga", "wrong-guess"), ("olga", PASSWORD)],
                         ids=["unknown user", "wrong password", "right password"])
def test_every_sign_in_checks_one_hash_made_like_real_ones(bank, client, hash_checks, name, password):
    attempt(client, name, password)
    assert hash_checks == [bank.password_method]


def test_an_unknown_user_costs_what_a_wrong_password_costs(bank, hash_checks):
    assert users.sign_in(bank, "nobody", "wrong-guess") is None
    unknown = list(hash_checks)
    hash_checks.clear()
    assert users.sign_in(bank, "olga", "wrong-guess") is None
    assert unknown == hash_checks == [bank.password_method]


def test_a_disabled_account_answers_like_a_wrong_password(bank, client, hash_checks):
    users.update_user(bank, "olga", "ada", disabled=True)
    answers = {password: attempt(client, "olga", password) for password in (PASSWORD, "wrong-guess")}
    answers["unknown"] = attempt(client, "nobody", PASSWORD)
    for response in answers.values():
        page = response.get_data(as_text=True)
        assert response.status_code == 401 and WRONG in page and "disabled" not in page
    assert len(hash_checks) == 3


def test_a_disabled_account_is_locked_whatever_password_was_tried(bank, client):
    """Were only wrong passwords counted, five tries of one password that did not lock would say it was right."""
    users.update_user(bank, "olga", "ada", disabled=True)
    for _ in range(5):
        attempt(client, "olga", PASSWORD)
    assert "locked for 15 minutes" in attempt(client, "olga", PASSWORD).get_data(as_text=True)


def test_the_lock_out_still_comes_after_five_failures(bank, client, clock, hash_checks):
    for _ in range(5):
        assert attempt(client, "olga", "wrong-guess").status_code == 401
    response = attempt(client, "olga", PASSWORD)
    assert response.status_code == 401 and "locked for 15 minutes" in response.get_data(as_text=True)
    assert len(hash_checks) == 6  # a locked account costs the same work too
    clock.advance(minutes=16)
    assert attempt(client, "olga", PASSWORD).status_code == 302
