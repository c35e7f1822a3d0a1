"""One service call = one database transaction, and the repositories that work inside it.

Services write `with unit_of_work(ctx) as uow:` and reach rows only through `uow.<repository>`
(`uow.tasks.get(id)`, `uow.instances.save(record)`); they never see SQLAlchemy. The commit,
rollback and the mapping of database failures to engine errors (a lost update is a Conflict) live
here, once (docs/architecture.md, "Transactions").
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import N_, Conflict, DatabaseProblem
from engine.store.db import describe_database_error
from engine.store.history_rows import write_pending

CHANGED_BY_SOMEONE_ELSE = N_("it was changed by someone else at the same time; reload it and try again")


class UnitOfWork:
    """One transaction: its session and the repositories bound to it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __getattr__(self, name: str) -> Any:
        # TRANSITIONAL (issue #21): code not yet moved to repositories still passes the unit of work
        # where a Session is expected; removed once every service reaches rows through repositories.
        return getattr(self.session, name)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[UnitOfWork]:
    """Commit on success, roll back on any error; lost updates and lock timeouts surface as Conflict,
    a missing schema or unreachable server as DatabaseProblem."""
    session = factory()
    try:
        yield UnitOfWork(session)
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
