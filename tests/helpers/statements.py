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

    event.listen(ctx.db, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(ctx.db, "before_cursor_execute", count)
