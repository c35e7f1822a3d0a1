"""Schema management through Alembic: `upgrade` is what `bankflow init-db` runs."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from engine.errors import DatabaseProblem
from engine.store.db import describe_database_error

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> str:
    """Bring the database to the newest schema: 'created', 'upgraded' or 'current' (nothing to do)."""
    config = alembic_config(engine)
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        with engine.begin() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if current == head:
                return "current"
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise DatabaseProblem(describe_database_error(exc)) from exc
    return "created" if current is None else "upgraded"


def is_current(engine: Engine) -> bool:
    config = alembic_config(engine)
    with engine.connect() as connection:
        return (MigrationContext.configure(connection).get_current_revision()
                == ScriptDirectory.from_config(config).get_current_head())


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the models (a developer tool, see README)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
