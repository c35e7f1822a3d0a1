"""Liveness and readiness facts for monitoring, and whether a worker runs."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import BankflowError
from engine.services.context import EngineContext
from engine.services.unit_of_work import unit_of_work
from engine.store import job_rows, worker_rows
from engine.views import iso

# A worker counts as running when its last pass is at most this old, or three of its intervals when
# those are longer; and work counts as stuck once it has waited this long with no worker running.
STALE_AFTER = timedelta(minutes=2)
WORKER_STATUSES = ("ok", "idle", "overdue")


def check(ctx: EngineContext) -> dict[str, Any]:
    """Whether the database answers, and whether a worker runs; never raises, so a health page always
    renders. Only the database decides `status`: the web app serves without a worker."""
    try:
        with ctx.db.connect() as conn:
            conn.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError as exc:
        database = f"unavailable: {type(exc).__name__}"
    report: dict[str, Any] = {"status": "ok" if database == "ok" else "degraded", "database": database,
                              "dialect": ctx.db.dialect.name}
    worker: dict[str, Any] = {"status": "unknown", "last_pass_at": None}
    if database == "ok":
        try:
            status = worker_status(ctx)
            worker = {"status": status["status"], "last_pass_at": status["last_pass_at"]}
        except (BankflowError, SQLAlchemyError):  # e.g. a schema older than this code
            pass
    return {**report, "worker": worker}


def _grace(heartbeat: dict[str, Any]) -> timedelta:
    interval = heartbeat["interval_seconds"]
    return max(STALE_AFTER, timedelta(seconds=3 * interval)) if interval else STALE_AFTER


def worker_status(ctx: EngineContext) -> dict[str, Any]:
    """Whether a worker runs.

    `status` is `ok` (a worker passed within STALE_AFTER, or three of its intervals), `idle` (none did,
    but no work waits for one) or `overdue` (none did, and a due timer, periodic start, SLA check or
    service job of bankflow's connectors has waited at least STALE_AFTER). `last_pass_at` is the latest
    pass of any worker (None: none recorded), `waiting_since` when the longest-waiting work became due
    (only looked up when no worker runs), and `minutes` how long no worker has run, for `overdue`.
    """
    now = ctx.clock.now()
    with unit_of_work(ctx, read_only=True) as session:
        beats = worker_rows.heartbeats(session)
        running = any(now - beat["last_pass_at"] <= _grace(beat) for beat in beats)
        waiting_since: datetime | None = (None if running else
                                          job_rows.oldest_worker_job(session, now, ctx.connectors.topics()))
    last_pass = beats[0]["last_pass_at"] if beats else None
    overdue = waiting_since is not None and now - waiting_since >= STALE_AFTER
    status = "ok" if running else "overdue" if overdue else "idle"
    since = last_pass or waiting_since
    return {"status": status, "last_pass_at": iso(last_pass), "waiting_since": iso(waiting_since),
            "minutes": int((now - since).total_seconds() // 60) if overdue and since else None}
