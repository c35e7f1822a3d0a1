"""One service call = one database transaction (docs/architecture.md, "Transactions")."""
from __future__ import annotations

from contextlib import AbstractContextManager

from engine.services.context import EngineContext
from engine.store.unit_of_work import UnitOfWork


def unit_of_work(ctx: EngineContext, read_only: bool = False) -> AbstractContextManager[UnitOfWork]:
    """The transaction of one service call. `read_only` units of work only read, and on SQLite do not
    take the write lock."""
    return ctx.database.unit_of_work(read_only)
