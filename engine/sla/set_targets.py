"""SLA targets set by managers (`bankflow sla set`), which win over the model's, and a short-lived
copy of them per definition version.

They change rarely, yet every new task would otherwise query for them; a copy
lives `ttl` seconds (the process that sets one forgets its copy at once). The
service layer hands in how to read them.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class SetTarget:
    """A manager's target for a process or one of its tasks: a duration, optionally on a calendar."""

    duration: str
    calendar: str | None


def effective_target(set_target: SetTarget | None, duration: str | None,
                     calendar: str | None) -> tuple[str | None, str | None]:
    """A manager's target wins over the model: its duration always, its calendar when it names one."""
    if set_target is None:
        return duration, calendar
    return set_target.duration, set_target.calendar or calendar


SetTargets = dict[str | None, SetTarget]  # element id (None: the whole process) -> its target


class SetTargetCache:
    """The set targets per definition version, each copy kept `ttl` seconds."""

    def __init__(self, ttl: float = 30.0):
        self._ttl = ttl
        self._entries: dict[int, tuple[float, SetTargets]] = {}
        self._lock = threading.Lock()

    def get(self, definition_id: int, load: Callable[[], SetTargets]) -> SetTargets:
        """The set targets of one definition version, read with `load` when the copy is stale."""
        with self._lock:
            entry = self._entries.get(definition_id)
        if entry is not None and time.monotonic() - entry[0] < self._ttl:
            return entry[1]
        targets = load()
        with self._lock:
            self._entries[definition_id] = (time.monotonic(), targets)
        return targets

    def forget(self, definition_id: int) -> None:
        with self._lock:
            self._entries.pop(definition_id, None)
