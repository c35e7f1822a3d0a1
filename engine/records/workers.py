"""The background worker as monitoring sees it: heartbeats, whether a worker runs, the health report."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.statuses import WorkerStatus


@dataclass(frozen=True, kw_only=True)
class HeartbeatRecord:
    """A worker's latest pass (one per worker id)."""

    worker_id: str
    started_at: datetime  # its first pass
    last_pass_at: datetime
    interval_seconds: float | None  # seconds between its passes (None: a single pass, `--once`)
    passes: int


@dataclass(frozen=True, kw_only=True)
class WorkerState:
    """Whether a worker runs (see `engine.services.health.worker_status`)."""

    status: WorkerStatus
    last_pass_at: datetime | None  # the latest pass of any worker (None: none recorded)
    waiting_since: datetime | None  # when the longest-waiting work became due (looked up only when none runs)
    minutes: int | None  # how long no worker has run, when `overdue`


@dataclass(frozen=True, kw_only=True)
class HealthReport:
    """What /health says: whether the database answers (it alone decides `status`) and whether a worker
    runs (`worker_status` "unknown" when that could not be read)."""

    status: str  # ok | degraded
    database: str  # ok, or "unavailable: <error class>"
    dialect: str
    worker_status: str  # a WorkerStatus, or unknown
    last_pass_at: datetime | None
