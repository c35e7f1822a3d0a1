"""Worker heartbeats: one row per worker id with its latest pass (`worker_heartbeat`, `uow.heartbeats`).

A worker writes its row once per pass; the web app reads the few rows there are to
tell whether any worker ran recently.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from engine.records.workers import HeartbeatRecord
from engine.store.tables import WORKER_HEARTBEAT

KEEP = timedelta(days=1)  # rows of workers that have not run for this long are dropped


class HeartbeatRepository:
    """Worker heartbeats inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record_pass(self, worker_id: str, now: datetime, interval: float | None) -> None:
        """Note that `worker_id` runs a pass now; drop the rows of workers long gone."""
        changed = self.session.connection().execute(
            update(WORKER_HEARTBEAT).where(WORKER_HEARTBEAT.c.worker_id == worker_id)
            .values(last_pass_at=now, interval_seconds=interval, passes=WORKER_HEARTBEAT.c.passes + 1)).rowcount
        if not changed:
            self.session.execute(insert(WORKER_HEARTBEAT).values(worker_id=worker_id, started_at=now, last_pass_at=now,
                                                                 interval_seconds=interval, passes=1))
        self.session.execute(delete(WORKER_HEARTBEAT).where(WORKER_HEARTBEAT.c.last_pass_at < now - KEEP))

    def all(self) -> list[HeartbeatRecord]:
        """Every worker's row, the most recent pass first."""
        return [HeartbeatRecord(worker_id=row.worker_id, started_at=row.started_at, last_pass_at=row.last_pass_at,
                                interval_seconds=row.interval_seconds, passes=row.passes)
                for row in self.session.execute(select(WORKER_HEARTBEAT)
                                                .order_by(WORKER_HEARTBEAT.c.last_pass_at.desc()))]
