"""Class 1: sessions can be revoked. The cookie holds a server-side session's token, checked on
every request: sign-out, "sign out everywhere", an admin's new password, disabling and taking a role
away end sessions at once, for every copy of the cookie; a session lasts 8 hours from sign-in."""
from __future__ import annotations

import hashlib
from datetime import timedelta

from flask_login.utils import encode_cookie

from engine.services import users
from tests.helpers.statements import counting
from tests.security.conftest import copy_session_cookie
from tests.web.conftest import PASSWORD, csrf_token


def session_token(app, client) -> str:
    """The token Flask-Login keeps in the (signed, not encrypted) session cookie."""
    cookie = client.get_cookie("session").value
    return app.session_interface.get_signing_serializer(app).loads(cookie)["_user_id"]


def test_the_cookie_holds_a_random_token_not_the_user_name(app, bank, client, sign_in):
    sign_in("olga")
    token = session_token(app, client)
    assert token != "olga" and len(token) >= 40


def test_a_cookie_with_only_the_user_name_is_refused(app, bank, client, sign_in):
    """What the cookie held before: a forged or old cookie naming a user signs no one in."""
    sign_in("olga")
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(client.get_cookie("session").value)
    client.set_cookie("session", serializer.dumps({**data, "_user_id": "olga"}))
    assert client.get("/tasks").status_code == 302


def test_a_copied_cookie_stops_working_after_sign_out(bank, client, other_client, sign_in):
    sign_in("olga")
    copy_session_cookie(client, other_client)
    assert other_client.get("/tasks").status_code == 200  # the copy works while the session lives
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    response = other_client.get("/tasks")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_an_admin_password_reset_ends_every_session_of_the_user(bank, client, other_client, sign_in):
    sign_in("olga")
    users.update_user(bank, "olga", "ada", password="new-secret-1")
    assert client.get("/tasks").status_code == 302
    copy_session_cookie(client, other_client)
    assert other_client.get("/tasks").status_code == 302


def test_admins_changing_their_own_password_keep_this_session_and_end_the_others(app, bank, client, sign_in):
    laptop = app.test_client()
    laptop.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": csrf_token(laptop)})
    assert laptop.get("/admin").status_code == 200
    sign_in("ada")
    response = client.post("/admin/users/ada", data={"roles": ["admin"], "password": "new-secret-1", "groups": "",
                                                     "csrf_token": csrf_token(client, "/admin")})
    assert response.status_code == 302
    assert client.get("/admin").status_code == 200
    assert laptop.get("/admin").status_code == 302


def test_disabling_and_taking_a_role_away_end_the_users_sessions(app, bank, client, other_client, sign_in):
    sign_in("mona")
    users.update_user(bank, "mona", "ada", roles=["staff"])
    assert client.get("/tasks").status_code == 302
    other_client.post("/login", data={"name": "olga", "password": PASSWORD, "csrf_token": csrf_token(other_client)})
    users.update_user(bank, "olga", "ada", groups=["credit_officers", "tellers"])  # no role taken: stays
    assert other_client.get("/tasks").status_code == 200
    users.update_user(bank, "olga", "ada", disabled=True)
    assert other_client.get("/tasks").status_code == 302


def test_sign_out_everywhere_from_the_profile_page(app, bank, client, other_client, sign_in):
    phone = app.test_client()
    phone.post("/login", data={"name": "olga", "password": PASSWORD, "csrf_token": csrf_token(phone)})
    sign_in("olga")
    copy_session_cookie(client, other_client)
    page = client.get("/profile").get_data(as_text=True)
    assert "Sign out everywhere" in page
    response = client.post("/profile/sign-out-everywhere", data={"csrf_token": csrf_token(client, "/profile")})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    for browser in (client, other_client, phone):
        assert browser.get("/tasks").status_code == 302
    assert "You are signed out on every device." in client.get("/login").get_data(as_text=True)


def test_a_session_ends_8_hours_after_sign_in(bank, client, sign_in, clock):
    sign_in("olga")
    clock.advance(hours=7, minutes=59)
    assert client.get("/tasks").status_code == 200
    clock.advance(minutes=2)
    assert client.get("/tasks").status_code == 302


def test_a_remember_me_cookie_passes_the_same_check(app, bank, client, other_client, sign_in):
    sign_in("olga")
    token = session_token(app, client)
    with app.test_request_context():
        remember = encode_cookie(token)
    other_client.set_cookie("remember_token", remember)
    assert other_client.get("/tasks").status_code == 200  # a live session: the cookie signs in
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    third = app.test_client()
    third.set_cookie("remember_token", remember)
    assert third.get("/tasks").status_code == 302


def test_the_check_on_every_request_is_one_statement(app, bank, client, sign_in, clock):
    sign_in("olga")
    token = session_token(app, client)
    with counting(bank) as statements:
        assert users.session_user(bank, token).name == "olga"
    assert len(statements) == 1
    clock.advance(minutes=6)  # the last-seen time is written now and then, not on every request
    with counting(bank) as statements:
        users.session_user(bank, token)
    assert len(statements) == 2


def test_only_a_hash_of_the_token_is_stored(app, bank, client, sign_in):
    from sqlalchemy import text

    sign_in("olga")
    token = session_token(app, client)
    with bank.database.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM sign_in_session")).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


def test_sessions_that_ended_by_age_are_dropped_at_the_next_sign_in(bank, client, sign_in, clock):
    from sqlalchemy import text

    sign_in("olga")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    clock.advance(users.SESSION_LIFETIME + timedelta(minutes=1))
    sign_in("olga")
    with bank.database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sign_in_session")).scalar() == 1
