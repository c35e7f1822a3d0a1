"""Database engines and sessions: no global state, callers hold what they create."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import DatabaseProblem, Message

DATABASE_URL_ENV = "BANKFLOW_DATABASE_URL"


def default_database_url() -> str:
    """`BANKFLOW_DATABASE_URL`, else SQLite in the `instance/` folder of the working directory."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{Path.cwd() / 'instance' / 'bankflow.sqlite'}"


def make_engine(url: str, create: bool = True) -> Engine:
    """An engine tuned per dialect: SQLite gets WAL, foreign keys and a busy timeout.

    A URL that does not parse, names a driver that is not installed, or (unless
    `create`) a SQLite file that does not exist raises DatabaseProblem with one line
    saying what is wrong, instead of SQLAlchemy's error (or a new empty file).
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseProblem("'%(url)s' is not a database URL (e.g. sqlite:///bankflow.sqlite or "
                              "postgresql+psycopg://user@host/db)", url=url) from None
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_file(parsed.database, create)
    try:
        return _tuned_engine(url, parsed.get_backend_name() == "sqlite")
    except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
        raise DatabaseProblem("cannot use '%(url)s': the database driver is not installed (%(problem)s); bankflow "
                              "supports SQLite and PostgreSQL (postgresql+psycopg://...)",
                              url=parsed.render_as_string(), problem=str(exc)) from None


def _check_sqlite_file(database: str | None, create: bool) -> None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists():
        return
    if not create:
        raise DatabaseProblem("the database %(path)s does not exist: run `bankflow init-db` "
                              "(or `bankflow demo`) to create it, or pass --database-url", path=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)


def _tuned_engine(url: str, sqlite: bool) -> Engine:
    if sqlite:
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               json_serializer=_compact_json)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # No ping before each checkout: it costs a round trip per service call. A connection the
    # server dropped fails its call with "cannot reach the database" (nothing is written), and
    # SQLAlchemy then replaces the pool's connections; recycling keeps idle ones from going stale.
    return create_engine(url, pool_recycle=1800, json_serializer=_compact_json)


def _compact_json(value: object) -> str:
    """JSON columns without the spaces json.dumps puts after separators: workflow states are
    written on every call, and a tenth fewer bytes is a tenth less to write."""
    return json.dumps(value, separators=(",", ":"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is switched off so that `begin` below
    # decides; every transaction then takes the write lock up front, which turns
    # concurrent writers into a wait instead of a mid-transaction "database is locked".
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


READ_ONLY = "bankflow_read_only"


def _sqlite_begin_immediate(connection: Connection) -> None:
    """Writers take the lock up front; read-only units of work (see `unit_of_work`) do not,
    so work lists and case pages never queue behind a writer in WAL mode."""
    # Straight to the driver: SQLAlchemy's statement path would cost more than the BEGIN itself.
    statement = "BEGIN" if connection.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
    driver = connection.connection.driver_connection
    assert driver is not None  # a connection that is beginning a transaction is open
    driver.execute(statement)


def make_session_factory(engine: Engine, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions on `engine`; `read_only` ones never write.

    On SQLite they do not take the write lock (see `_sqlite_begin_immediate`) but still
    read one snapshot. On PostgreSQL they run in autocommit: under READ COMMITTED each
    statement sees its own snapshot inside a transaction too, so BEGIN and COMMIT would
    only add two round trips.
    """
    if not read_only:
        return sessionmaker(engine, expire_on_commit=False)
    options: dict[str, object] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    return sessionmaker(engine.execution_options(**options), expire_on_commit=False)


def database_status(engine: Engine) -> str:
    """'ok' when the database answers a trivial query, else 'unavailable: <error class>'; never raises."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return f"unavailable: {type(exc).__name__}"
    return "ok"


def describe_database_error(exc: Exception) -> Message:
    """One line for a database failure a user can act on, without the driver's traceback."""
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(getattr(exc, "orig", exc)).strip() else ""
    lowered = text.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return Message("the database has no bankflow schema yet: run `bankflow init-db` first")
    if "connection" in lowered or "could not connect" in lowered or "unable to open" in lowered:
        return Message("cannot reach the database: %(problem)s", problem=text)
    return Message("database error: %(problem)s", problem=text)
