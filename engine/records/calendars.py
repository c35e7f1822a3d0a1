"""Business calendars: as stored (their TOML source) and as in force (parsed)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.sla.business_calendar import Calendar


@dataclass(frozen=True, kw_only=True)
class StoredCalendar:
    """A calendar as loaded from TOML: `source` is the text of the file it came from."""

    name: str
    source: str
    is_default: bool


@dataclass(frozen=True, kw_only=True)
class CalendarRecord:
    """A calendar in force (parsed once, in `ctx.calendars`)."""

    name: str
    calendar: Calendar
    is_default: bool
