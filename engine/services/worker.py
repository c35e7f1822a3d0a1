"""The background worker's pass: due jobs, external jobs answered by connectors, mail.

`bankflow worker --once` runs one pass; `bankflow worker` loops (and `bankflow serve`
runs the loop in a thread). Each job is its own transaction, so one failing job never
holds up the others; a pass that fails as a whole is logged and the loop goes on. Each
pass first records the worker's heartbeat (`engine.services.health.worker_status`).
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from engine.connectors import CONNECTOR_RETRIES, ConnectorRegistry
from engine.errors import N_, BankflowError
from engine.records.jobs import JobRecord
from engine.services import external_tasks
from engine.services.context import EngineContext
from engine.services.due_jobs import run_due_jobs
from engine.services.limits import check_lengths
from engine.services.notifications import deliver_pending
from engine.services.unit_of_work import unit_of_work
from engine.store.models import WorkerHeartbeat

log = logging.getLogger("bankflow.worker")


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


def _answer(ctx: EngineContext, registry: ConnectorRegistry, worker_id: str, job: JobRecord,
            counts: dict[str, int]) -> None:
    try:
        result = registry.handler(job.topic or "")(dict(job.payload))
    except Exception as exc:  # a connector's failure is recorded on the job, never crashes the worker
        message = f"{job.topic} failed: {exc}"
        log.warning("job %s of instance %s: %s", job.id, job.instance_id, message)
        external_tasks.fail_job(ctx, job.id, worker_id, message, retries=CONNECTOR_RETRIES - job.attempts)
        counts["failed"] += 1
        return
    try:
        external_tasks.complete_job(ctx, job.id, worker_id, result)
        counts["completed"] += 1
        log.info("job %s (%s) of instance %s completed", job.id, job.topic, job.instance_id)
    except BankflowError as exc:
        log.warning("job %s could not be completed: %s", job.id, exc)
        counts["failed"] += 1


def record_heartbeat(ctx: EngineContext, worker_id: str, interval: float | None = None) -> None:
    """Note that `worker_id` runs a pass now (`interval`: seconds until its next one; None for a single pass)."""
    check_lengths(N_("cannot record the worker's pass"), ("worker_id", worker_id, WorkerHeartbeat.worker_id))
    with unit_of_work(ctx) as uow:
        uow.heartbeats.record_pass(worker_id, ctx.clock.now(), interval)


def run_pass(ctx: EngineContext, worker_id: str, registry: ConnectorRegistry | None = None,
             interval: float | None = None) -> dict[str, int]:
    """One pass: record the heartbeat, fire due timers, start periodic processes, check SLAs, answer
    service tasks, mail."""
    record_heartbeat(ctx, worker_id, interval)
    due = run_due_jobs(ctx, worker_id)
    answered = run_connectors(ctx, registry or ctx.connectors, worker_id)
    return {"timers": due["timers"], "starts": due["starts"], "sla_checks": due["sla_checks"],
            "service_jobs": answered["completed"], "failed": due["errors"] + answered["failed"],
            "emails": deliver_pending(ctx)}


def run(ctx: EngineContext, worker_id: str, once: bool = False, interval: float = 5.0,
        on_pass: Callable[[dict[str, int]], None] = lambda counts: None,
        stop: threading.Event | None = None) -> None:
    """Run passes every `interval` seconds (or one with `once`), reporting each pass's counts, until
    `stop` is set. A failing pass is logged and the next one runs as usual (with `once` it raises)."""
    registry = ctx.connectors  # the connectors deploy checks Java delegates against
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            on_pass(run_pass(ctx, worker_id, registry, None if once else interval))
        except Exception as exc:
            if once:
                raise
            if isinstance(exc, BankflowError):  # the database is away, locked for too long, ...: one line
                log.warning("worker %s: the pass failed (%s); the next one runs in %s s", worker_id, exc, interval)
            else:
                log.exception("worker %s: the pass failed; the next one runs in %s s", worker_id, interval)
        if once:
            return
        stop.wait(interval)
