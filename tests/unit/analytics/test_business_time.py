"""The business-time day table gives exactly `BusinessCalendar.between` for any two instants."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from engine.analytics.business_time import build_day_table
from engine.sla.business_calendar import builtin_24x7, default_calendars, parse_calendars

UTC = timezone.utc
LUNCH_IN_NEW_YORK = """
[calendars.new_york]
timezone = "America/New_York"
hours = { mon = "09:00-12:00,13:00-17:30", tue = "09:00-12:00,13:00-17:30", wed = "09:00-17:30", thu = "09:00-17:30", fri = "09:00-15:00", sat = "10:00-13:00" }
holidays = "US"
closed = ["2026-03-13"]
"""


@pytest.fixture(scope="module")
def calendars():
    return {**default_calendars(), **parse_calendars(LUNCH_IN_NEW_YORK)}


def test_w_difference_equals_between_on_every_calendar(calendars):
    start, end = datetime(2026, 1, 20, tzinfo=UTC), datetime(2026, 5, 20, tzinfo=UTC)  # spring festival, DST
    table = build_day_table(calendars, "head_office", start, end)
    rng = random.Random(4)
    span = (end - start).total_seconds()
    for name, calendar in [*calendars.items(), ("24x7", builtin_24x7())]:
        ident = table.calendar_id(name)
        for _ in range(300):
            a = start + timedelta(seconds=rng.uniform(0, span))
            b = a + timedelta(seconds=rng.choice([rng.uniform(0, 4 * 3600), rng.uniform(0, 20 * 86400)]))
            b = min(b, end)
            expected = calendar.between(a, b).total_seconds()
            got = table.working_seconds(ident, b) - table.working_seconds(ident, a)
            assert got == pytest.approx(expected, abs=1e-6), (name, a, b)


def test_calendar_names_resolve_like_the_engine(calendars):
    table = build_day_table(calendars, "head_office", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC))
    assert table.calendar_id(None) == table.calendar_id("default") == table.calendar_id("head_office")
    assert table.calendar_id("no_such_calendar") == table.calendar_id("head_office")
    assert table.calendar_id("24x7") != table.calendar_id("head_office")
    without_default = build_day_table(calendars, None, datetime(2026, 3, 1, tzinfo=UTC),
                                      datetime(2026, 3, 5, tzinfo=UTC))
    assert without_default.calendar_id(None) == without_default.calendar_id("24x7")
    assert table.width == 2  # New York's lunch break: two intervals on some UTC days
    with pytest.raises(ValueError):
        table.working_seconds(0, datetime(2027, 1, 1, tzinfo=UTC))
