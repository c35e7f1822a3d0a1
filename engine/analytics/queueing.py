"""The simulator's bookkeeping: staff and their hours, work queues, arrivals, the event queue.

Pure: no database and no engine calls (engine/services/simulation.py makes those).
Everything here is deterministic given the `random.Random` it is handed.
"""
from __future__ import annotations

import bisect
import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator

UTC = timezone.utc
_EPSILON = timedelta(microseconds=1)


# --- calendars -------------------------------------------------------------------------------

def is_always_open(calendar: Any) -> bool:
    return not hasattr(calendar, "hours_on")


def next_opening(calendar: Any, instant: datetime) -> datetime:
    """The first working instant at or after `instant`."""
    return calendar.add(instant, _EPSILON) - _EPSILON


def is_working(calendar: Any, instant: datetime) -> bool:
    return next_opening(calendar, instant) == instant


def working_spans(calendar: Any, day: date) -> list[tuple[datetime, datetime]]:
    """The working spans (UTC) of a local day of the calendar; all of it (UTC) for 24x7."""
    if is_always_open(calendar):
        start = datetime.combine(day, datetime.min.time(), UTC)
        return [(start, start + timedelta(days=1))]
    zone = calendar.zone
    spans = []
    for opens, closes in calendar.hours_on(day):
        a = datetime.combine(day, opens, zone).astimezone(UTC)
        b = datetime.combine(day, closes, zone).astimezone(UTC)
        if b > a:
            spans.append((a, b))
    return sorted(spans)


def local_days(calendar: Any, start: datetime, end: datetime) -> Iterator[date]:
    zone = UTC if is_always_open(calendar) else calendar.zone
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


# --- arrivals --------------------------------------------------------------------------------

def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count (Knuth's method; a rounded normal for large means)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def arrival_times(calendar: Any, rate: float, start: datetime, end: datetime,
                  rng: random.Random) -> list[datetime]:
    """Poisson(rate) arrivals on each working day, uniform over that day's working time, in [start, end)."""
    times: list[datetime] = []
    for day in local_days(calendar, start, end):
        spans = [(max(a, start), min(b, end)) for a, b in working_spans(calendar, day)]
        spans = [(a, b) for a, b in spans if b > a]
        if not spans:
            continue
        total = sum((b - a).total_seconds() for a, b in spans)
        full_day = sum((b - a).total_seconds() for a, b in working_spans(calendar, day))
        count = poisson(rng, rate * total / full_day)
        for offset in sorted(rng.uniform(0, total) for _ in range(count)):
            for a, b in spans:
                length = (b - a).total_seconds()
                if offset < length:
                    times.append(a + timedelta(seconds=round(offset)))
                    break
                offset -= length
    return times


# --- staff and work ----------------------------------------------------------------------------

@dataclass
class Person:
    """One simulated member of staff (or a customer, when `unlimited`)."""

    name: str
    groups: frozenset[str]
    calendar: Any
    unlimited: bool = False
    busy_with: int | None = None
    waking: bool = False  # a wake-up at the next opening is queued
    completed: int = 0


@dataclass
class WorkItem:
    """An open human task as the simulator knows it."""

    id: int
    instance_id: int
    element_id: str
    priority: int
    created_at: datetime
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    assignee: str | None
    form: list[dict[str, Any]]
    refused: set[str] = field(default_factory=set)  # people the four-eyes rule keeps off it

    @property
    def order(self) -> tuple[int, datetime, int]:
        return (-self.priority, self.created_at, self.id)

    def offers(self) -> list[str]:
        """The queue keys this item waits in."""
        if self.assignee:
            return [f"user:{self.assignee}"]
        keys = [f"group:{g}" for g in self.candidate_groups] + [f"user:{u}" for u in self.candidate_users]
        return keys or ["anyone"]


class WorkQueues:
    """Open work by who may take it; the oldest (by priority, then age) goes first."""

    def __init__(self) -> None:
        self._queues: dict[str, list[tuple[tuple[int, datetime, int], int]]] = {}
        self.items: dict[int, WorkItem] = {}

    def add(self, item: WorkItem) -> None:
        self.items[item.id] = item
        for key in item.offers():
            bisect.insort(self._queues.setdefault(key, []), (item.order, item.id))

    def remove(self, item_id: int) -> None:
        self.items.pop(item_id, None)  # queue entries go lazily

    def __len__(self) -> int:
        return len(self.items)

    def next_for(self, person: Person) -> WorkItem | None:
        keys = [f"user:{person.name}", *(f"group:{g}" for g in sorted(person.groups)), "anyone"]
        best: WorkItem | None = None
        for key in keys:
            queue = self._queues.get(key)
            if not queue:
                continue
            while queue and queue[0][1] not in self.items:
                queue.pop(0)
            for _, item_id in queue:
                item = self.items.get(item_id)
                if item is None or person.name in item.refused:
                    continue
                if best is None or item.order < best.order:
                    best = item
                break
        return best


class EventQueue:
    """Timed events, ties broken by insertion order so a run is repeatable."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str, Any]] = []
        self._seq = 0

    def push(self, when: datetime, kind: str, payload: Any = None) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, kind, payload))

    def next_time(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: datetime) -> list[tuple[str, Any]]:
        due = []
        while self._heap and self._heap[0][0] <= now:
            when, _, kind, payload = heapq.heappop(self._heap)
            due.append((kind, payload))
        return due
