"""Managers' SLA overrides, and a short-lived copy of them per definition.

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
class Override:
    duration: str
    calendar: str | None


def effective_target(override: Override | None, duration: str | None,
                     calendar: str | None) -> tuple[str | None, str | None]:
    """A manager's override wins over the model: its duration always, its calendar when it names one."""
    if override is None:
        return duration, calendar
    return override.duration, override.calendar or calendar


Overrides = dict[str | None, Override]  # element id (None: the whole process) -> override


class OverrideCache:
    def __init__(self, ttl: float = 30.0):
        self._ttl = ttl
        self._entries: dict[int, tuple[float, Overrides]] = {}
        self._lock = threading.Lock()

    def get(self, definition_id: int, load: Callable[[], Overrides]) -> Overrides:
        """The overrides of one definition version, read with `load` when the copy is stale."""
        with self._lock:
            entry = self._entries.get(definition_id)
        if entry is not None and time.monotonic() - entry[0] < self._ttl:
            return entry[1]
        overrides = load()
        with self._lock:
            self._entries[definition_id] = (time.monotonic(), overrides)
        return overrides

    def forget(self, definition_id: int) -> None:
        with self._lock:
            self._entries.pop(definition_id, None)
