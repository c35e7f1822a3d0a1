"""Users, groups and memberships."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from engine.store.models import Group, User
from engine.store.tables import GROUP, MEMBERSHIP, USER


@dataclass(frozen=True)
class Actor:
    """Who is acting, with what they may do: read on every call, so kept to plain values."""

    name: str
    roles: frozenset[str]
    groups: frozenset[str]
    disabled: bool = False

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


# One statement: the user joined to its groups.
_ACTOR_QUERY = (
    select(USER.c.roles, USER.c.disabled, GROUP.c.name.label("group_name"))
    .select_from(USER.outerjoin(MEMBERSHIP, MEMBERSHIP.c.user_id == USER.c.id)
                 .outerjoin(GROUP, GROUP.c.id == MEMBERSHIP.c.group_id))
    .where(USER.c.name == bindparam("name"))
)


def read_actor(session: Session, name: str) -> Actor | None:
    rows = session.execute(_ACTOR_QUERY, {"name": name}).all()
    if not rows:
        return None
    return Actor(name, frozenset(rows[0].roles), frozenset(r.group_name for r in rows if r.group_name),
                 rows[0].disabled)


def get_user(session: Session, name: str, lock: bool = False) -> User | None:
    query = select(User).where(User.name == name)
    return session.scalar(query.with_for_update() if lock else query)


def all_users(session: Session, include_simulated: bool = False) -> list[User]:
    """The bank's users by name; the simulator's made-up staff only with `include_simulated`."""
    query = select(User).order_by(User.name)
    return list(session.scalars(query if include_simulated else query.where(User.simulated.is_(False))))


def simulated_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(USER).where(USER.c.simulated.is_(True)))


def enabled_admins(session: Session) -> list[User]:
    """The users with the admin role who are not disabled, locked for update so that two admins
    cannot each take the role from the other at the same time."""
    query = select(User).where(User.disabled.is_(False)).order_by(User.id).with_for_update()
    return [u for u in session.scalars(query) if "admin" in u.roles]


def user_names(session: Session) -> set[str]:
    return set(session.scalars(select(User.name)))


def add_user(session: Session, name: str, password_hash: str, roles: list[str], groups: list[str],
             email: str | None, now: datetime, simulated: bool = False) -> User:
    user = User(name=name, email=email, password_hash=password_hash, roles=roles, created_at=now,
                simulated=simulated)
    set_groups(session, user, groups)
    session.add(user)
    session.flush()
    return user


def set_groups(session: Session, user: User, groups: list[str]) -> None:
    existing = {g.name: g for g in session.scalars(select(Group).where(Group.name.in_(groups)))}
    user.groups = [existing.get(n) or Group(name=n) for n in groups]


def all_groups(session: Session) -> list[tuple[str, int]]:
    """Group names with how many users (simulated staff not counted) belong to each."""
    return [(row.name, row.members) for row in session.execute(
        select(Group.name, func.count(USER.c.id).label("members"))
        .outerjoin(MEMBERSHIP, MEMBERSHIP.c.group_id == Group.id)
        .outerjoin(USER, and_(USER.c.id == MEMBERSHIP.c.user_id, USER.c.simulated.is_(False)))
        .group_by(Group.name).order_by(Group.name))]


@dataclass(frozen=True)
class GroupTitles:
    """A group's display names: what pages call it in English and in Chinese (None: not given)."""

    name: str
    title: str | None
    title_zh: str | None


def add_group(session: Session, name: str, title: str | None = None, title_zh: str | None = None) -> None:
    session.add(Group(name=name, title=title, title_zh=title_zh))
    session.flush()


def get_group(session: Session, name: str) -> Group | None:
    return session.scalar(select(Group).where(Group.name == name).with_for_update())


def group_titles(session: Session) -> list[GroupTitles]:
    """Every group's display names, in one statement."""
    return [GroupTitles(row.name, row.title, row.title_zh)
            for row in session.execute(select(GROUP.c.name, GROUP.c.title, GROUP.c.title_zh))]


def group_exists(session: Session, name: str) -> bool:
    return session.scalar(select(Group.id).where(Group.name == name)) is not None


def managers_in(session: Session, groups: list[str]) -> list[str]:
    """Managers who belong to one of `groups`; all managers when none does."""
    managers = [u for u in all_users(session) if "manager" in u.roles]
    in_groups = [u.name for u in managers if {g.name for g in u.groups} & set(groups)]
    return in_groups or [u.name for u in managers]


_ALL_ACTORS = (
    select(USER.c.name, USER.c.roles, GROUP.c.name.label("group_name"))
    .select_from(USER.outerjoin(MEMBERSHIP, MEMBERSHIP.c.user_id == USER.c.id)
                 .outerjoin(GROUP, GROUP.c.id == MEMBERSHIP.c.group_id))
    .where(USER.c.disabled.is_(False), USER.c.simulated.is_(False)).order_by(USER.c.name)
)


def active_actors(session: Session) -> list[Actor]:
    """Every user who is neither disabled nor simulated, with roles and groups, in one statement."""
    actors: dict[str, tuple[list[str], set[str]]] = {}
    for row in session.execute(_ALL_ACTORS):
        roles, groups = actors.setdefault(row.name, (row.roles, set()))
        if row.group_name:
            groups.add(row.group_name)
    return [Actor(name, frozenset(roles), frozenset(groups)) for name, (roles, groups) in actors.items()]
