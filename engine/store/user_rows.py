"""Users, groups and memberships (`uow.users`).

A user is read with its groups in one statement (the membership joined in), so listing any
number of users costs one statement, not one more per user.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Unpack

from sqlalchemy import Row, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from engine.policy.roles import Role
from engine.records.users import Actor, GroupRecord, UserRecord
from engine.store.tables import GROUP, MEMBERSHIP, USER

_WITH_GROUPS = (USER.outerjoin(MEMBERSHIP, MEMBERSHIP.c.user_id == USER.c.id)
                .outerjoin(GROUP, GROUP.c.id == MEMBERSHIP.c.group_id))
# Users with their groups, one row per membership: by user name, then group name.
_USERS = select(USER, GROUP.c.name.label("group_name")).select_from(_WITH_GROUPS).order_by(USER.c.name, GROUP.c.name)
# One statement: the user joined to its groups.
_ACTOR_QUERY = (select(USER.c.roles, USER.c.disabled, GROUP.c.name.label("group_name")).select_from(_WITH_GROUPS)
                .where(USER.c.name == bindparam("name")))
_ALL_ACTORS = (select(USER.c.name, USER.c.roles, GROUP.c.name.label("group_name")).select_from(_WITH_GROUPS)
               .where(USER.c.disabled.is_(False), USER.c.simulated.is_(False)).order_by(USER.c.name))
_GROUP_COLUMNS = (GROUP.c.name, GROUP.c.title, GROUP.c.title_zh)
_ADD_GROUPS = insert(GROUP).returning(GROUP.c.id, GROUP.c.name, sort_by_parameter_order=True)
AnyRow = Row[Unpack[tuple[Any, ...]]]


def _users(rows: Iterable[AnyRow]) -> list[UserRecord]:
    """Users from rows of `_USERS` (one per membership, a user's rows together)."""
    found: dict[int, tuple[AnyRow, list[str]]] = {}
    for row in rows:
        _, groups = found.setdefault(row.id, (row, []))
        if row.group_name:
            groups.append(row.group_name)
    return [_user(row, groups) for row, groups in found.values()]


def _user(row: AnyRow, groups: list[str]) -> UserRecord:
    return UserRecord(id=row.id, name=row.name, email=row.email, password_hash=row.password_hash,
                      roles=tuple(row.roles), groups=tuple(groups), created_at=row.created_at, disabled=row.disabled,
                      simulated=row.simulated, failed_sign_ins=row.failed_sign_ins, failed_since=row.failed_since,
                      locked_until=row.locked_until, locale=row.locale, timezone=row.timezone)


def _group(row: AnyRow, members: int | None = None) -> GroupRecord:
    return GroupRecord(name=row.name, title=row.title, title_zh=row.title_zh, members=members)


class UserRepository:
    """Users and groups inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def actor(self, name: str) -> Actor | None:
        """Who `name` is, with roles and groups (disabled ones too), in one statement."""
        rows = self.session.execute(_ACTOR_QUERY, {"name": name}).all()
        if not rows:
            return None
        return Actor(name=name, roles=frozenset(rows[0].roles),
                     groups=frozenset(r.group_name for r in rows if r.group_name), disabled=rows[0].disabled)

    def active_actors(self) -> list[Actor]:
        """Every user who is neither disabled nor simulated, with roles and groups, in one statement."""
        actors: dict[str, tuple[list[str], set[str]]] = {}
        for row in self.session.execute(_ALL_ACTORS):
            roles, groups = actors.setdefault(row.name, (row.roles, set()))
            if row.group_name:
                groups.add(row.group_name)
        return [Actor(name=name, roles=frozenset(roles), groups=frozenset(groups))
                for name, (roles, groups) in actors.items()]

    def get(self, name: str, lock: bool = False) -> UserRecord | None:
        """The user with their groups; `lock` takes the user's row lock (PostgreSQL) for a change."""
        query = _USERS.where(USER.c.name == name)
        found = _users(self.session.execute(query.with_for_update(of=USER) if lock else query))
        return found[0] if found else None

    def all(self, include_simulated: bool = False) -> list[UserRecord]:
        """The bank's users by name with their groups, in one statement; the simulator's made-up staff only
        with `include_simulated`."""
        return _users(self.session.execute(_USERS if include_simulated else _USERS.where(USER.c.simulated.is_(False))))

    def names(self) -> set[str]:
        return set(self.session.scalars(select(USER.c.name)))

    def simulated_count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(USER).where(USER.c.simulated.is_(True))) or 0

    def enabled_admin_ids(self) -> list[int]:
        """The ids of the users with the admin role who are not disabled, locked for update (every enabled
        user, in id order) so that two admins cannot each take the role from the other at the same time."""
        rows = self.session.execute(select(USER.c.id, USER.c.roles).where(USER.c.disabled.is_(False))
                                    .order_by(USER.c.id).with_for_update())
        return [row.id for row in rows if Role.ADMIN in row.roles]

    def managers_in(self, groups: list[str]) -> list[str]:
        """Managers who belong to one of `groups`; all managers when none does."""
        managers = [u for u in self.all() if Role.MANAGER in u.roles]
        in_groups = [u.name for u in managers if set(u.groups) & set(groups)]
        return in_groups or [u.name for u in managers]

    def add(self, *, name: str, password_hash: str, roles: list[str], groups: list[str], email: str | None,
            now: datetime, simulated: bool = False) -> UserRecord:
        """Add a user in `groups` (added when missing); the record lists them in the order given."""
        user_id = self.session.execute(insert(USER).values(
            name=name, email=email, password_hash=password_hash, roles=roles, created_at=now, disabled=False,
            simulated=simulated, failed_sign_ins=0).returning(USER.c.id)).scalar_one()
        self._join(user_id, groups)
        return UserRecord(id=user_id, name=name, email=email, password_hash=password_hash, roles=tuple(roles),
                          groups=tuple(groups), created_at=now, disabled=False, simulated=simulated, failed_sign_ins=0,
                          failed_since=None, locked_until=None, locale=None, timezone=None)

    def save(self, user: UserRecord) -> None:
        """Write the user's own columns (not the groups: `set_groups`)."""
        self.session.execute(update(USER).where(USER.c.id == user.id).values(
            email=user.email, password_hash=user.password_hash, roles=list(user.roles), disabled=user.disabled,
            failed_sign_ins=user.failed_sign_ins, failed_since=user.failed_since, locked_until=user.locked_until,
            locale=user.locale, timezone=user.timezone))

    def set_groups(self, user_id: int, groups: list[str]) -> None:
        """Make `groups` (added when missing) the user's groups."""
        self.session.execute(delete(MEMBERSHIP).where(MEMBERSHIP.c.user_id == user_id))
        self._join(user_id, groups)

    def _join(self, user_id: int, groups: list[str]) -> None:
        if not groups:
            return
        ids = {row.name: row.id for row in self.session.execute(select(GROUP.c.id, GROUP.c.name)
                                                                 .where(GROUP.c.name.in_(groups)))}
        missing = [name for name in groups if name not in ids]
        if missing:
            ids |= {row.name: row.id for row in self.session.execute(_ADD_GROUPS, [{"name": name} for name in missing])}
        self.session.execute(insert(MEMBERSHIP), [{"user_id": user_id, "group_id": ids[name]} for name in groups])

    def groups(self) -> list[GroupRecord]:
        """Every group by name with its display names and how many users (simulated staff not counted)
        belong to it, in one statement."""
        members = func.count(USER.c.id).label("members")
        return [_group(row, row.members) for row in self.session.execute(
            select(*_GROUP_COLUMNS, members)
            .outerjoin(MEMBERSHIP, MEMBERSHIP.c.group_id == GROUP.c.id)
            .outerjoin(USER, and_(USER.c.id == MEMBERSHIP.c.user_id, USER.c.simulated.is_(False)))
            .group_by(GROUP.c.id, *_GROUP_COLUMNS).order_by(GROUP.c.name))]

    def group_titles(self) -> list[GroupRecord]:
        """Every group's display names (members not counted), in one statement."""
        return [_group(row) for row in self.session.execute(select(*_GROUP_COLUMNS))]

    def group(self, name: str, lock: bool = False) -> GroupRecord | None:
        query = select(*_GROUP_COLUMNS).where(GROUP.c.name == name)
        row = self.session.execute(query.with_for_update() if lock else query).first()
        return None if row is None else _group(row)

    def add_group(self, group: GroupRecord) -> None:
        self.session.execute(insert(GROUP).values(name=group.name, title=group.title, title_zh=group.title_zh))

    def save_group(self, group: GroupRecord) -> None:
        """Write a group's display names."""
        self.session.execute(update(GROUP).where(GROUP.c.name == group.name)
                             .values(title=group.title, title_zh=group.title_zh))
