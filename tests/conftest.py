"""Test fixtures: a real database per test, SQLite by default or PostgreSQL when
`BANKFLOW_TEST_DATABASE_URL` points at a server.

SQLite: the schema is built once with Alembic into a template file that each test
copies. PostgreSQL: one fresh database per run (created and dropped here), built
once with Alembic and truncated between tests.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text

from engine.clock import ManualClock
from engine.services.context import EngineContext
from engine.runtime.sandbox import ScriptLimits
from engine.runtime.script_engine import BankflowScriptEngine
from engine.store import schema
from engine.store.db import make_engine
from engine.store.models import Base
from tests.helpers.invariants import rows_mirror_workflows

FIXTURES = Path(__file__).parent / "fixtures"
TEST_DATABASE_ENV = "BANKFLOW_TEST_DATABASE_URL"


def _create_postgres_database(server_url: str) -> str:
    url = make_url(server_url)
    name = f"bankflow_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(server_url: str, test_url: str) -> None:
    name = make_url(test_url).database
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> Iterator[str]:
    """A migrated database: a SQLite template file, or a fresh PostgreSQL database."""
    server_url = os.environ.get(TEST_DATABASE_ENV)
    if server_url:
        test_url = _create_postgres_database(server_url)
        engine = make_engine(test_url)
        schema.upgrade(engine)
        engine.dispose()
        yield test_url
        _drop_postgres_database(server_url, test_url)
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        engine = make_engine(f"sqlite:///{path}")
        schema.upgrade(engine)
        engine.dispose()
        yield str(path)


def fresh_database(database_template: str, folder: Path) -> str:
    """A clean database from the template: a copy of the SQLite file in `folder`, or the PostgreSQL
    test database emptied."""
    if database_template.startswith("postgresql"):
        engine = make_engine(database_template)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return database_template
    path = folder / "bankflow.sqlite"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    """A clean database for one test."""
    yield fresh_database(database_template, tmp_path)


@pytest.fixture
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ctx(database_url: str, clock: ManualClock) -> Iterator[EngineContext]:
    context = EngineContext.from_url(database_url, clock=clock)
    context.password_method = "pbkdf2:sha256:1000"  # fast hashing: tests create many users
    yield context
    try:
        assert rows_mirror_workflows(context) == []
    finally:
        context.close()


@pytest.fixture
def tight_limits(ctx):
    """Small script limits, so resource attacks end in a fraction of a second."""
    ctx.script_engine = BankflowScriptEngine(ScriptLimits(cpu_seconds=0.3, memory_mb=64), ctx.clock, ctx.calendars)
    return ctx


@pytest.fixture
def fixture_path():
    return lambda name: FIXTURES / name
