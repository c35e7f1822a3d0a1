"""The business calendars in force, kept in memory.

Calendars change rarely (`bankflow calendars load`), so each process re-reads
them at most every `ttl` seconds; the service layer hands in how to read them
(`refresh(load)`), inside the caller's transaction.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Iterable, Protocol

from engine.sla.business_calendar import ALWAYS_OPEN_NAME, BusinessCalendar, Calendar, builtin_24x7, parse_calendars

log = logging.getLogger("bankflow.calendars")
DEFAULT_NAME = "default"


class CalendarSource(Protocol):
    """A stored calendar (read-only: the store hands in frozen records)."""

    @property
    def name(self) -> str: ...

    @property
    def source(self) -> str: ...  # TOML text

    @property
    def is_default(self) -> bool: ...


class CalendarCache:
    def __init__(self, ttl: float = 30.0):
        self._ttl = ttl
        self._calendars: dict[str, BusinessCalendar] = {}
        self._default: str | None = None
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def refresh(self, load: Callable[[], Iterable[CalendarSource]], force: bool = False) -> None:
        """Re-read the calendars with `load` if the copy in memory is older than the ttl (or when forced)."""
        if not force and self._loaded_at is not None and time.monotonic() - self._loaded_at < self._ttl:
            return
        calendars: dict[str, BusinessCalendar] = {}
        default = None
        for row in load():
            calendars[row.name] = parse_calendars(row.source, row.name)[row.name]
            if row.is_default:
                default = row.name
        with self._lock:
            self._calendars, self._default, self._loaded_at = calendars, default, time.monotonic()

    def get(self, name: str | None) -> Calendar:
        """A calendar by name; None or 'default' is the default calendar (24x7 when there is none)."""
        if name == ALWAYS_OPEN_NAME:
            return builtin_24x7()
        if name in (None, "", DEFAULT_NAME):
            return self._calendars[self._default] if self._default else builtin_24x7()
        if name not in self._calendars:
            log.warning("calendar %r is not loaded; using the default calendar", name)
            return self.get(None)
        return self._calendars[name]

    def names(self) -> list[str]:
        return sorted(self._calendars)

    def in_force(self) -> tuple[dict[str, BusinessCalendar], str | None]:
        """Every loaded calendar by name, and the default's name (None: there is none, 24x7 applies)."""
        with self._lock:
            return dict(self._calendars), self._default
