"""Business calendars: when the bank is open, for SLA due dates and elapsed business time.

Pure logic: no database, no Flask. Calendars are read from TOML (docs/architecture.md §5); the
built-in `24x7` calendar measures plain elapsed time.

Semantics
---------
* Working time on a local date is the calendar's hours for that weekday, unless the
  date is a public holiday (``holidays`` package, observed days included) or is listed
  in ``closed``.
* Adjusted working days: where the holidays package lists weekend days that are
  worked to make up for a bridged holiday (``HolidayBase.weekend_workdays``, e.g.
  China's 调休 Saturdays and Sundays), such a day is a working day. If the calendar
  has no hours of its own on that weekday, it uses the hours of the first of
  Monday..Friday that has hours: the package says *that* a day is worked, not whose
  schedule it follows, and the weekday schedules are normally identical. A day in
  ``closed`` stays closed even if it is a makeup day.
* Hours are wall-clock times in the calendar's timezone; business time is real
  elapsed time, so a 09:00-17:00 day is 8 hours even on a DST change day, and a
  night interval crossing the change is an hour shorter or longer. Wall times are
  resolved the zoneinfo way (fold=0: an ambiguous time is its first occurrence, a
  time in a DST gap is shifted forward by the gap); if that makes two intervals
  overlap they are merged, so no instant is counted twice.
* Intervals end at 23:59 at the latest ("24:00" is not accepted); a calendar that is
  open around the clock should use the built-in `24x7` calendar.
* At most one calendar may say ``default = true``. If none does, none is the
  default (the first one is *not* promoted, so file order never silently decides);
  callers then fall back to `builtin_24x7()`.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from engine.errors import BankflowError

UTC = timezone.utc
ALWAYS_OPEN_NAME = "24x7"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CALENDAR_KEYS = ("timezone", "hours", "holidays", "closed", "default")

# A calendar with no working time for this many consecutive days is broken: stop
# instead of searching for an opening forever.
MAX_CLOSED_DAYS = 366

_INTERVAL = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)

Interval = tuple[time, time]
Span = tuple[datetime, datetime]


class CalendarError(BankflowError):
    """A calendar definition is wrong, or a calendar has no working time at all."""


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours, public holidays and closing days of one bank office."""

    name: str
    timezone: str
    hours: dict[int, tuple[Interval, ...]]  # weekday 0=Mon -> sorted, disjoint intervals
    holiday_country: str | None
    holiday_subdivision: str | None
    closed: frozenset[date]
    is_default: bool = False

    def is_working_day(self, day: date) -> bool:
        """True if `day` (a local date in the calendar's timezone) has any working time."""
        return bool(self.hours_on(day))

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """Wall-clock working intervals of `day` after holidays, closings and makeup days."""
        if day in self.closed:
            return ()
        own = self.hours.get(day.weekday(), ())
        if self.holiday_country is None:
            return own
        public_holidays, makeup_days = _public_days(
            self.holiday_country, self.holiday_subdivision, day.year
        )
        if day in public_holidays:
            return ()
        if day in makeup_days and not own:
            return self._makeup_hours()
        return own

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant (UTC) when `duration` of business time has passed since `start`.

        Counting begins at `start`, or at the next opening if `start` is outside
        working time. A zero duration returns `start` itself, so an SLA of zero is
        due when the task is created. A result that falls exactly on a closing time
        stays there rather than moving to the next opening.
        """
        start = _as_utc(start, "start")
        remaining = _non_negative(duration)
        if not remaining:
            return start
        spans = self._spans_from(start)
        while True:
            opens, closes = next(spans)
            begin = max(opens, start)
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time inside [start, end): zero if `end` is not after `start`."""
        start, end = _as_utc(start, "start"), _as_utc(end, "end")
        total = _ZERO
        if end <= start:
            return total
        day, last_day = self._local_date(start), self._local_date(end)
        while day <= last_day:
            for opens, closes in self._spans_on(day):
                total += max(_ZERO, min(closes, end) - max(opens, start))
            day += _ONE_DAY
        return total

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """`days` working days after `start` ("P3D" on a business calendar).

        From inside working hours the result is the same working moment of the
        target day (Friday 16:00 plus one day is Monday 16:00, even when the days
        have different hours). From outside working hours the day of the next
        opening counts as the first day and the result is its `days`-th day's
        close (Friday 18:00 plus two days is Tuesday's close).
        """
        start = _as_utc(start, "start")
        if days <= 0:
            return start
        opens, _ = next(self._spans_from(start))
        if start >= opens:
            day = self._local_date(start)
            used = self.between(self._spans_on(day)[0][0], start)
            target = self._working_day_after(day, days)
            return self.add(self._spans_on(target)[0][0], used)
        day = self._local_date(opens)
        target = self._working_day_after(day, days - 1)
        return self._spans_on(target)[-1][1]

    def _working_day_after(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (`day` itself for 0)."""
        closed_days = 0
        while count > 0:
            day += _ONE_DAY
            if self.is_working_day(day):
                count -= 1
                closed_days = 0
            else:
                closed_days += 1
                if closed_days > MAX_CLOSED_DAYS:
                    raise CalendarError(f"calendar '{self.name}' has no working day in the "
                                        f"{MAX_CLOSED_DAYS} days up to {day.isoformat()}")
        return day

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's timezone (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone)

    def _makeup_hours(self) -> tuple[Interval, ...]:
        """Hours of a makeup working day: the first Monday..Friday schedule (see module doc)."""
        return next((self.hours[wd] for wd in range(5) if self.hours.get(wd)), ())

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def _spans_on(self, day: date) -> list[Span]:
        """The working intervals of `day` as merged, ordered UTC spans."""
        zone = self.zone
        spans = sorted(
            (
                datetime.combine(day, opens, zone).astimezone(UTC),
                datetime.combine(day, closes, zone).astimezone(UTC),
            )
            for opens, closes in self.hours_on(day)
        )
        return _merge(span for span in spans if span[1] > span[0])

    def _spans_from(self, start: datetime) -> Iterator[Span]:
        """Working spans that end after `start`, in order, day by day, without end.

        Raises CalendarError after MAX_CLOSED_DAYS consecutive days without any
        working time, which only a broken calendar can have.
        """
        day = self._local_date(start)
        closed_days = 0
        while True:
            spans = self._spans_on(day)
            closed_days = 0 if spans else closed_days + 1
            if closed_days > MAX_CLOSED_DAYS:
                raise CalendarError(
                    f"calendar '{self.name}' has no working time in the "
                    f"{MAX_CLOSED_DAYS} days up to {day.isoformat()}"
                )
            yield from (span for span in spans if span[1] > start)
            day += _ONE_DAY


@dataclass(frozen=True)
class AlwaysOpenCalendar:
    """The built-in `24x7` calendar: business time is plain elapsed time."""

    name: str = ALWAYS_OPEN_NAME
    timezone: str = "UTC"
    is_default: bool = False

    def is_working_day(self, day: date) -> bool:
        """Every day is a working day."""
        return True

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """`start + duration` in real time (UTC, so DST wall-clock jumps do not shift it)."""
        return _as_utc(start, "start") + _non_negative(duration)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Elapsed real time from `start` to `end`, zero if `end` is not after `start`."""
        return max(_ZERO, _as_utc(end, "end") - _as_utc(start, "start"))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Every day works: `days` whole days later."""
        return _as_utc(start, "start") + days * _ONE_DAY


Calendar = BusinessCalendar | AlwaysOpenCalendar


def builtin_24x7() -> AlwaysOpenCalendar:
    """The calendar a target uses when it names `24x7`."""
    return AlwaysOpenCalendar()


DEFAULT_CALENDARS_FILE = "default_calendars.toml"


def default_calendars_text() -> str:
    """The TOML of the calendars shipped with bankflow (engine/sla/default_calendars.toml)."""
    return resources.files("engine.sla").joinpath(DEFAULT_CALENDARS_FILE).read_text(encoding="utf-8")


def default_calendars() -> dict[str, BusinessCalendar]:
    """The calendars shipped with bankflow, parsed."""
    return parse_calendars(default_calendars_text(), source=DEFAULT_CALENDARS_FILE)


def parse_calendars(toml_text: str, source: str = "<calendars>") -> dict[str, BusinessCalendar]:
    """Read and validate every calendar in a TOML document, in file order.

    Every mistake raises CalendarError naming `source`, the calendar and the field,
    so a bad file is rejected at start-up instead of producing wrong due dates.
    """
    try:
        document = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{source}: not valid TOML: {exc}") from exc
    tables = _calendar_tables(document, source)
    calendars = {
        name: _parse_calendar(name, table, f"{source}: calendar '{name}'")
        for name, table in tables.items()
    }
    defaults = [name for name, calendar in calendars.items() if calendar.is_default]
    if len(defaults) > 1:
        raise CalendarError(f"{source}: more than one default calendar: {', '.join(defaults)}")
    return calendars


@lru_cache(maxsize=None)
def _public_days(
    country: str, subdivision: str | None, year: int
) -> tuple[frozenset[date], frozenset[date]]:
    """Public holidays and makeup weekend working days of one year.

    Cached per year because building a country's holidays costs far more than the
    day loop that asks about it.
    """
    table = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(table), frozenset(table.weekend_workdays)


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Merge overlapping sorted spans so each instant is counted once."""
    merged: list[Span] = []
    for opens, closes in spans:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def _as_utc(instant: datetime, what: str) -> datetime:
    """`instant` in UTC; naive datetimes are refused because their meaning is a guess."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {instant!r}")
    return instant.astimezone(UTC)


def _non_negative(duration: timedelta) -> timedelta:
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}")
    return duration


# --- parsing -------------------------------------------------------------------


def _calendar_tables(document: dict[str, Any], source: str) -> dict[str, Any]:
    """The `[calendars.<name>]` tables; an empty document has no calendars."""
    unknown = sorted(set(document) - {"calendars"})
    if unknown:
        raise CalendarError(
            f"{source}: unknown top-level key(s) {', '.join(unknown)}; "
            "calendars go in [calendars.<name>] tables"
        )
    tables = document.get("calendars", {})
    if not isinstance(tables, dict):
        raise CalendarError(f"{source}: 'calendars' must be a table of [calendars.<name>] tables")
    return tables


def _parse_calendar(name: str, table: Any, where: str) -> BusinessCalendar:
    if name == ALWAYS_OPEN_NAME:
        raise CalendarError(f"{where}: the name '{name}' is reserved for the built-in calendar")
    if not isinstance(table, dict):
        raise CalendarError(f"{where}: must be a table with keys {', '.join(CALENDAR_KEYS)}")
    unknown = sorted(set(table) - set(CALENDAR_KEYS))
    if unknown:
        raise CalendarError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(CALENDAR_KEYS)}"
        )
    country, subdivision = _parse_holidays(table.get("holidays"), where)
    return BusinessCalendar(
        name=name,
        timezone=_parse_timezone(table.get("timezone"), where),
        hours=_parse_hours(table.get("hours"), where),
        holiday_country=country,
        holiday_subdivision=subdivision,
        closed=_parse_closed(table.get("closed", []), where),
        is_default=_parse_default(table.get("default", False), where),
    )


def _parse_timezone(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise CalendarError(
            f"{where}: timezone is required, an IANA name such as \"Asia/Shanghai\""
        )
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"{where}: timezone '{raw}' is not a known IANA timezone") from exc
    return raw


def _parse_hours(raw: Any, where: str) -> dict[int, tuple[Interval, ...]]:
    if not isinstance(raw, dict) or not raw:
        raise CalendarError(
            f"{where}: hours is required, a table with at least one day "
            "such as { mon = \"09:00-17:00\" }"
        )
    unknown = sorted(set(raw) - set(WEEKDAYS))
    if unknown:
        raise CalendarError(
            f"{where}: hours has unknown weekday key(s) {', '.join(unknown)}; "
            f"use {', '.join(WEEKDAYS)}"
        )
    return {WEEKDAYS.index(key): _parse_day(key, raw[key], where) for key in WEEKDAYS if key in raw}


def _parse_day(key: str, raw: Any, where: str) -> tuple[Interval, ...]:
    """One day's intervals, e.g. "09:00-12:00,13:00-17:00", sorted and checked disjoint."""
    if not isinstance(raw, str):
        raise CalendarError(f"{where}: hours.{key} must be a string like \"09:00-17:00\"")
    field = f"{where}: hours.{key} '{raw}'"
    intervals = sorted(_parse_interval(part.strip(), field) for part in raw.split(","))
    for (_, previous_end), (start, end) in zip(intervals, intervals[1:]):
        if start < previous_end:
            raise CalendarError(
                f"{field} has overlapping intervals "
                f"(one starts at {start:%H:%M} before another ends at {previous_end:%H:%M})"
            )
    return tuple(intervals)


def _parse_interval(text: str, where: str) -> Interval:
    match = _INTERVAL.fullmatch(text)
    if not match:
        raise CalendarError(f"{where} is not HH:MM-HH:MM (several separated by commas)")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    start, end = _clock_time(start_h, start_m, where), _clock_time(end_h, end_m, where)
    if end <= start:
        raise CalendarError(f"{where}: end {end:%H:%M} is not after start {start:%H:%M}")
    return start, end


def _clock_time(hour: int, minute: int, where: str) -> time:
    if hour > 23 or minute > 59:
        raise CalendarError(f"{where}: {hour:02d}:{minute:02d} is not a time of day (00:00-23:59)")
    return time(hour, minute)


def _parse_holidays(raw: Any, where: str) -> tuple[str | None, str | None]:
    """Split "CN" / "US-CA" into country and subdivision, checked against the holidays package."""
    if raw is None:
        return None, None
    if not isinstance(raw, str) or not raw:
        raise CalendarError(f"{where}: holidays must be a country code such as \"CN\" or \"US-CA\"")
    country, dash, subdivision = raw.partition("-")
    try:
        holidays.country_holidays(country)
    except NotImplementedError as exc:
        raise CalendarError(
            f"{where}: holidays '{raw}': the holidays package has no country '{country}' "
            "(use an ISO 3166-1 alpha-2 code such as CN, GB, US)"
        ) from exc
    if not dash:
        return country, None
    _check_subdivision(country, subdivision, f"{where}: holidays '{raw}'")
    return country, subdivision


def _check_subdivision(country: str, subdivision: str, where: str) -> None:
    if subdivision:
        try:
            holidays.country_holidays(country, subdiv=subdivision)
            return
        except NotImplementedError:
            pass
    known = holidays.list_supported_countries().get(country, [])
    listing = f"known: {', '.join(known)}" if known else f"{country} has no subdivisions"
    raise CalendarError(
        f"{where}: unknown subdivision '{subdivision}' for country {country} ({listing})"
    )


def _parse_closed(raw: Any, where: str) -> frozenset[date]:
    if not isinstance(raw, list):
        raise CalendarError(f"{where}: closed must be a list of dates such as [\"2026-12-31\"]")
    return frozenset(_parse_date(item, where) for item in raw)


def _parse_date(item: Any, where: str) -> date:
    """A closing day: a TOML date or a "YYYY-MM-DD" string (never a date-time)."""
    if isinstance(item, date) and not isinstance(item, datetime):
        return item
    if isinstance(item, str) and _ISO_DATE.fullmatch(item):
        try:
            return date.fromisoformat(item)
        except ValueError:
            pass
    raise CalendarError(f"{where}: closed entry {item!r} is not a date YYYY-MM-DD")


def _parse_default(raw: Any, where: str) -> bool:
    if not isinstance(raw, bool):
        raise CalendarError(f"{where}: default must be true or false, got {raw!r}")
    return raw
