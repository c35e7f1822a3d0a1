"""Managers' SLA overrides, read per definition and kept for a short while.

They change rarely, yet every new task would otherwise query for them; a copy
lives `ttl` seconds (the process that sets one forgets its copy at once).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store.models import SlaOverride


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


class OverrideCache:
    def __init__(self, ttl: float = 30.0):
        self._ttl = ttl
        self._entries: dict[int, tuple[float, dict[str | None, Override]]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, definition_id: int) -> dict[str | None, Override]:
        """Element id (None: the whole process) -> override, for one definition version."""
        with self._lock:
            entry = self._entries.get(definition_id)
        if entry is not None and time.monotonic() - entry[0] < self._ttl:
            return entry[1]
        overrides = {o.element_id: Override(o.duration, o.calendar) for o in session.scalars(
            select(SlaOverride).where(SlaOverride.definition_id == definition_id))}
        with self._lock:
            self._entries[definition_id] = (time.monotonic(), overrides)
        return overrides

    def forget(self, definition_id: int) -> None:
        with self._lock:
            self._entries.pop(definition_id, None)
