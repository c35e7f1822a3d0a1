"""Run test code in real OS processes (spawned, so nothing is shared but the database)."""
from __future__ import annotations

import multiprocessing
import queue
import time
from typing import Any, Callable

SPAWN = multiprocessing.get_context("spawn")


def run_together(target: Callable, jobs: list[tuple], timeout: float = 300) -> list[Any]:
    """Start one process per job, released together by a barrier; return what each put on the queue.

    `target(barrier, results, *job)` must put exactly one result. A process that dies
    without a result fails the test at once instead of after the timeout.
    """
    barrier, results = SPAWN.Barrier(len(jobs)), SPAWN.Queue()
    children = [SPAWN.Process(target=target, args=(barrier, results, *job)) for job in jobs]
    for child in children:
        child.start()
    outcomes: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(outcomes) < len(children):
        try:
            outcomes.append(results.get(timeout=1))
        except queue.Empty:
            dead = [c for c in children if c.exitcode not in (None, 0)]
            assert not dead, f"a child process died with exit code {dead[0].exitcode}"
            assert time.monotonic() < deadline, "child processes did not finish in time"
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    return outcomes
