"""Sign-in sessions: created at sign-in, read on every request, revoked at sign-out or by an admin's change.

Rows are keyed by the SHA-256 of the cookie's token, so the table alone gives no usable cookie.
The per-request read is one statement on the primary key, joined to the user and their groups.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from engine.records.users import SessionUser
from engine.store.tables import GROUP, MEMBERSHIP, SIGN_IN_SESSION, USER

# One statement: the live session joined to its enabled user and the user's groups.
_SESSION_QUERY = (
    select(USER.c.name, USER.c.email, USER.c.roles, USER.c.locale, USER.c.timezone,
           SIGN_IN_SESSION.c.last_seen_at, GROUP.c.name.label("group_name"))
    .select_from(SIGN_IN_SESSION.join(USER, USER.c.id == SIGN_IN_SESSION.c.user_id)
                 .outerjoin(MEMBERSHIP, MEMBERSHIP.c.user_id == USER.c.id)
                 .outerjoin(GROUP, GROUP.c.id == MEMBERSHIP.c.group_id))
    .where(SIGN_IN_SESSION.c.token_hash == bindparam("token_hash"),
           SIGN_IN_SESSION.c.revoked_at.is_(None),
           SIGN_IN_SESSION.c.created_at > bindparam("not_before"),
           USER.c.disabled.is_(False))
    .order_by(GROUP.c.name)
)


class SessionRepository:
    """Sign-in sessions inside one unit of work, by the SHA-256 of their token."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def live_user(self, token_hash: str, not_before: datetime) -> SessionUser | None:
        """The user of a session that is neither revoked nor created at or before `not_before`, and who
        is not disabled; None otherwise."""
        rows = self.session.execute(_SESSION_QUERY, {"token_hash": token_hash, "not_before": not_before}).all()
        if not rows:
            return None
        first = rows[0]
        return SessionUser(name=first.name, email=first.email, roles=tuple(first.roles),
                           groups=tuple(r.group_name for r in rows if r.group_name), locale=first.locale,
                           timezone=first.timezone, last_seen_at=first.last_seen_at)

    def add(self, token_hash: str, user_id: int, now: datetime) -> None:
        self.session.execute(SIGN_IN_SESSION.insert().values(token_hash=token_hash, user_id=user_id, created_at=now,
                                                             last_seen_at=now, revoked_at=None))

    def touch(self, token_hash: str, now: datetime) -> None:
        self.session.execute(update(SIGN_IN_SESSION).where(SIGN_IN_SESSION.c.token_hash == token_hash)
                             .values(last_seen_at=now))

    def revoke(self, token_hash: str, now: datetime) -> None:
        self.session.execute(update(SIGN_IN_SESSION).where(SIGN_IN_SESSION.c.token_hash == token_hash,
                                                           SIGN_IN_SESSION.c.revoked_at.is_(None))
                             .values(revoked_at=now))

    def revoke_user_sessions(self, user_id: int, now: datetime, keep: str | None = None) -> int:
        """Revoke every open session of the user but `keep` (a token hash); how many were open."""
        statement = update(SIGN_IN_SESSION).where(SIGN_IN_SESSION.c.user_id == user_id,
                                                  SIGN_IN_SESSION.c.revoked_at.is_(None))
        if keep is not None:
            statement = statement.where(SIGN_IN_SESSION.c.token_hash != keep)
        return self.session.connection().execute(statement.values(revoked_at=now)).rowcount

    def purge(self, created_before: datetime) -> None:
        """Drop the sessions that ended by age (revoked or not): they can never be used again."""
        self.session.execute(delete(SIGN_IN_SESSION).where(SIGN_IN_SESSION.c.created_at <= created_before))
