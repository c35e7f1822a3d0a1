"""Users, groups and memberships."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.store.models import Group, User
from engine.store.tables import GROUP, MEMBERSHIP, USER


@dataclass(frozen=True)
class Actor:
    """Who is acting, with what they may do: read on every call, so kept to plain values."""

    name: str
    roles: frozenset[str]
    groups: frozenset[str]

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


# One statement: the user joined to its groups.
_ACTOR_QUERY = (
    select(USER.c.roles, GROUP.c.name.label("group_name"))
    .select_from(USER.outerjoin(MEMBERSHIP, MEMBERSHIP.c.user_id == USER.c.id)
                 .outerjoin(GROUP, GROUP.c.id == MEMBERSHIP.c.group_id))
    .where(USER.c.name == bindparam("name"))
)


def read_actor(session: Session, name: str) -> Actor | None:
    rows = session.execute(_ACTOR_QUERY, {"name": name}).all()
    if not rows:
        return None
    return Actor(name, frozenset(rows[0].roles), frozenset(r.group_name for r in rows if r.group_name))


def get_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def user_names(session: Session) -> set[str]:
    return set(session.scalars(select(User.name)))


def add_user(session: Session, name: str, password_hash: str, roles: list[str], groups: list[str],
             email: str | None, now: datetime) -> User:
    user = User(name=name, email=email, password_hash=password_hash, roles=roles, created_at=now)
    existing = {g.name: g for g in session.scalars(select(Group).where(Group.name.in_(groups)))}
    user.groups = [existing.get(n) or Group(name=n) for n in groups]
    session.add(user)
    session.flush()
    return user


def managers_in(session: Session, groups: list[str]) -> list[str]:
    """Managers who belong to one of `groups`; all managers when none does."""
    managers = [u for u in all_users(session) if "manager" in u.roles]
    in_groups = [u.name for u in managers if {g.name for g in u.groups} & set(groups)]
    return in_groups or [u.name for u in managers]
