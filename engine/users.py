"""Users, groups and roles: who may do what."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engine.services.context import EngineContext
from engine.errors import Conflict, InvalidData, FieldProblem, NotFound
from engine.store.models import Group, User
from engine.store.tables import GROUP, MEMBERSHIP, USER
from engine.services.unit_of_work import unit_of_work

ROLES = ("admin", "designer", "manager", "staff")
MIN_PASSWORD_LENGTH = 8
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def user_view(user: User) -> dict[str, Any]:
    return {"name": user.name, "email": user.email, "roles": list(user.roles),
            "groups": [g.name for g in user.groups]}


@dataclass(frozen=True)
class Actor:
    """Who is acting, with what they may do: read on every call, so kept to plain values."""

    name: str
    roles: frozenset[str]
    groups: frozenset[str]

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def load_actor(session: Session, name: str | None) -> Actor:
    """The acting user; every action names a known user. One statement: the user joined to its groups."""
    if not name:
        raise InvalidData([FieldProblem("user", "is required: say who is acting")])
    rows = session.execute(_ACTOR_QUERY, {"name": name}).all()
    if not rows:
        raise NotFound(f"unknown user '{name}'")
    return Actor(name, frozenset(rows[0].roles), frozenset(r.group_name for r in rows if r.group_name))


_ACTOR_QUERY = (
    select(USER.c.roles, GROUP.c.name.label("group_name"))
    .select_from(USER.outerjoin(MEMBERSHIP, MEMBERSHIP.c.user_id == USER.c.id)
                 .outerjoin(GROUP, GROUP.c.id == MEMBERSHIP.c.group_id))
    .where(USER.c.name == bindparam("name"))
)


def _groups(session: Session, names: list[str]) -> list[Group]:
    existing = {g.name: g for g in session.scalars(select(Group).where(Group.name.in_(names)))}
    for name in names:
        if name not in existing:
            existing[name] = Group(name=name)
            session.add(existing[name])
    return [existing[n] for n in names]


def add_user(ctx: EngineContext, name: str, password: str, groups: list[str] = (),
             roles: list[str] = (), email: str | None = None) -> dict[str, Any]:
    problems = []
    if not name or not name.strip() or len(name) > 100:
        problems.append(FieldProblem("name", "must be 1 to 100 characters"))
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems.append(FieldProblem("password", f"must be at least {MIN_PASSWORD_LENGTH} characters"))
    bad_roles = [r for r in roles if r not in ROLES]
    if bad_roles:
        problems.append(FieldProblem("role", f"unknown role {', '.join(bad_roles)}; roles are {', '.join(ROLES)}"))
    if email is not None and not EMAIL.fullmatch(email):
        problems.append(FieldProblem("email", "is not an email address"))
    if problems:
        raise InvalidData(problems, summary="cannot add user")
    with unit_of_work(ctx) as session:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise Conflict(f"user '{name}' already exists")
        user = User(name=name, email=email, password_hash=generate_password_hash(password, method=ctx.password_method), roles=list(roles) or ["staff"],
                    created_at=ctx.clock.now())
        user.groups = _groups(session, list(dict.fromkeys(groups)))
        session.add(user)
        session.flush()
        return user_view(user)


def list_users(ctx: EngineContext) -> list[dict[str, Any]]:
    with unit_of_work(ctx, read_only=True) as session:
        return [user_view(u) for u in session.scalars(select(User).order_by(User.name))]


def authenticate(ctx: EngineContext, name: str, password: str) -> dict[str, Any] | None:
    """The user's view when the password matches, else None (no hint which part was wrong)."""
    with unit_of_work(ctx, read_only=True) as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None or not check_password_hash(user.password_hash, password):
            return None
        return user_view(user)
