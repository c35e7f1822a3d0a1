"""Setting a database up: connecting, creating or upgrading the schema."""
from __future__ import annotations

from engine.clock import Clock
from engine.records.setup import DatabaseReport
from engine.services.calendars import ensure_default_calendars
from engine.services.context import EngineContext
from engine.store.db import default_database_url


def open_context(url: str | None = None, create: bool = False, clock: Clock | None = None) -> EngineContext:
    """The engine context for `url` (default: BANKFLOW_DATABASE_URL, else SQLite in ./instance).

    Unless `create`, a SQLite database file that does not exist is an error rather
    than a new empty file.
    """
    return EngineContext.from_url(url or default_database_url(), clock=clock, create=create)


def init_db(ctx: EngineContext) -> DatabaseReport:
    """Create or upgrade the schema and give a new database the default calendar (safe to repeat).
    Says whether the schema was 'created', 'upgraded' or already 'current'."""
    status = ctx.database.upgrade()
    return DatabaseReport(schema=status, default_calendar_loaded=ensure_default_calendars(ctx),
                          database=ctx.database.url)
