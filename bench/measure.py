"""Timing helpers shared by the bare and persisted runs: throughput, latency percentiles, progress."""
from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def say(message: str) -> None:
    """Progress goes out at once: a long phase must not look like a hang."""
    print(message, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: a value that was actually measured, no interpolation."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Throughput:
    """How many instances ran in how long."""

    instances: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.instances / self.seconds

    @property
    def ms_per_instance(self) -> float:
        return 1000 * self.seconds / self.instances


@dataclass
class CallLatencies:
    """Wall time of each service call, by call type (start, list, claim, complete)."""

    by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def timed(self, kind: str, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one service call and keep its wall time under `kind`."""
        began = time.perf_counter()
        result = call(*args, **kwargs)
        self.by_kind[kind].append(time.perf_counter() - began)
        return result

    def summary(self) -> dict[str, dict[str, float]]:
        """p50/p95/mean in milliseconds and the number of calls, per call type."""
        return {
            kind: {
                "calls": len(values),
                "p50_ms": 1000 * percentile(values, 50),
                "p95_ms": 1000 * percentile(values, 95),
                "mean_ms": 1000 * sum(values) / len(values),
            }
            for kind, values in self.by_kind.items()
        }


class Progress:
    """Prints a line at each quarter of a timed loop with the rate so far."""

    def __init__(self, label: str, total: int):
        self._label = label
        self._total = total
        self._marks = {math.ceil(total * q / 4) for q in (1, 2, 3, 4)}
        self._began = time.perf_counter()

    def step(self, done: int) -> None:
        if done in self._marks:
            elapsed = time.perf_counter() - self._began
            say(f"    {self._label}: {done}/{self._total} instances, {done / elapsed:.1f}/s so far")


def run_timed(label: str, items: list[T], one: Callable[[T], None]) -> Throughput:
    """Run `one` over every item under one perf_counter span, with progress lines."""
    progress = Progress(label, len(items))
    began = time.perf_counter()
    for done, item in enumerate(items, start=1):
        one(item)
        progress.step(done)
    return Throughput(len(items), time.perf_counter() - began)
