"""The background worker's pass: due jobs, external jobs answered by connectors, mail.

`bankflow worker --once` runs one pass; `bankflow worker` loops. Each job is its
own transaction, so one failing job never holds up the others.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from engine.connectors import ConnectorRegistry, default_registry
from engine.errors import BankflowError
from engine.services import external_tasks
from engine.services.context import EngineContext
from engine.services.due_jobs import run_due_jobs
from engine.services.notifications import deliver_pending

log = logging.getLogger("bankflow.worker")
CONNECTOR_RETRIES = 2


def run_connectors(ctx: EngineContext, registry: ConnectorRegistry, worker_id: str,
                   batch: int = 50) -> dict[str, int]:
    """Fetch and answer jobs until none of the registry's topics has work; return counts."""
    counts = {"completed": 0, "failed": 0}
    while True:
        jobs = external_tasks.fetch_and_lock(ctx, worker_id, registry.topics(), max_jobs=batch)
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
        external_tasks.fail_job(ctx, job["id"], worker_id, message, retries=CONNECTOR_RETRIES - job["attempts"])
        counts["failed"] += 1
        return
    try:
        external_tasks.complete_job(ctx, job["id"], worker_id, result)
        counts["completed"] += 1
        log.info("job %s (%s) of instance %s completed", job["id"], job["topic"], job["instance_id"])
    except BankflowError as exc:
        log.warning("job %s could not be completed: %s", job["id"], exc)
        counts["failed"] += 1


def run_pass(ctx: EngineContext, worker_id: str, registry: ConnectorRegistry | None = None) -> dict[str, int]:
    """One pass: fire due timers, start periodic processes, check SLAs, answer service tasks, mail."""
    due = run_due_jobs(ctx, worker_id)
    answered = run_connectors(ctx, registry or default_registry(), worker_id)
    return {"timers": due["timers"], "starts": due["starts"], "sla_checks": due["sla_checks"],
            "service_jobs": answered["completed"], "failed": due["errors"] + answered["failed"],
            "emails": deliver_pending(ctx)}


def run(ctx: EngineContext, worker_id: str, once: bool = False, interval: float = 5.0,
        on_pass: Callable[[dict[str, int]], None] = lambda counts: None) -> None:
    """Run passes every `interval` seconds (or one with `once`), reporting each pass's counts."""
    registry = default_registry()
    while True:
        on_pass(run_pass(ctx, worker_id, registry))
        if once:
            return
        time.sleep(interval)
