"""One database as the engine uses it: the connection pool and the sessions service calls run in.

`EngineContext.database` holds one; services reach it only through `unit_of_work`, so nothing above
the store names SQLAlchemy. Tests and benchmarks that look at the SQL itself use `engine`.
"""
from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.store import schema
from engine.store.db import database_status, make_engine, make_session_factory
from engine.store.unit_of_work import UnitOfWork, transaction


class Database:
    """The pool (`engine`) and two session factories: one that writes (on SQLite it takes the write lock
    when its transaction begins) and one that only reads (it never waits behind a writer)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session_factory: sessionmaker[Session] = make_session_factory(engine)
        self.read_session_factory: sessionmaker[Session] = make_session_factory(engine, read_only=True)

    @classmethod
    def open(cls, url: str, create: bool = True) -> "Database":
        """The database at `url`; unless `create`, a SQLite file that does not exist is a DatabaseProblem."""
        return cls(make_engine(url, create=create))

    def unit_of_work(self, read_only: bool = False) -> AbstractContextManager[UnitOfWork]:
        return transaction(self.read_session_factory if read_only else self.session_factory)

    @property
    def url(self) -> str:
        """The URL without its password, as commands and pages may show it."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def url_with_password(self) -> str:
        """The URL to connect with (a worker thread opens its own pool on the same database)."""
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def reachable_by_url(self) -> bool:
        """Whether another pool opened on `url` sees the same data (a private in-memory SQLite does not)."""
        url = self.engine.url
        return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def status(self) -> str:
        """'ok' when the database answers, else 'unavailable: <error class>'; never raises."""
        return database_status(self.engine)

    def upgrade(self) -> str:
        """Create or upgrade the schema: 'created', 'upgraded' or 'current'."""
        return schema.upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
