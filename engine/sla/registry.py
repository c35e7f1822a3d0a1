"""The business calendars in force, read from the database and kept in memory.

Calendars change rarely (`bankflow calendars load`), so each process re-reads
them at most every `ttl` seconds, inside the caller's transaction.
"""
from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.sla.calendar import ALWAYS_OPEN_NAME, AlwaysOpenCalendar, BusinessCalendar, builtin_24x7, parse_calendars
from engine.store.models import BusinessCalendarRow

log = logging.getLogger("bankflow.calendars")
Calendar = BusinessCalendar | AlwaysOpenCalendar
DEFAULT_NAME = "default"


class CalendarRegistry:
    def __init__(self, ttl: float = 30.0):
        self._ttl = ttl
        self._calendars: dict[str, Calendar] = {}
        self._default: str | None = None
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def refresh(self, session: Session, force: bool = False) -> None:
        """Re-read the calendars if the copy in memory is older than the ttl (or when forced)."""
        if not force and self._loaded_at is not None and time.monotonic() - self._loaded_at < self._ttl:
            return
        calendars: dict[str, Calendar] = {}
        default = None
        for row in session.scalars(select(BusinessCalendarRow)):
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
            return self._calendars.get(self._default) if self._default else builtin_24x7()
        if name not in self._calendars:
            log.warning("calendar %r is not loaded; using the default calendar", name)
            return self.get(None)
        return self._calendars[name]

    def names(self) -> list[str]:
        return sorted(self._calendars)
