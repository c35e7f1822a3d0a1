"""Users, groups and roles: who may do what.

Every service that names an actor checks their role here. Without a user name a
call acts as the local operator: whoever holds the database URL holds everything
(the command line without `--user`), and the audit log records `OPERATOR`.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engine.errors import Conflict, FieldProblem, InvalidData, NotFound, PermissionDenied
from engine.services.context import EngineContext
from engine.services.unit_of_work import unit_of_work
from engine.store import user_rows
from engine.store.history_rows import record
from engine.store.user_rows import Actor
from engine.views import user_view

ROLES = ("admin", "designer", "manager", "staff")
OPERATOR = "local-operator"
MIN_PASSWORD_LENGTH = 8
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def load_actor(session: Session, name: str | None) -> Actor:
    """The acting user; person actions (claim, complete) always name a known user."""
    if not name:
        raise InvalidData([FieldProblem("user", "is required: say who is acting")])
    actor = user_rows.read_actor(session, name)
    if actor is None:
        raise NotFound(f"unknown user '{name}'")
    return actor


def acting(session: Session, name: str | None) -> Actor:
    """The named user, or the local operator (every role) when no one is named."""
    if name is None:
        return Actor(OPERATOR, frozenset(ROLES), frozenset())
    return load_actor(session, name)


def require_role(actor: Actor, *roles: str, to: str) -> None:
    """Refuse unless `actor` has one of `roles`; `to` says what they tried, for the message."""
    if not actor.has_role(*roles):
        raise PermissionDenied(f"{actor.name} may not {to}: that needs the role {' or '.join(roles)}")


def add_user(ctx: EngineContext, name: str, password: str, groups: list[str] = (),
             roles: list[str] = (), email: str | None = None, user: str | None = None) -> dict[str, Any]:
    """Add a user (default role: staff); `user`, who adds them, must be an admin."""
    problems = []
    if not name or not name.strip() or len(name) > 100:
        problems.append(FieldProblem("name", "must be 1 to 100 characters"))
    elif name == OPERATOR:
        problems.append(FieldProblem("name", f"'{OPERATOR}' is reserved for the local operator"))
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems.append(FieldProblem("password", f"must be at least {MIN_PASSWORD_LENGTH} characters"))
    bad_roles = [r for r in roles if r not in ROLES]
    if bad_roles:
        problems.append(FieldProblem("role", f"unknown role {', '.join(bad_roles)}; roles are {', '.join(ROLES)}"))
    if email is not None and not EMAIL.fullmatch(email):
        problems.append(FieldProblem("email", "is not an email address"))
    with unit_of_work(ctx) as session:
        actor = acting(session, user)
        require_role(actor, "admin", to="add users")
        if problems:
            raise InvalidData(problems, summary="cannot add user")
        if user_rows.get_user(session, name) is not None:
            raise Conflict(f"user '{name}' already exists")
        now = ctx.clock.now()
        added = user_rows.add_user(session, name, generate_password_hash(password, method=ctx.password_method),
                                   list(roles) or ["staff"], list(dict.fromkeys(groups)), email, now)
        record(session, "user_added", now, actor=actor.name,
               payload={"name": name, "roles": list(added.roles), "groups": [g.name for g in added.groups]})
        return user_view(added)


def list_users(ctx: EngineContext) -> list[dict[str, Any]]:
    with unit_of_work(ctx, read_only=True) as session:
        return [user_view(u) for u in user_rows.all_users(session)]


def existing_user_names(ctx: EngineContext) -> set[str]:
    with unit_of_work(ctx, read_only=True) as session:
        return user_rows.user_names(session)


def authenticate(ctx: EngineContext, name: str, password: str) -> dict[str, Any] | None:
    """The user's view when the password matches, else None (no hint which part was wrong)."""
    with unit_of_work(ctx, read_only=True) as session:
        found = user_rows.get_user(session, name)
        if found is None or not check_password_hash(found.password_hash, password):
            return None
        return user_view(found)
