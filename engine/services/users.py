"""Users, groups and roles: who may do what; signing in, and the sessions a sign-in opens.

Every service that names an actor checks their role here. Without a user name a
call acts as the local operator: whoever holds the database URL holds everything
(the command line without `--user`), and the audit log records `OPERATOR`.

A sign-in opens a server-side session whose random token the browser keeps; every
request looks it up (`session_user`), so signing out, an admin's change to the user
or "sign out everywhere" ends it at once in every web process.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import available_timezones

from werkzeug.security import check_password_hash, generate_password_hash

from engine.errors import (
    N_, Conflict, FieldProblem, InvalidData, Listing, Message, NotFound, PermissionDenied, codes)
from engine.policy.roles import OPERATOR, ROLES, Role
from engine.records.users import Actor, Administration, GroupRecord, SessionUser, SignIn, UserRecord
from engine.services.context import EngineContext
from engine.services.limits import column_length, length_problems
from engine.services.unit_of_work import unit_of_work
from engine.store.models import Group, User
from engine.store.unit_of_work import UnitOfWork

MIN_PASSWORD_LENGTH = 8
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
GROUP_NAME = re.compile(r"[\w-]{1,100}")
LOCALES = ("en", "zh_Hans")
TIMEZONE_LENGTH = column_length(User.timezone)  # what the profile form lets one type
UNKNOWN_TIMEZONE = N_("is not a time zone name such as Asia/Shanghai")
LAST_ADMIN_ROLE = N_("cannot remove the admin role from the last enabled admin; give another user the admin role "
                     "first")
LAST_ADMIN_DISABLED = N_("cannot disable the last enabled admin; give another user the admin role first")
SESSION_LIFETIME = timedelta(hours=8)  # one working day from sign-in
SEEN_EVERY = timedelta(minutes=5)  # how often a session's last_seen_at is written (not on every request)


def load_actor(uow: UnitOfWork, name: str | None) -> Actor:
    """The acting user; person actions (claim, complete) always name a known user."""
    if not name:
        raise InvalidData([FieldProblem("user", "is required: say who is acting")])
    actor = uow.users.actor(name)
    if actor is None:
        raise NotFound("unknown user '%(name)s'", name=name)
    if actor.disabled:
        raise PermissionDenied("the account %(name)s is disabled", name=name)
    return actor


def acting(uow: UnitOfWork, name: str | None) -> Actor:
    """The named user, or the local operator (every role) when no one is named."""
    if name is None:
        return Actor(name=OPERATOR, roles=frozenset(ROLES), groups=frozenset())
    return load_actor(uow, name)


def require_role(actor: Actor, *roles: str, to: str) -> None:
    """Refuse unless `actor` has one of `roles`; `to` says what they tried, for the message."""
    if not actor.has_role(*roles):
        raise PermissionDenied("%(user)s may not %(action)s: that needs the role %(roles)s", user=actor.name,
                               action=Message(to), roles=codes(roles, "or"))


def _role_problems(roles: list[str] | tuple[str, ...]) -> list[FieldProblem]:
    bad = [r for r in roles if r not in ROLES]
    return [FieldProblem("role", "unknown role %(unknown)s; roles are %(roles)s", unknown=Listing(bad, "list"),
                         roles=codes(ROLES))] if bad else []


def add_user(ctx: EngineContext, name: str, password: str, groups: list[str] | tuple[str, ...] = (),
             roles: list[str] | tuple[str, ...] = (), email: str | None = None, user: str | None = None,
             simulated: bool = False) -> UserRecord:
    """Add a user (default role: staff); `user`, who adds them, must be an admin. `simulated`: staff the
    simulator makes up, who work simulated history but are not listed and cannot sign in."""
    problems = []
    if not name or not name.strip() or len(name) > 100:
        problems.append(FieldProblem("name", "must be 1 to 100 characters"))
    elif name == OPERATOR:
        problems.append(FieldProblem("name", "'%(name)s' is reserved for the local operator", name=OPERATOR))
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems.append(FieldProblem("password", "must be at least %(n)s characters", n=MIN_PASSWORD_LENGTH))
    problems += _role_problems(roles)
    if email is not None and not EMAIL.fullmatch(email):
        problems.append(FieldProblem("email", "is not an email address"))
    problems += length_problems(("email", email, User.email), *[("groups", g, Group.name) for g in groups])
    with unit_of_work(ctx) as uow:
        actor = acting(uow, user)
        require_role(actor, Role.ADMIN, to=N_("add users"))
        taken = bool(name) and uow.users.get(name) is not None
        if problems:  # a taken name is said with the other problems, so the form shows them all at once
            if taken:
                problems.insert(0, FieldProblem("name", "user '%(name)s' already exists", name=name))
            raise InvalidData(problems, summary=N_("cannot add user"))
        if taken:
            raise Conflict("user '%(name)s' already exists", name=name)
        now = ctx.clock.now()
        added = uow.users.add(name=name, password_hash=generate_password_hash(password, method=ctx.password_method),
                              roles=list(roles) or [Role.STAFF], groups=list(dict.fromkeys(groups)), email=email,
                              now=now, simulated=simulated)
        uow.history.record("user_added", now, actor=actor.name,
                           payload={"name": name, "roles": list(added.roles), "groups": list(added.groups)})
        return added


def list_users(ctx: EngineContext, include_simulated: bool = False) -> list[UserRecord]:
    """The bank's users by name (one statement, whatever their number); the simulator's made-up staff too
    with `include_simulated`."""
    with unit_of_work(ctx, read_only=True) as uow:
        return uow.users.all(include_simulated)


def existing_user_names(ctx: EngineContext) -> set[str]:
    with unit_of_work(ctx, read_only=True) as uow:
        return uow.users.names()


def authenticate(ctx: EngineContext, name: str, password: str) -> UserRecord | None:
    """The user when the password matches, else None (no hint which part was wrong).

    Five failed sign-ins within 15 minutes lock the user for 15 minutes, counted in
    the database so every web process sees them; a locked user is refused
    (PermissionDenied) even with the right password. An unknown user, a wrong
    password and a disabled account all give None after the same work: one password
    hash, against a dummy one when the user does not exist.
    """
    with unit_of_work(ctx) as uow:
        return _check_sign_in(ctx, uow, name, password)


def sign_in(ctx: EngineContext, name: str, password: str) -> SignIn | None:
    """`authenticate`, and on success a new session: the user and the session's token.

    The token is what the browser keeps; only its SHA-256 is stored. Sessions that
    ended by age are dropped here.
    """
    with unit_of_work(ctx) as uow:
        found = _check_sign_in(ctx, uow, name, password)
        if found is None:
            return None
        now = ctx.clock.now()
        token = secrets.token_urlsafe(32)
        uow.sessions.purge(now - SESSION_LIFETIME)
        uow.sessions.add(_token_hash(token), found.id, now)
        return SignIn(user=found, token=token)


def session_user(ctx: EngineContext, token: str) -> SessionUser | None:
    """The user of a live session (not signed out, not revoked, younger than SESSION_LIFETIME, user
    not disabled), else None. One indexed read; the last-seen time is written every SEEN_EVERY."""
    if not token or len(token) > 100:
        return None
    digest, now = _token_hash(token), ctx.clock.now()
    with unit_of_work(ctx, read_only=True) as uow:
        found = uow.sessions.live_user(digest, now - SESSION_LIFETIME)
    if found is None:
        return None
    if now - found.last_seen_at >= SEEN_EVERY:
        try:
            with unit_of_work(ctx) as uow:
                uow.sessions.touch(digest, now)
        except Conflict:
            pass  # only a last-seen time: the next request writes it
    return found


def sign_out(ctx: EngineContext, token: str) -> None:
    """End one session, for whoever holds its cookie."""
    with unit_of_work(ctx) as uow:
        uow.sessions.revoke(_token_hash(token), ctx.clock.now())


def sign_out_everywhere(ctx: EngineContext, user: str) -> int:
    """End every session of `user`, the one asking included; how many ended."""
    with unit_of_work(ctx) as uow:
        found = _existing(uow, load_actor(uow, user).name)
        return uow.sessions.revoke_user_sessions(found.id, ctx.clock.now())


def _existing(uow: UnitOfWork, name: str, lock: bool = False) -> UserRecord:
    found = uow.users.get(name, lock=lock)
    if found is None:
        raise NotFound("unknown user '%(name)s'", name=name)
    return found


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@cache
def _dummy_hash(method: str) -> str:
    """A hash of a random password made like real ones, checked when the user does not exist."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def _check_sign_in(ctx: EngineContext, uow: UnitOfWork, name: str, password: str) -> UserRecord | None:
    """The user when the password is right and the account usable; else None after counting the failure.

    Exactly one password check on every path, so the time taken says nothing about
    whether the user exists or is disabled.
    """
    found = uow.users.get(name, lock=True)
    matches = check_password_hash(found.password_hash if found is not None else _dummy_hash(ctx.password_method),
                                  password)
    if found is None:
        return None
    now = ctx.clock.now()
    if found.locked_until is not None and found.locked_until > now:
        raise PermissionDenied(SIGN_IN_LOCKED)
    if not matches or found.disabled or found.simulated:
        # A disabled account counts every attempt, right password or not, so that neither the
        # message nor the lock-out tells whether the password was right. Simulated staff never sign in.
        uow.users.save(_count_failure(found, now))
        return None
    return _saved(uow, found, _failures_cleared(found))


def _failures_cleared(user: UserRecord) -> UserRecord:
    return replace(user, failed_sign_ins=0, failed_since=None, locked_until=None)


def _saved(uow: UnitOfWork, before: UserRecord, after: UserRecord) -> UserRecord:
    """Write `after` when it differs from `before` (the groups are written apart: `set_groups`)."""
    if replace(after, groups=before.groups) != before:
        uow.users.save(after)
    return after


SIGN_IN_LOCKED = N_("too many failed sign-ins: this account is locked for 15 minutes")
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
MAX_FAILURES = 5


def _count_failure(user: UserRecord, now: datetime) -> UserRecord:
    """One more failed sign-in; the fifth within FAILURE_WINDOW locks the user for LOCK_FOR."""
    if user.failed_since is None or now - user.failed_since > FAILURE_WINDOW:
        user = replace(user, failed_sign_ins=0, failed_since=now)
    user = replace(user, failed_sign_ins=user.failed_sign_ins + 1)
    if user.failed_sign_ins >= MAX_FAILURES:
        user = replace(user, locked_until=now + LOCK_FOR, failed_sign_ins=0, failed_since=None)
    return user


def get_user(ctx: EngineContext, name: str) -> UserRecord:
    with unit_of_work(ctx, read_only=True) as uow:
        return _existing(uow, name)


def update_user(ctx: EngineContext, name: str, user: str | None, *, roles: list[str] | None = None,
                groups: list[str] | None = None, disabled: bool | None = None, email: str | None = None,
                password: str | None = None, from_session: str | None = None) -> UserRecord:
    """Change a user's roles, groups, email, password or disabled flag; `user` must be an admin.

    A new password, disabling the user or taking a role away ends the user's sessions;
    when admins change their own account, the session they do it from (`from_session`,
    its token) stays. The last enabled admin can neither lose the role nor be disabled.
    """
    problems = _role_problems(roles) if roles is not None else []
    if roles is not None and not roles:
        problems.append(FieldProblem("role", "give the user at least one role"))
    if email and not EMAIL.fullmatch(email):
        problems.append(FieldProblem("email", "is not an email address"))
    problems += length_problems(("email", email, User.email), *[("groups", g, Group.name) for g in groups or []])
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        problems.append(FieldProblem("password", "must be at least %(n)s characters", n=MIN_PASSWORD_LENGTH))
    with unit_of_work(ctx) as uow:
        actor = acting(uow, user)
        require_role(actor, Role.ADMIN, to=N_("change users"))
        if disabled and name == actor.name:
            problems.append(FieldProblem("disabled", "you cannot disable your own account"))
        if problems:
            raise InvalidData(problems, summary=Message("cannot change user %(name)s", name=name))
        # Every enabled admin is locked before the user (always in this order, so two such changes
        # queue instead of deadlocking) when the change could leave no enabled admin.
        admins = uow.users.enabled_admin_ids() if roles is not None or disabled else []
        found = _existing(uow, name, lock=True)
        problems = _last_admin_problems(found, admins, roles, disabled)
        if problems:
            raise InvalidData(problems, summary=Message("cannot change user %(name)s", name=name))
        changed: list[str] = []
        after = found
        ends_sessions = (bool(disabled) and not found.disabled) or password is not None \
            or (roles is not None and bool(set(found.roles) - set(roles)))
        if roles is not None:
            after, changed = replace(after, roles=tuple(roles)), changed + ["roles"]
        if groups is not None:
            after, changed = replace(after, groups=tuple(dict.fromkeys(groups))), changed + ["groups"]
            uow.users.set_groups(found.id, list(after.groups))
        if disabled is not None:
            after, changed = replace(after, disabled=disabled), changed + ["disabled"]
        if email is not None:
            after, changed = replace(after, email=email or None), changed + ["email"]
        if password is not None:
            after = _failures_cleared(replace(after, password_hash=generate_password_hash(
                password, method=ctx.password_method)))
            changed.append("password")
        now = ctx.clock.now()
        if ends_sessions:
            keep = _token_hash(from_session) if from_session and name == actor.name else None
            uow.sessions.revoke_user_sessions(found.id, now, keep=keep)
        after = _saved(uow, found, after)
        uow.history.record("user_changed", now, actor=actor.name, payload={"name": name, "changed": changed})
        return after


def _last_admin_problems(found: UserRecord, admin_ids: list[int], roles: list[str] | None,
                         disabled: bool | None) -> list[FieldProblem]:
    """Refuse a change that would leave no enabled admin (`admin_ids`): then nobody could administer
    users on the web."""
    loses_role = roles is not None and Role.ADMIN not in roles
    if found.disabled or Role.ADMIN not in found.roles or not (loses_role or disabled):
        return []
    if any(admin_id != found.id for admin_id in admin_ids):
        return []
    return ([FieldProblem("role", LAST_ADMIN_ROLE)] if loses_role else []) \
        + ([FieldProblem("disabled", LAST_ADMIN_DISABLED)] if disabled else [])


def set_profile(ctx: EngineContext, user: str, locale: str | None = None, timezone: str | None = None) -> UserRecord:
    """A user's own language (`en`, `zh_Hans`) and time zone (IANA name); None keeps the browser's/bank's."""
    problems = []
    if locale not in (None, *LOCALES):
        problems.append(FieldProblem("locale", "must be one of %(values)s", values=Listing(LOCALES, "list")))
    too_long = length_problems(("timezone", timezone, User.timezone))
    if too_long:
        problems += too_long
    elif timezone is not None and timezone not in _time_zones():
        problems.append(FieldProblem("timezone", UNKNOWN_TIMEZONE))
    if problems:
        raise InvalidData(problems, summary=N_("cannot change the profile"))
    with unit_of_work(ctx) as uow:
        found = _existing(uow, load_actor(uow, user).name, lock=True)
        return _saved(uow, found, replace(found, locale=locale, timezone=timezone))


@cache
def _time_zones() -> frozenset[str]:
    """The IANA names zoneinfo knows (read once: listing them reads the time zone database)."""
    return frozenset(available_timezones())


def list_groups(ctx: EngineContext) -> list[GroupRecord]:
    """Every group with its display names and how many users belong to it."""
    with unit_of_work(ctx, read_only=True) as uow:
        return uow.users.groups()


def add_group(ctx: EngineContext, name: str, user: str | None = None, title: str | None = None,
              title_zh: str | None = None) -> GroupRecord:
    """Add an empty group (groups also appear when a user is given one), with what pages call it in
    English (`title`) and Chinese (`title_zh`); `user` must be an admin."""
    name = (name or "").strip()
    title, title_zh = _title(title), _title(title_zh)
    problems = length_problems(("title", title, Group.title), ("title_zh", title_zh, Group.title_zh))
    if not GROUP_NAME.fullmatch(name):
        problems.insert(0, FieldProblem("name", "must be 1 to 100 letters, digits, '_' or '-'"))
    if problems:
        raise InvalidData(problems, summary=N_("cannot add the group"))
    with unit_of_work(ctx) as uow:
        actor = acting(uow, user)
        require_role(actor, Role.ADMIN, to=N_("add groups"))
        if uow.users.group(name) is not None:
            raise Conflict("group '%(name)s' already exists", name=name)
        added = GroupRecord(name=name, title=title, title_zh=title_zh, members=0)
        uow.users.add_group(added)
        uow.history.record("group_added", ctx.clock.now(), actor=actor.name, payload={"name": name})
        return added


def set_group_titles(ctx: EngineContext, name: str, title: str | None, title_zh: str | None,
                     user: str | None = None) -> GroupRecord:
    """Change what pages call a group in English and Chinese (blank: not given); `user` must be an admin."""
    title, title_zh = _title(title), _title(title_zh)
    problems = length_problems(("title", title, Group.title), ("title_zh", title_zh, Group.title_zh))
    if problems:
        raise InvalidData(problems, summary=Message("cannot change the group %(name)s", name=name))
    with unit_of_work(ctx) as uow:
        actor = acting(uow, user)
        require_role(actor, Role.ADMIN, to=N_("change groups"))
        found = uow.users.group(name, lock=True)
        if found is None:
            raise NotFound("unknown group '%(name)s'", name=name)
        changed = replace(found, title=title, title_zh=title_zh)
        uow.users.save_group(changed)
        uow.history.record("group_changed", ctx.clock.now(), actor=actor.name,
                           payload={"name": name, "title": title, "title_zh": title_zh})
        return changed


def group_titles(ctx: EngineContext) -> dict[str, GroupRecord]:
    """Every group's display names by group name (anyone may read them: pages name groups to everyone)."""
    with unit_of_work(ctx, read_only=True) as uow:
        return {g.name: g for g in uow.users.group_titles()}


def _title(text: str | None) -> str | None:
    return (text or "").strip() or None


def administration(ctx: EngineContext, user: str | None = None) -> Administration:
    """Users and groups (with their display names and how many users each has) for the administration
    pages, and how many simulated staff exist (not listed); `user` must be an admin."""
    with unit_of_work(ctx, read_only=True) as uow:
        require_role(acting(uow, user), Role.ADMIN, to=N_("administer users"))
        return Administration(users=tuple(uow.users.all()), groups=tuple(uow.users.groups()), roles=ROLES,
                              simulated=uow.users.simulated_count())
