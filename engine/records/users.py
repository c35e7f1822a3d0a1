"""Users, groups and who is acting, as the store returns them and the services hand them on.

`UserRecord` is a whole `app_user` row with the names of its groups; `Actor` is the little every
rule needs (read on every call); `SessionUser` is who a live sign-in session belongs to. Records
are frozen: a change is `dataclasses.replace(record, ...)` written with `uow.users.save`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who is acting, with what they may do: read on every call, so kept to plain values."""

    name: str
    roles: frozenset[str]
    groups: frozenset[str]
    disabled: bool = False

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


@dataclass(frozen=True, kw_only=True)
class UserRecord:
    """A user with the names of their groups (by name, or in the order just given when they were set)."""

    id: int
    name: str
    email: str | None
    password_hash: str = field(repr=False)
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    created_at: datetime
    disabled: bool  # a disabled user cannot sign in
    simulated: bool  # made up by the simulator: never listed as staff, never signs in
    # Failed sign-ins since `failed_since`; 5 within 15 minutes lock the user until `locked_until`.
    failed_sign_ins: int
    failed_since: datetime | None
    locked_until: datetime | None
    locale: str | None  # "en" or "zh_Hans"; None: the browser's
    timezone: str | None  # IANA name; None: the bank's default


@dataclass(frozen=True, kw_only=True)
class GroupRecord:
    """A group and what pages call it in English and Chinese (None: not given); `members` counts its users
    (simulated staff not counted), None where it was not counted."""

    name: str
    title: str | None
    title_zh: str | None
    members: int | None = None


@dataclass(frozen=True, kw_only=True)
class SessionUser:
    """Who a live sign-in session belongs to, with what every page needs of them."""

    name: str
    email: str | None
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    locale: str | None
    timezone: str | None
    last_seen_at: datetime


@dataclass(frozen=True, kw_only=True)
class SignIn:
    """A successful sign-in: the user and the token of the session it opened (what the browser keeps)."""

    user: UserRecord
    token: str


@dataclass(frozen=True, kw_only=True)
class Administration:
    """What the administration pages show: users, groups with their member counts, the roles there are,
    and how many simulated staff exist (not listed)."""

    users: tuple[UserRecord, ...]
    groups: tuple[GroupRecord, ...]
    roles: tuple[str, ...]
    simulated: int
