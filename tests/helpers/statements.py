"""Counting the SQL statements a call sends, for the no-N+1 tests."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event


@contextmanager
def counting(ctx) -> Iterator[list[str]]:
    """The statements sent on `ctx`'s database while the block runs."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(ctx.database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(ctx.database.engine, "before_cursor_execute", count)


@contextmanager
def transactions(ctx) -> Iterator[list[object]]:
    """The transactions begun on `ctx`'s database while the block runs (one entry each)."""
    begun: list[object] = []

    def begin(conn):
        begun.append(conn)

    event.listen(ctx.database.engine, "begin", begin)
    try:
        yield begun
    finally:
        event.remove(ctx.database.engine, "begin", begin)
