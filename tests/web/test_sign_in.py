"""Sign-in, sessions, CSRF, lock-out and the security headers."""
from __future__ import annotations

import pytest

from engine.services import users
from tests.web.conftest import PASSWORD, csrf_token


@pytest.mark.parametrize("path", ["/", "/tasks", "/tasks/1", "/cases", "/cases/1", "/start", "/designer", "/admin",
                                  "/notifications", "/profile"])
def test_pages_redirect_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_sign_in_health_and_static_need_no_user(client):
    assert client.get("/login").status_code == 200
    assert client.get("/health").status_code == 200
    assert client.get("/static/css/app.css").status_code == 200


def test_sign_in_and_out(bank, client, sign_in):
    sign_in("olga")
    assert client.get("/tasks").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    assert client.get("/tasks").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(bank, client):
    response = client.post("/login", data={"name": "olga", "password": "nope-nope", "csrf_token": csrf_token(client)})
    assert response.status_code == 401 and "The user name or password is wrong." in response.get_data(as_text=True)
    response = client.post("/login", data={"name": "nobody", "password": "nope", "csrf_token": csrf_token(client)})
    assert response.status_code == 401 and "The user name or password is wrong." in response.get_data(as_text=True)


def test_the_sixth_attempt_is_refused_even_with_the_right_password(bank, client, clock):
    for _ in range(5):
        client.post("/login", data={"name": "olga", "password": "wrong-guess", "csrf_token": csrf_token(client)})
    response = client.post("/login", data={"name": "olga", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 401 and "locked for 15 minutes" in response.get_data(as_text=True)
    clock.advance(minutes=16)
    response = client.post("/login", data={"name": "olga", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302


def test_failures_spread_over_more_than_15_minutes_do_not_lock(bank, client, clock):
    for _ in range(4):
        client.post("/login", data={"name": "olga", "password": "wrong-guess", "csrf_token": csrf_token(client)})
    clock.advance(minutes=16)
    client.post("/login", data={"name": "olga", "password": "wrong-guess", "csrf_token": csrf_token(client)})
    response = client.post("/login", data={"name": "olga", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302


def test_a_disabled_user_cannot_sign_in_and_is_signed_out(bank, client, sign_in):
    sign_in("olga")
    users.update_user(bank, "olga", "ada", disabled=True)
    assert client.get("/tasks").status_code == 302  # the running session ends too
    response = client.post("/login", data={"name": "olga", "password": PASSWORD, "csrf_token": csrf_token(client)})
    # the same answer as a wrong password: the page does not say whether the password was right
    assert response.status_code == 401 and "The user name or password is wrong." in response.get_data(as_text=True)


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(bank, client, sign_in):
    from engine.services import instances, tasks

    case = instances.start(bank, "loan_review", user="olga")
    [task] = tasks.list_tasks(bank, instance_id=case.id)
    sign_in("olga")
    response = client.post(f"/tasks/{task.id}/claim")
    assert response.status_code == 400
    assert tasks.list_tasks(bank, instance_id=case.id)[0].status == "open"
    response = client.post("/login", data={"name": "olga", "password": PASSWORD})
    assert response.status_code == 400


def test_security_headers_on_every_response(bank, client):
    for response in (client.get("/login"), client.get("/health"), client.get("/tasks")):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "style-src 'self'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_lax(bank, client, sign_in):
    sign_in("olga")
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure


def test_session_cookie_is_secure_when_configured(ctx):
    from webui import create_app

    app = create_app({"ENGINE_CONTEXT": ctx, "SECRET_KEY": "x", "SESSION_COOKIE_SECURE": True})
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.permanent_session_lifetime.total_seconds() == 8 * 3600


def test_next_only_leads_to_this_site(bank, client):
    response = client.post("/login?next=https://evil.example/", data={"name": "olga", "password": PASSWORD,
                                                                       "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/tasks"


def test_sign_in_page_in_chinese_and_english(client):
    chinese = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "登录 bankflow" in chinese and 'lang="zh-Hans"' in chinese
    english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sign in to bankflow" in english and 'lang="en"' in english


def test_the_language_can_be_switched_on_any_page(client):
    client.post("/language", data={"locale": "zh_Hans", "next": "/login", "csrf_token": csrf_token(client)})
    assert "登录 bankflow" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
