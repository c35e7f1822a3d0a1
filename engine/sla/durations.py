"""ISO 8601 durations, date-times and repeating intervals: SLA targets and timer values.

Every value here may come from an uploaded file or be computed by a script, so parsing is
bounded and arithmetic is in closed form: no loop runs once per month, day or occurrence.
- a text is at most MAX_TEXT characters, a number at most nine digits;
- a duration is at most MAX_YEARS years long; on a business calendar at most MAX_WORKING_DAYS
  working days and MAX_WORKING_SPAN of working time;
- a date-time lies between EARLIEST and LATEST (so adding a duration never overflows);
- a repeating interval (`R5/PT1H`, `R/2026-01-05T09:00:00Z/P1W`) repeats at most
  MAX_REPETITIONS times and every MIN_PERIOD at the most often; its occurrence after a given
  instant is computed directly from its start, never by stepping through the missed ones.

Months and years are counted as SpiffWorkflow does: P1M from a day in January adds the 31 days
of January; the result is the same as stepping month by month, without the steps.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Protocol

from SpiffWorkflow.bpmn.specs.event_definitions.timer import LOCALTZ

from engine.errors import ExplainedError

MAX_TEXT = 100
MAX_YEARS = 100
MAX_DURATION = timedelta(days=36_525)         # 100 years of 365.25 days
MAX_WORKING_DAYS = 2_600                       # ten years of working days
MAX_WORKING_SPAN = timedelta(days=3_653)       # ten years of hours, minutes and seconds of working time
MIN_PERIOD = timedelta(seconds=1)
MAX_REPETITIONS = 1_000_000_000
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)
_MEAN_MONTH = timedelta(days=30.436875)        # the Gregorian calendar's average month

_NUMBER = r"(\d{1,9}(?:[.,]\d{1,9})?)"
_DURATION = re.compile(
    rf"P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?")
_FIELDS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
_WEEK_DATE = re.compile(r"(\d{4})-?W(\d{2})-?(\d)(T.{1,40})?")
_REPEAT = re.compile(r"R(\d{0,10})")


class DurationError(ExplainedError, ValueError):
    """Not an ISO 8601 value bankflow can use; the message says why."""


@dataclass(frozen=True)
class IsoDuration:
    """A parsed ISO 8601 duration: whole years and months, the rest as a fixed timedelta."""

    text: str
    months: int
    fixed: timedelta
    weeks: Decimal
    days: Decimal
    span: timedelta  # hours, minutes and seconds

    @property
    def approximate(self) -> timedelta:
        """About how long it is (a month counted as the calendar's average)."""
        return self.months * _MEAN_MONTH + self.fixed

    def after(self, start: datetime) -> datetime:
        """`start` plus this duration, in calendar time."""
        return _add_months(start, self.months) + self.fixed

    def times_after(self, start: datetime, count: int) -> datetime:
        """`start` plus `count` times this duration, in one step."""
        return _add_months(start, self.months * count) + self.fixed * count


class WorkingTime(Protocol):
    """What a business calendar offers for due dates (`business_calendar.Calendar`)."""

    def add(self, start: datetime, duration: timedelta) -> datetime: ...

    def add_working_days(self, start: datetime, days: int) -> datetime: ...


def _invalid(text: str, example: str = "PT8H, P3D, P2W or P1M") -> DurationError:
    return DurationError("'%(text)s' is not an ISO 8601 duration (e.g. %(example)s)", text=_shown(text),
                         example=example)


def _shown(text: object) -> str:
    value = str(text)
    return value if len(value) <= 40 else value[:37] + "..."


def _number(text: str | None) -> Decimal:
    if text is None:
        return Decimal(0)
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise DurationError("'%(text)s' is not a number", text=text) from None


def parse_iso_duration(text: object) -> IsoDuration:
    """A duration such as `PT4H`, `P10D`, `P1Y2M`, `P1DT12H` or `PT1.5S`, bounded."""
    if not isinstance(text, str):
        raise DurationError("a duration must be text such as PT8H, not %(type)s", type=type(text).__name__)
    cleaned = text.strip().upper()
    if len(cleaned) > MAX_TEXT:
        raise DurationError("'%(text)s' is too long for a duration", text=_shown(text))
    found = _DURATION.fullmatch(cleaned)
    if not found or cleaned in ("P", "PT") or cleaned.endswith("T"):
        raise _invalid(text)
    values = dict(zip(_FIELDS, (_number(group) for group in found.groups())))
    given = [name for name, group in zip(_FIELDS, found.groups()) if group is not None]
    fractions = [name for name in given if values[name] != int(values[name])]
    if fractions and fractions != given[-1:]:
        raise DurationError("'%(text)s': only the last part of a duration may have a fraction", text=_shown(text))
    if values["years"] != int(values["years"]) or values["months"] != int(values["months"]):
        raise DurationError("'%(text)s': years and months must be whole numbers; say days instead",
                            text=_shown(text))
    months = int(values["years"]) * 12 + int(values["months"])
    if months > MAX_YEARS * 12:
        raise _too_long(text)
    if values["weeks"] * 7 + values["days"] > MAX_DURATION.days or \
            values["hours"] / 24 + values["minutes"] / 1440 + values["seconds"] / 86400 > MAX_DURATION.days:
        raise _too_long(text)
    span = timedelta(hours=float(values["hours"]), minutes=float(values["minutes"]), seconds=float(values["seconds"]))
    fixed = timedelta(weeks=float(values["weeks"]), days=float(values["days"])) + span
    duration = IsoDuration(cleaned, months, fixed, values["weeks"], values["days"], span)
    if duration.approximate > MAX_DURATION + timedelta(days=1):
        raise _too_long(text)
    return duration


def _too_long(text: str) -> DurationError:
    return DurationError("'%(text)s' is longer than %(years)s years", text=_shown(text), years=MAX_YEARS)


def parse_duration(text: str) -> timedelta:
    """An SLA target: `PT8H`, `P3D`, `P2W`, `P1DT4H30M` as a timedelta.

    Years and months have no fixed length in working time, so SLA targets must
    say days or weeks instead.
    """
    cleaned = (text or "").strip()
    if not cleaned.upper().startswith("P"):
        raise _invalid(text, "PT8H, P3D, P2W")
    duration = parse_iso_duration(cleaned)
    if duration.months:
        raise DurationError("'%(text)s' uses years or months, which have no fixed length; use days or weeks",
                            text=text)
    if duration.fixed <= timedelta(0):
        raise DurationError("'%(text)s' is not a positive duration", text=text)
    return duration.fixed


def working_due(calendar: WorkingTime, start: datetime, text: str) -> datetime:
    """Start plus a duration on a calendar: days and weeks count working days (a week is
    five), hours, minutes and seconds count working time."""
    duration = parse_iso_duration(text)
    if duration.months:
        raise DurationError("'%(text)s' uses years or months, which have no fixed length in working time; "
                            "use days or weeks", text=text)
    days = duration.days + 5 * duration.weeks
    if days != int(days):
        raise DurationError("'%(text)s' has a fraction of a day; say the hours instead (e.g. PT12H)", text=text)
    if days > MAX_WORKING_DAYS:
        raise DurationError("'%(text)s' is more than %(days)s working days", text=text,
                            days=format(MAX_WORKING_DAYS, ","))
    if duration.span > MAX_WORKING_SPAN:
        raise DurationError("'%(text)s' is more than ten years of working time", text=text)
    return calendar.add(calendar.add_working_days(start, int(days)), duration.span)


def add_calendar_duration(start: datetime, text: str) -> datetime:
    """Start plus an ISO duration in calendar time, months and years included (for timers)."""
    return parse_iso_duration(text).after(start)


def _add_months(start: datetime, months: int) -> datetime:
    """SpiffWorkflow's month arithmetic in one step: the lengths of `months` months, counted
    from the month of `start`, are the days from its first to the first `months` later."""
    if not months:
        return start
    index = start.year * 12 + start.month - 1 + months
    first = date(start.year, start.month, 1)
    later = date(index // 12, index % 12 + 1, 1)
    return start + timedelta(days=(later - first).days)


def parse_iso_datetime(text: object) -> datetime:
    """A date-time (`2026-12-01T09:00:00Z`, a local time, an ISO week date) as an aware UTC
    instant between EARLIEST and LATEST; a time without an offset is the server's local time."""
    if not isinstance(text, str):
        raise DurationError("a date-time must be text such as 2026-12-01T09:00:00Z, not %(type)s",
                            type=type(text).__name__)
    cleaned = text.strip()
    if len(cleaned) > MAX_TEXT:
        raise DurationError("'%(text)s' is too long for a date-time", text=_shown(text))
    week = _WEEK_DATE.fullmatch(cleaned.upper())
    try:
        if week:
            year, number, weekday, rest = week.groups()
            day = date.fromisocalendar(int(year), int(number), int(weekday))
            moment = datetime.fromisoformat(day.isoformat() + (rest or ""))
        else:
            moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise DurationError("'%(text)s' is not an ISO 8601 date-time (e.g. 2026-12-01T09:00:00Z)",
                            text=_shown(text)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCALTZ)
    try:
        moment = moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise DurationError("'%(text)s' is out of range", text=_shown(text)) from None
    if not EARLIEST <= moment <= LATEST:
        raise DurationError("'%(text)s' is not between %(first)s and %(last)s", text=_shown(text),
                            first=EARLIEST.year, last=LATEST.year)
    return moment


@dataclass(frozen=True)
class Cycle:
    """A repeating interval: `repetitions` (-1: forever) of `period`, from `start` if it names one."""

    repetitions: int
    start: datetime | None
    period: IsoDuration

    def occurrence(self, anchor: datetime, index: int) -> datetime:
        """The `index`-th occurrence counted from `anchor` (0 is `anchor` itself)."""
        return self.period.times_after(anchor, index)

    def index_after(self, anchor: datetime, moment: datetime, strictly: bool = True) -> int:
        """The smallest index whose occurrence from `anchor` is after `moment` (or at it, when
        not `strictly`): a binary search around the estimate from the average period, so at most
        a few dozen occurrences are computed however many were missed."""

        def too_early(index: int) -> bool:
            when = self.occurrence(anchor, index)
            return when <= moment if strictly else when < moment

        if not too_early(0):
            return 0
        high = max(1, int((moment - anchor) / self.period.approximate) + 4)
        for _ in range(64):
            if not too_early(high):
                break
            high *= 2
        else:
            raise DurationError("the next occurrence of '%(text)s' could not be computed", text=self.period.text)
        low = 0  # too early; `high` is not
        while high - low > 1:
            middle = (low + high) // 2
            if too_early(middle):
                low = middle
            else:
                high = middle
        return high

    def next_after(self, anchor: datetime, moment: datetime, strictly: bool = True) -> datetime:
        """The first occurrence after `moment` on the grid of `anchor`; LATEST when it would
        lie beyond it (the cycle then effectively ends)."""
        if moment >= LATEST:
            return LATEST
        index = self.index_after(anchor, moment, strictly)
        when = self.occurrence(anchor, index)
        return min(when, LATEST)


def parse_cycle(text: object) -> Cycle:
    """`R/P1D`, `R3/PT1H` or `R/2026-01-05T09:00:00Z/P1W` (quotes around it are allowed)."""
    if not isinstance(text, str):
        raise DurationError("a repeating interval must be text such as R/P1D, not %(type)s",
                            type=type(text).__name__)
    cleaned = text.strip()
    if len(cleaned) > 2 * MAX_TEXT:
        raise DurationError("'%(text)s' is too long for a repeating interval", text=_shown(text))
    parts = cleaned.split("/")
    repeat = _REPEAT.fullmatch(parts[0].upper()) if parts else None
    if len(parts) not in (2, 3) or repeat is None:
        raise DurationError("'%(text)s' is not an ISO 8601 repeating interval such as R/P1D or R3/PT1H",
                            text=_shown(text))
    count = int(repeat.group(1)) if repeat.group(1) else -1
    if count == 0 or count > MAX_REPETITIONS:
        raise DurationError("'%(text)s' must repeat between 1 and %(most)s times", text=_shown(text),
                            most=format(MAX_REPETITIONS, ","))
    start = parse_iso_datetime(parts[1]) if len(parts) == 3 else None
    period = parse_iso_duration(parts[-1])
    if period.approximate < MIN_PERIOD:
        raise DurationError("'%(text)s' repeats more often than once a second (its period is %(period)s); give a "
                            "longer period", text=_shown(text), period=period.text)
    return Cycle(count, start, period)
