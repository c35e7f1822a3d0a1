"""Working time in SQL: a day table that turns any instant into "working seconds so far".

For a calendar C let W(t) be the working time on C from a fixed origin up to the
instant t. Then the business time between a and b is W(b) - W(a), which is what
`BusinessCalendar.between(a, b)` returns. W is tabulated per UTC day: for each
calendar and each UTC day number n (days since 1970-01-01) one row holds the
working seconds before that day's UTC midnight (`cum`) and that day's working
intervals in seconds after midnight (at most `width` of them, padded with empty
intervals at 86400). In SQL,

    W(t) = cum + sum over k of max(0, min(sec, end_k) - start_k)

where sec is t's seconds after its UTC midnight: one equality join per instant
and no subquery, so a million rows cost a million index lookups into a table of a
few thousand rows. The table is built here, in Python, from the calendars (public
holidays, closing days and makeup days included); it has one row per calendar
and day of the period the data covers, never one per data row.

The built-in `24x7` calendar is the day table whose days are open all day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Mapping, Protocol

UTC = timezone.utc
DAY_SECONDS = 86400
ALWAYS_OPEN = "24x7"


class WorkingHours(Protocol):
    """What the day table needs of a calendar (engine.sla's BusinessCalendar has it)."""

    @property
    def name(self) -> str: ...

    def hours_on(self, day: date) -> tuple[tuple[time, time], ...]: ...

    @property
    def zone(self) -> Any: ...


@dataclass(frozen=True)
class DayTable:
    """The tabulated W of every calendar in use, over `first_day`..`last_day` (UTC day numbers)."""

    calendar_ids: dict[str, int]  # calendar name -> id used in SQL ('24x7' included)
    default_id: int  # the id that None, '' and unknown names resolve to
    width: int  # intervals per row
    first_day: int
    last_day: int
    rows: list[list[float]]  # [calendar id, day number, cum, start_1, end_1, ..., start_w, end_w]

    def calendar_id(self, name: str | None) -> int:
        if name in (None, "", "default"):
            return self.default_id
        return self.calendar_ids.get(name, self.default_id)

    def working_seconds(self, calendar_id: int, instant: datetime) -> float:
        """W(instant) as the SQL computes it (for tests and for instants outside SQL)."""
        seconds = instant.astimezone(UTC).timestamp()
        day = int(seconds // DAY_SECONDS)
        if not self.first_day <= day <= self.last_day:
            raise ValueError(f"{instant.isoformat()} is outside the day table")
        row = self._index()[(calendar_id, day)]
        since_midnight = seconds - day * DAY_SECONDS
        total = row[2]
        for k in range(self.width):
            start, end = row[3 + 2 * k], row[4 + 2 * k]
            total += max(0.0, min(since_midnight, end) - start)
        return total

    def _index(self) -> dict[tuple[int, int], list[float]]:
        cached = self.__dict__.get("_by_key")
        if cached is None:
            cached = {(int(r[0]), int(r[1])): r for r in self.rows}
            object.__setattr__(self, "_by_key", cached)
        return cached


def day_number(instant: datetime) -> int:
    return int(instant.astimezone(UTC).timestamp() // DAY_SECONDS)


def build_day_table(calendars: Mapping[str, WorkingHours], default: str | None, start: datetime,
                    end: datetime) -> DayTable:
    """The day table of `calendars` (by name) plus `24x7`, covering [start, end] with a day to spare.

    `default` names the calendar that tasks without a calendar use (None: `24x7`, as
    the engine does when no calendar is marked default).
    """
    first, last = day_number(start) - 1, day_number(end) + 1
    names = [ALWAYS_OPEN, *sorted(n for n in calendars if n != ALWAYS_OPEN)]
    ids = {name: index for index, name in enumerate(names)}
    per_calendar = {ALWAYS_OPEN: _always_open(first, last)}
    for name in names[1:]:
        per_calendar[name] = _utc_intervals(calendars[name], first, last)
    width = max(1, max((len(v) for days in per_calendar.values() for v in days.values()), default=1))
    rows: list[list[float]] = []
    for name in names:
        days = per_calendar[name]
        cum = 0.0
        for day in range(first, last + 1):
            intervals = days.get(day, [])
            padded = [x for interval in intervals for x in interval]
            padded += [float(DAY_SECONDS)] * (2 * width - len(padded))
            rows.append([ids[name], day, cum, *padded])
            cum += sum(b - a for a, b in intervals)
    default_id = ids[default] if default in ids else ids[ALWAYS_OPEN]
    return DayTable(ids, default_id, width, first, last, rows)


def _always_open(first: int, last: int) -> dict[int, list[tuple[float, float]]]:
    return {day: [(0.0, float(DAY_SECONDS))] for day in range(first, last + 1)}


def _utc_intervals(calendar: WorkingHours, first: int, last: int) -> dict[int, list[tuple[float, float]]]:
    """The calendar's working spans cut at UTC midnights: UTC day number -> (start, end) seconds."""
    zone = calendar.zone
    epoch = date(1970, 1, 1)
    spans: list[tuple[float, float]] = []
    # Local days one either side of the UTC range cover every span that can reach into it.
    for ordinal in range(first - 1, last + 2):
        local_day = epoch + timedelta(days=ordinal)
        for opens, closes in calendar.hours_on(local_day):
            a = datetime.combine(local_day, opens, zone).astimezone(UTC).timestamp()
            b = datetime.combine(local_day, closes, zone).astimezone(UTC).timestamp()
            if b > a:
                spans.append((a, b))
    result: dict[int, list[tuple[float, float]]] = {}
    for a, b in _merged(sorted(spans)):
        while a < b:
            day = int(a // DAY_SECONDS)
            midnight = (day + 1) * DAY_SECONDS
            piece_end = min(b, midnight)
            if first <= day <= last:
                result.setdefault(day, []).append((a - day * DAY_SECONDS, piece_end - day * DAY_SECONDS))
            a = piece_end
    return result


def _merged(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
