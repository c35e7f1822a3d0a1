"""Users, groups and roles: who may do what.

Every service that names an actor checks their role here. Without a user name a
call acts as the local operator: whoever holds the database URL holds everything
(the command line without `--user`), and the audit log records `OPERATOR`.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

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
GROUP_NAME = re.compile(r"[\w-]{1,100}")
LOCALES = ("en", "zh_Hans")


def load_actor(session: Session, name: str | None) -> Actor:
    """The acting user; person actions (claim, complete) always name a known user."""
    if not name:
        raise InvalidData([FieldProblem("user", "is required: say who is acting")])
    actor = user_rows.read_actor(session, name)
    if actor is None:
        raise NotFound(f"unknown user '{name}'")
    if actor.disabled:
        raise PermissionDenied(f"the account {name} is disabled")
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
    """The user's view when the password matches, else None (no hint which part was wrong).

    Five failed sign-ins within 15 minutes lock the user for 15 minutes, counted in
    the database so every web process sees them; a locked or disabled user is
    refused (PermissionDenied) even with the right password.
    """
    with unit_of_work(ctx) as session:
        found = user_rows.get_user(session, name, lock=True)
        if found is None:
            return None
        now = ctx.clock.now()
        if found.locked_until is not None and found.locked_until > now:
            raise PermissionDenied(SIGN_IN_LOCKED)
        if not check_password_hash(found.password_hash, password):
            _count_failure(found, now)
            return None
        if found.disabled:
            raise PermissionDenied(f"the account {found.name} is disabled; ask an administrator")
        found.failed_sign_ins, found.failed_since, found.locked_until = 0, None, None
        return user_view(found)


SIGN_IN_LOCKED = "too many failed sign-ins: this account is locked for 15 minutes"
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
MAX_FAILURES = 5


def _count_failure(user: Any, now: datetime) -> None:
    if user.failed_since is None or now - user.failed_since > FAILURE_WINDOW:
        user.failed_sign_ins, user.failed_since = 0, now
    user.failed_sign_ins += 1
    if user.failed_sign_ins >= MAX_FAILURES:
        user.locked_until = now + LOCK_FOR
        user.failed_sign_ins, user.failed_since = 0, None


def get_user(ctx: EngineContext, name: str) -> dict[str, Any]:
    with unit_of_work(ctx, read_only=True) as session:
        found = user_rows.get_user(session, name)
        if found is None:
            raise NotFound(f"unknown user '{name}'")
        return user_view(found)


def update_user(ctx: EngineContext, name: str, user: str | None, *, roles: list[str] | None = None,
                groups: list[str] | None = None, disabled: bool | None = None, email: str | None = None,
                password: str | None = None) -> dict[str, Any]:
    """Change a user's roles, groups, email, password or disabled flag; `user` must be an admin."""
    problems = []
    if roles is not None and (bad := [r for r in roles if r not in ROLES]):
        problems.append(FieldProblem("role", f"unknown role {', '.join(bad)}; roles are {', '.join(ROLES)}"))
    if roles is not None and not roles:
        problems.append(FieldProblem("role", "give the user at least one role"))
    if email and not EMAIL.fullmatch(email):
        problems.append(FieldProblem("email", "is not an email address"))
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        problems.append(FieldProblem("password", f"must be at least {MIN_PASSWORD_LENGTH} characters"))
    with unit_of_work(ctx) as session:
        actor = acting(session, user)
        require_role(actor, "admin", to="change users")
        if disabled and name == actor.name:
            problems.append(FieldProblem("disabled", "you cannot disable your own account"))
        if problems:
            raise InvalidData(problems, summary=f"cannot change user {name}")
        found = user_rows.get_user(session, name, lock=True)
        if found is None:
            raise NotFound(f"unknown user '{name}'")
        changed = []
        if roles is not None:
            found.roles, changed = list(roles), changed + ["roles"]
        if groups is not None:
            user_rows.set_groups(session, found, list(dict.fromkeys(groups)))
            changed.append("groups")
        if disabled is not None:
            found.disabled, changed = disabled, changed + ["disabled"]
        if email is not None:
            found.email, changed = email or None, changed + ["email"]
        if password is not None:
            found.password_hash = generate_password_hash(password, method=ctx.password_method)
            found.failed_sign_ins, found.failed_since, found.locked_until = 0, None, None
            changed.append("password")
        session.flush()
        record(session, "user_changed", ctx.clock.now(), actor=actor.name, payload={"name": name, "changed": changed})
        return user_view(found)


def set_profile(ctx: EngineContext, user: str, locale: str | None = None, timezone: str | None = None) -> dict[str, Any]:
    """A user's own language (`en`, `zh_Hans`) and time zone (IANA name); None keeps the browser's/bank's."""
    problems = []
    if locale not in (None, *LOCALES):
        problems.append(FieldProblem("locale", f"must be one of {', '.join(LOCALES)}"))
    if timezone is not None and timezone not in available_timezones():
        problems.append(FieldProblem("timezone", f"'{timezone}' is not a time zone name such as Asia/Shanghai"))
    if problems:
        raise InvalidData(problems, summary="cannot change the profile")
    with unit_of_work(ctx) as session:
        found = user_rows.get_user(session, load_actor(session, user).name, lock=True)
        found.locale, found.timezone = locale, timezone
        session.flush()
        return user_view(found)


def list_groups(ctx: EngineContext) -> list[dict[str, Any]]:
    with unit_of_work(ctx, read_only=True) as session:
        return [{"name": name, "members": members} for name, members in user_rows.all_groups(session)]


def add_group(ctx: EngineContext, name: str, user: str | None = None) -> dict[str, Any]:
    """Add an empty group (groups also appear when a user is given one); `user` must be an admin."""
    name = (name or "").strip()
    if not GROUP_NAME.fullmatch(name):
        raise InvalidData([FieldProblem("name", "must be 1 to 100 letters, digits, '_' or '-'")],
                          summary="cannot add the group")
    with unit_of_work(ctx) as session:
        actor = acting(session, user)
        require_role(actor, "admin", to="add groups")
        if user_rows.group_exists(session, name):
            raise Conflict(f"group '{name}' already exists")
        user_rows.add_group(session, name)
        record(session, "group_added", ctx.clock.now(), actor=actor.name, payload={"name": name})
        return {"name": name, "members": 0}


def administration(ctx: EngineContext, user: str | None = None) -> dict[str, Any]:
    """Users and groups for the administration page; `user` must be an admin."""
    with unit_of_work(ctx, read_only=True) as session:
        require_role(acting(session, user), "admin", to="administer users")
        return {"users": [user_view(u) for u in user_rows.all_users(session)],
                "groups": [{"name": name, "members": members} for name, members in user_rows.all_groups(session)],
                "roles": list(ROLES)}
