"""Who is signed in (Flask-Login): every page but sign-in, health and static files needs a user.

The session cookie holds only the random token of a server-side session (Flask-Login's
user id is that token, not the user's name). Every request looks the session up in the
database: once it is signed out, revoked by an admin's change to the user, "signed out
everywhere" or older than 8 hours, the cookie, and any copy of it, is refused. Roles and
groups are read with it, so a changed role takes effect at once. A remember-me cookie,
had one been set, would carry the same token and pass the same check.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user

from engine.errors import BankflowError
from engine.records.users import SessionUser, UserRecord
from engine.services import users
from webui.engine_access import current_engine

PUBLIC_ENDPOINTS = {"auth.login", "auth.language", "health.show", "static", "assets.file"}
login_manager = LoginManager()


@dataclass
class SignedInUser(UserMixin):
    name: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    locale: str | None = None
    timezone: str | None = None
    email: str | None = None
    session_token: str = ""

    def get_id(self) -> str:
        """What the cookie keeps: the session's token, never the user's name."""
        return self.session_token

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @classmethod
    def signed_in(cls, user: UserRecord | SessionUser, session_token: str) -> SignedInUser:
        return cls(name=user.name, roles=user.roles, groups=user.groups, locale=user.locale, timezone=user.timezone,
                   email=user.email, session_token=session_token)


@login_manager.user_loader
def load_user(token: str) -> SignedInUser | None:
    try:
        found = users.session_user(current_engine(), token)
    except BankflowError:
        return None
    return None if found is None else SignedInUser.signed_in(found, token)


def require_sign_in() -> ResponseReturnValue | None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
    return None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    app.before_request(require_sign_in)
