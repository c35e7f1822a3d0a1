"""Liveness and readiness facts for monitoring, and whether a worker runs."""
from __future__ import annotations

from datetime import datetime, timedelta

from engine.errors import BankflowError
from engine.records.workers import HealthReport, HeartbeatRecord, WorkerState
from engine.services.context import EngineContext
from engine.services.unit_of_work import unit_of_work
from engine.statuses import WorkerStatus

# A worker counts as running when its last pass is at most this old, or three of its intervals when
# those are longer; and work counts as stuck once it has waited this long with no worker running.
STALE_AFTER = timedelta(minutes=2)


def check(ctx: EngineContext) -> HealthReport:
    """Whether the database answers, and whether a worker runs; never raises, so a health page always
    renders. Only the database decides `status`: the web app serves without a worker."""
    database = ctx.database.status()
    state = None
    if database == "ok":
        try:
            state = worker_status(ctx)
        except BankflowError:  # e.g. a schema older than this code
            pass
    return HealthReport(status="ok" if database == "ok" else "degraded", database=database,
                        dialect=ctx.database.dialect, worker_status=state.status if state else "unknown",
                        last_pass_at=state.last_pass_at if state else None)


def _grace(heartbeat: HeartbeatRecord) -> timedelta:
    interval = heartbeat.interval_seconds
    return max(STALE_AFTER, timedelta(seconds=3 * interval)) if interval else STALE_AFTER


def worker_status(ctx: EngineContext) -> WorkerState:
    """Whether a worker runs.

    `status` is `ok` (a worker passed within STALE_AFTER, or three of its intervals), `idle` (none did,
    but no work waits for one) or `overdue` (none did, and a due timer, periodic start, SLA check or
    service job of bankflow's connectors has waited at least STALE_AFTER). `last_pass_at` is the latest
    pass of any worker (None: none recorded), `waiting_since` when the longest-waiting work became due
    (only looked up when no worker runs), and `minutes` how long no worker has run, for `overdue`.
    """
    now = ctx.clock.now()
    with unit_of_work(ctx, read_only=True) as uow:
        beats = uow.heartbeats.all()
        running = any(now - beat.last_pass_at <= _grace(beat) for beat in beats)
        waiting_since: datetime | None = None if running else uow.jobs.oldest_due(now, ctx.connectors.topics())
    last_pass = beats[0].last_pass_at if beats else None
    overdue = waiting_since is not None and now - waiting_since >= STALE_AFTER
    status = WorkerStatus.OK if running else WorkerStatus.OVERDUE if overdue else WorkerStatus.IDLE
    since = last_pass or waiting_since
    return WorkerState(status=status, last_pass_at=last_pass, waiting_since=waiting_since,
                       minutes=int((now - since).total_seconds() // 60) if overdue and since else None)
