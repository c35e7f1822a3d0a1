"""Liveness and readiness facts for monitoring."""
from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from engine.services.context import EngineContext


def check(ctx: EngineContext) -> dict[str, Any]:
    """Whether the database answers; never raises, so a health page always renders."""
    try:
        with ctx.db.connect() as conn:
            conn.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError as exc:
        database = f"unavailable: {type(exc).__name__}"
    return {"status": "ok" if database == "ok" else "degraded", "database": database,
            "dialect": ctx.db.dialect.name}
