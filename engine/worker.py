"""The background worker: answers external jobs with the registered connectors.

`bankflow worker --once` runs one pass; `bankflow worker` loops. Each job is its
own transaction, so one failing job never holds up the others.
"""
from __future__ import annotations

import logging
from typing import Any

from engine import external
from engine.connectors import ConnectorRegistry
from engine.services.context import EngineContext
from engine.errors import BankflowError

log = logging.getLogger("bankflow.worker")
CONNECTOR_RETRIES = 2


def run_connectors(ctx: EngineContext, registry: ConnectorRegistry, worker_id: str,
                   batch: int = 50) -> dict[str, int]:
    """Fetch and answer jobs until none of the registry's topics has work; return counts."""
    counts = {"completed": 0, "failed": 0}
    while True:
        jobs = external.fetch_and_lock(ctx, worker_id, registry.topics(), max_jobs=batch)
        if not jobs:
            return counts
        for job in jobs:
            _answer(ctx, registry, worker_id, job, counts)


def _answer(ctx: EngineContext, registry: ConnectorRegistry, worker_id: str, job: dict[str, Any],
            counts: dict[str, int]) -> None:
    try:
        result = registry.handler(job["topic"])(dict(job["variables"]))
    except Exception as exc:  # a connector's failure is recorded on the job, never crashes the worker
        message = f"{job['topic']} failed: {exc}"
        log.warning("job %s of instance %s: %s", job["id"], job["instance_id"], message)
        external.fail_job(ctx, job["id"], worker_id, message, retries=CONNECTOR_RETRIES - job["attempts"])
        counts["failed"] += 1
        return
    try:
        external.complete_job(ctx, job["id"], worker_id, result)
        counts["completed"] += 1
        log.info("job %s (%s) of instance %s completed", job["id"], job["topic"], job["instance_id"])
    except BankflowError as exc:
        log.warning("job %s could not be completed: %s", job["id"], exc)
        counts["failed"] += 1
