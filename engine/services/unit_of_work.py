"""One service call = one database transaction (DESIGN §3)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.store.history_rows import write_pending
from engine.services.context import EngineContext
from engine.errors import N_, Conflict, DatabaseProblem
from engine.store.db import describe_database_error

CHANGED_BY_SOMEONE_ELSE = N_("it was changed by someone else at the same time; reload it and try again")


@contextmanager
def unit_of_work(ctx: EngineContext, read_only: bool = False) -> Iterator[Session]:
    """Commit on success, roll back on any error; lost updates surface as Conflict.

    `read_only` units of work only read, and on SQLite do not take the write lock.
    """
    session = (ctx.read_session_factory if read_only else ctx.session_factory)()
    try:
        yield session
        write_pending(session)
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Conflict(CHANGED_BY_SOMEONE_ELSE) from None
    except OperationalError as exc:
        session.rollback()
        if "locked" in str(exc.orig).lower() or "could not serialize" in str(exc.orig).lower():
            raise Conflict(CHANGED_BY_SOMEONE_ELSE) from None
        raise DatabaseProblem(describe_database_error(exc)) from exc
    except ProgrammingError as exc:  # e.g. PostgreSQL without the schema
        session.rollback()
        raise DatabaseProblem(describe_database_error(exc)) from exc
    except IntegrityError:
        session.rollback()
        raise Conflict(CHANGED_BY_SOMEONE_ELSE) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
