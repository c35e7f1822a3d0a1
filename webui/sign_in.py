"""Who is signed in (Flask-Login): every page but sign-in, health and static files needs a user.

The session holds only the user's name; roles and groups are read again on every
request, so a disabled user or a changed role takes effect at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user

from engine.errors import BankflowError
from engine.services import users

PUBLIC_ENDPOINTS = {"auth.login", "auth.language", "health.show", "static", "assets.file"}
login_manager = LoginManager()


@dataclass
class SignedInUser(UserMixin):
    name: str
    roles: list[str]
    groups: list[str]
    locale: str | None = None
    timezone: str | None = None
    email: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def get_id(self) -> str:
        return self.name

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> "SignedInUser":
        return cls(view["name"], view["roles"], view["groups"], view["locale"], view["timezone"], view["email"])


@login_manager.user_loader
def load_user(name: str) -> SignedInUser | None:
    from webui import engine_context

    try:
        view = users.get_user(engine_context(current_app), name)
    except BankflowError:
        return None
    return None if view["disabled"] else SignedInUser.from_view(view)


def require_sign_in():
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
    return None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    app.before_request(require_sign_in)
