"""ISO 8601 durations as SLA targets and timer delays."""
from __future__ import annotations

from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


class DurationError(ValueError):
    """Not an ISO 8601 duration bankflow can use; the message says why."""


def parse_duration(text: str) -> timedelta:
    """`PT8H`, `P3D`, `P2W`, `P1DT4H30M` as a timedelta.

    Years and months have no fixed length in working time, so SLA targets must
    say days or weeks instead.
    """
    cleaned = (text or "").strip()
    if not cleaned.upper().startswith("P"):
        raise DurationError(f"'{text}' is not an ISO 8601 duration (e.g. PT8H, P3D, P2W)")
    try:
        parts = TimerEventDefinition.parse_iso_duration(cleaned.upper())
    except Exception:
        raise DurationError(f"'{text}' is not an ISO 8601 duration (e.g. PT8H, P3D, P2W)") from None
    if parts.get("years") or parts.get("months"):
        raise DurationError(f"'{text}' uses years or months, which have no fixed length; use days or weeks")
    delta = timedelta(**{k: v for k, v in parts.items() if k in ("weeks", "days", "hours", "minutes", "seconds")})
    if delta <= timedelta(0):
        raise DurationError(f"'{text}' is not a positive duration")
    return delta


def working_due(calendar, start: datetime, text: str) -> datetime:
    """Start plus a duration on a calendar: days and weeks count working days (a week is
    five), hours, minutes and seconds count working time."""
    parts = TimerEventDefinition.parse_iso_duration((text or "").strip().upper())
    days = parts.get("days", 0) + 5 * parts.get("weeks", 0)
    if days != int(days):
        raise DurationError(f"'{text}' has a fraction of a day; say the hours instead (e.g. PT12H)")
    rest = timedelta(**{k: v for k, v in parts.items() if k in ("hours", "minutes", "seconds")})
    return calendar.add(calendar.add_working_days(start, int(days)), rest)


def add_calendar_duration(start: datetime, text: str) -> datetime:
    """Start plus an ISO duration in calendar time, months and years included (for timers)."""
    parts = TimerEventDefinition.parse_iso_duration(text.strip().upper())
    return start + TimerEventDefinition.get_timedelta_from_start(parts, start)
