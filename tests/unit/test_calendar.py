"""Business calendar arithmetic and TOML validation (engine/sla/calendar.py).

Uses the real `holidays` package; where its data may change between versions the
expectations are computed from the package itself instead of being hard-coded.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from engine.sla.business_calendar import (
    AlwaysOpenCalendar,
    BusinessCalendar,
    CalendarError,
    builtin_24x7,
    default_calendars,
    parse_calendars,
)

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
H8 = timedelta(hours=8)

# 2026-01-09 is a Friday, 2026-01-12 the Monday after.
FRIDAY, MONDAY, TUESDAY = date(2026, 1, 9), date(2026, 1, 12), date(2026, 1, 13)


def make_calendar(
    hours: str = "09:00-17:00",
    *,
    tz: str = "UTC",
    holidays_code: str | None = None,
    closed: tuple[str, ...] = (),
    extra: str = "",
) -> BusinessCalendar:
    """A Monday-Friday calendar built through the TOML parser, as production does."""
    days = ", ".join(f'{day} = "{hours}"' for day in WEEKDAYS)
    closed_days = ", ".join(f'"{day}"' for day in closed)
    lines = [
        "[calendars.test]",
        f'timezone = "{tz}"',
        f"hours = {{ {days}{extra} }}",
        f"closed = [{closed_days}]",
    ]
    if holidays_code:
        lines.append(f'holidays = "{holidays_code}"')
    return parse_calendars("\n".join(lines))["test"]


def at(day: date, hour: int, minute: int = 0, tz: timezone | ZoneInfo = UTC) -> datetime:
    return datetime.combine(day, time(hour, minute), tz)


# --- acceptance cases (docs/architecture.md §5) ----------------------------------------


def test_eight_hour_sla_created_friday_afternoon_is_due_monday_afternoon():
    assert make_calendar().add(at(FRIDAY, 16), H8) == at(MONDAY, 16)


def test_closed_monday_moves_the_due_date_to_tuesday():
    calendar = make_calendar(closed=(MONDAY.isoformat(),))
    assert calendar.add(at(FRIDAY, 16), H8) == at(TUESDAY, 16)


def test_at_risk_threshold_is_reached_after_80_percent_of_business_time():
    calendar = make_calendar()
    created = at(FRIDAY, 16)
    # 1h on Friday + 5h24m on Monday = 6h24m = 80% of 8h.
    assert calendar.between(created, at(MONDAY, 14, 24)) == timedelta(hours=6, minutes=24)
    assert calendar.between(created, at(MONDAY, 14, 23)) < 0.8 * H8
    assert calendar.between(created, at(MONDAY, 14, 24)) >= 0.8 * H8
    # The weekend does not count at all.
    assert calendar.between(created, at(MONDAY, 9)) == timedelta(hours=1)
    assert calendar.between(created, calendar.add(created, H8)) == H8


# --- add ---------------------------------------------------------------------------


def test_zero_duration_returns_start_even_outside_working_hours():
    saturday = at(date(2026, 1, 10), 3)
    assert make_calendar().add(saturday, timedelta(0)) == saturday


def test_start_on_a_saturday_counts_from_monday_opening():
    assert make_calendar().add(at(date(2026, 1, 10), 10), timedelta(hours=2)) == at(MONDAY, 11)


def test_start_before_opening_counts_from_opening():
    assert make_calendar().add(at(MONDAY, 7), timedelta(hours=1)) == at(MONDAY, 10)


def test_start_after_closing_counts_from_next_opening():
    assert make_calendar().add(at(MONDAY, 18), timedelta(hours=1)) == at(TUESDAY, 10)


def test_due_date_exactly_at_closing_stays_at_closing():
    assert make_calendar().add(at(MONDAY, 9), H8) == at(MONDAY, 17)


def test_split_hours_skip_the_lunch_break():
    calendar = make_calendar("09:00-12:00,13:00-17:00")
    assert calendar.add(at(MONDAY, 11), timedelta(hours=2)) == at(MONDAY, 14)
    assert calendar.add(at(MONDAY, 12, 30), timedelta(hours=1)) == at(MONDAY, 14)
    assert calendar.between(at(MONDAY, 11), at(MONDAY, 14)) == timedelta(hours=2)
    assert calendar.between(at(MONDAY, 0), at(TUESDAY, 0)) == timedelta(hours=7)


def test_fifteen_business_day_complaint_deadline():
    calendar = make_calendar()
    start = at(date(2026, 3, 2), 10)  # Monday
    assert calendar.add(start, 15 * H8) == at(date(2026, 3, 23), 10)


def test_ten_business_days_end_at_closing_two_weeks_later():
    calendar = make_calendar()
    start = at(date(2026, 3, 4), 9)  # Wednesday opening
    assert calendar.add(start, 10 * H8) == at(date(2026, 3, 17), 17)  # Tuesday closing


def test_very_long_durations_skip_whole_days():
    calendar = make_calendar()
    start = at(MONDAY, 9)
    due = calendar.add(start, 1000 * H8)  # 200 whole weeks
    assert due == at(MONDAY + timedelta(weeks=200, days=-3), 17)
    assert calendar.between(start, due) == 1000 * H8


def test_add_accepts_starts_in_any_timezone_and_answers_in_utc():
    calendar = make_calendar()
    friday_16_utc = at(FRIDAY, 11, tz=ZoneInfo("America/New_York"))
    due = calendar.add(friday_16_utc, H8)
    assert due == at(MONDAY, 16)
    assert due.utcoffset() == timedelta(0)
    same_day = calendar.add(at(MONDAY, 18, tz=SHANGHAI), timedelta(hours=1))  # 10:00 UTC
    assert same_day == at(MONDAY, 11)
    assert same_day.utcoffset() == timedelta(0)


# --- between -----------------------------------------------------------------------


def test_between_is_zero_when_end_is_not_after_start():
    calendar = make_calendar()
    assert calendar.between(at(MONDAY, 12), at(MONDAY, 12)) == timedelta(0)
    assert calendar.between(at(MONDAY, 12), at(MONDAY, 10)) == timedelta(0)


def test_between_counts_only_the_overlap_with_working_hours():
    calendar = make_calendar()
    assert calendar.between(at(MONDAY, 6), at(MONDAY, 20)) == H8
    assert calendar.between(at(FRIDAY, 0), at(TUESDAY, 10)) == 2 * H8 + timedelta(hours=1)


# --- timezones and DST -----------------------------------------------------------


def test_due_date_across_the_london_spring_dst_change():
    calendar = make_calendar(tz="Europe/London")
    friday = at(date(2026, 3, 27), 16, tz=LONDON)  # GMT; clocks go forward on Sunday 29th
    due = calendar.add(friday, H8)
    assert due == at(date(2026, 3, 30), 16, tz=LONDON)
    assert due == at(date(2026, 3, 30), 15)  # BST is UTC+1
    assert calendar.between(friday, due) == H8


def test_due_date_across_the_london_autumn_dst_change():
    calendar = make_calendar(tz="Europe/London")
    friday = at(date(2026, 10, 23), 16, tz=LONDON)  # BST; clocks go back on Sunday 25th
    due = calendar.add(friday, H8)
    assert due == at(date(2026, 10, 26), 16)  # GMT is UTC
    assert calendar.between(friday, due) == H8


def test_business_time_is_real_elapsed_time_across_a_dst_night():
    calendar = parse_calendars(
        '[calendars.night]\ntimezone = "Europe/London"\nhours = { sun = "00:00-06:00" }'
    )["night"]
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    assert calendar.between(at(spring, 0, tz=LONDON), at(spring, 12, tz=LONDON)) == timedelta(hours=5)
    assert calendar.between(at(autumn, 0, tz=LONDON), at(autumn, 12, tz=LONDON)) == timedelta(hours=7)


def test_intervals_made_to_overlap_by_a_dst_gap_are_not_counted_twice():
    calendar = parse_calendars(
        '[calendars.night]\ntimezone = "Europe/London"\n'
        'hours = { sun = "00:00-01:30,02:00-03:00" }'
    )["night"]
    spring = date(2026, 3, 29)  # 01:00-02:00 does not exist
    day = calendar.between(at(spring, 0, tz=LONDON), at(spring, 12, tz=LONDON))
    assert day == timedelta(hours=2)  # 00:00-01:00 GMT and 02:00-03:00 BST


# --- public holidays ----------------------------------------------------------------


def cn_calendar(hours: str = "09:00-17:00", extra: str = "") -> BusinessCalendar:
    return make_calendar(hours, tz="Asia/Shanghai", holidays_code="CN", extra=extra)


def cn_package(year: int = 2026) -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=year)


def test_national_day_is_closed():
    assert not cn_calendar().is_working_day(date(2026, 10, 1))
    assert date(2026, 10, 1) in cn_package()


def test_task_before_national_day_is_due_after_the_golden_week():
    calendar = cn_calendar()
    start = at(date(2026, 9, 30), 16, tz=SHANGHAI)
    next_working_day = cn_package().get_nth_working_day(date(2026, 9, 30), 1)
    assert next_working_day > date(2026, 10, 1)
    assert calendar.add(start, H8) == at(next_working_day, 16, tz=SHANGHAI)


def test_spring_festival_due_date_follows_the_package_working_days():
    calendar = cn_calendar()
    start = at(date(2026, 2, 13), 10, tz=SHANGHAI)
    # Each working day is 8h, so 3 business days later is the 3rd working day at 10:00.
    third_working_day = cn_package().get_nth_working_day(date(2026, 2, 13), 3)
    assert calendar.add(start, 3 * H8) == at(third_working_day, 10, tz=SHANGHAI)


def test_calendar_agrees_with_the_package_on_every_day_of_2026():
    calendar = cn_calendar()
    package = cn_package()
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert calendar.is_working_day(day) == package.is_working_day(day), day
        day += timedelta(days=1)


def makeup_days_2026() -> list[date]:
    return sorted(d for d in cn_package().weekend_workdays if d.year == 2026)


def test_makeup_weekend_days_are_worked_with_monday_hours():
    makeup_days = makeup_days_2026()
    if not makeup_days:
        pytest.skip("this holidays version lists no makeup working days for CN 2026")
    # Monday has a lunch break, the other weekdays do not: makeup days use Monday's.
    days = ", ".join(f'{day} = "09:00-17:00"' for day in WEEKDAYS[1:])
    calendar = parse_calendars(
        '[calendars.cn]\ntimezone = "Asia/Shanghai"\nholidays = "CN"\n'
        f'hours = {{ mon = "09:00-12:00,13:00-17:00", {days} }}'
    )["cn"]
    for day in makeup_days:
        assert day.weekday() >= 5
        assert calendar.is_working_day(day)
        assert calendar.hours_on(day) == calendar.hours[0]
        assert calendar.between(at(day, 0, tz=SHANGHAI), at(day, 23, tz=SHANGHAI)) == timedelta(hours=7)


def test_makeup_day_keeps_the_calendars_own_weekend_hours():
    makeup_days = makeup_days_2026()
    if not makeup_days:
        pytest.skip("this holidays version lists no makeup working days for CN 2026")
    calendar = cn_calendar(extra=', sat = "10:00-12:00", sun = "10:00-12:00"')
    assert calendar.hours_on(makeup_days[0]) == ((time(10), time(12)),)


def test_closed_overrides_a_makeup_day():
    makeup_days = makeup_days_2026()
    if not makeup_days:
        pytest.skip("this holidays version lists no makeup working days for CN 2026")
    calendar = make_calendar(
        tz="Asia/Shanghai", holidays_code="CN", closed=(makeup_days[0].isoformat(),)
    )
    assert not calendar.is_working_day(makeup_days[0])


def test_subdivision_holidays_apply():
    national = holidays.country_holidays("US", years=2026)
    state = holidays.country_holidays("US", subdiv="CA", years=2026)
    state_only = sorted(d for d in set(state) - set(national) if d.weekday() < 5)
    assert state_only, "the holidays package lists California-only weekday holidays"
    calendar = make_calendar(tz="America/Los_Angeles", holidays_code="US-CA")
    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("US", "CA")
    assert not calendar.is_working_day(state_only[0])
    assert make_calendar(tz="America/Los_Angeles", holidays_code="US").is_working_day(state_only[0])


# --- round trip property -------------------------------------------------------------


@pytest.mark.parametrize(
    "calendar",
    [
        make_calendar("09:00-12:00,13:00-17:00"),
        make_calendar(tz="Europe/London", closed=("2026-03-30", "2026-12-24")),
        cn_calendar(),
    ],
    ids=["lunch-break", "london", "china"],
)
def test_between_inverts_add_for_random_starts_and_durations(calendar):
    rng = random.Random(20260101)
    year_start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(300):
        offset = timedelta(seconds=rng.randrange(366 * 86400), microseconds=rng.randrange(10**6))
        start = year_start + offset
        duration = timedelta(seconds=rng.randrange(20 * 8 * 3600))
        due = calendar.add(start, duration)
        assert due >= start
        assert calendar.between(start, due) == duration, (start, duration)


# --- guards and argument checks -------------------------------------------------------


def test_calendar_without_any_working_time_raises_instead_of_looping():
    calendar = BusinessCalendar(
        name="never", timezone="UTC", hours={}, holiday_country=None,
        holiday_subdivision=None, closed=frozenset(),
    )
    with pytest.raises(CalendarError, match="calendar 'never' has no working time"):
        calendar.add(at(MONDAY, 9), timedelta(minutes=1))


def test_naive_datetimes_and_negative_durations_are_refused():
    calendar = make_calendar()
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add(datetime(2026, 1, 12, 9), H8)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.between(at(MONDAY, 9), datetime(2026, 1, 12, 10))
    with pytest.raises(ValueError, match="negative"):
        calendar.add(at(MONDAY, 9), -H8)
    with pytest.raises(ValueError, match="timezone-aware"):
        builtin_24x7().add(datetime(2026, 1, 12, 9), H8)


# --- 24x7 ---------------------------------------------------------------------------


def test_always_open_calendar_uses_plain_elapsed_time():
    calendar = builtin_24x7()
    assert isinstance(calendar, AlwaysOpenCalendar)
    assert calendar.name == "24x7"
    assert calendar.is_working_day(date(2026, 10, 1))
    saturday = at(date(2026, 3, 28), 12, tz=LONDON)  # the night before clocks go forward
    due = calendar.add(saturday, timedelta(hours=24))
    assert due == at(date(2026, 3, 29), 12)  # 13:00 BST: 24 real hours later
    assert due.utcoffset() == timedelta(0)
    assert calendar.between(saturday, at(date(2026, 3, 29), 13, tz=LONDON)) == timedelta(hours=24)
    assert calendar.between(due, saturday) == timedelta(0)
    assert calendar.add(saturday, timedelta(0)) == saturday


# --- parsing -------------------------------------------------------------------------

DESIGN_EXAMPLE = """
[calendars.head_office]
timezone = "Asia/Shanghai"
hours = { mon = "09:00-17:00", tue = "09:00-17:00", wed = "09:00-17:00", thu = "09:00-17:00", fri = "09:00-17:00" }
holidays = "CN"            # country (optionally "CN-SH"-style subdivision) for the holidays package; omit for none
closed = ["2026-12-31"]    # extra closing days
default = true
"""


def test_design_example_parses():
    calendar = parse_calendars(DESIGN_EXAMPLE)["head_office"]
    assert calendar.name == "head_office"
    assert calendar.timezone == "Asia/Shanghai"
    assert calendar.hours == {wd: ((time(9), time(17)),) for wd in range(5)}
    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("CN", None)
    assert calendar.closed == frozenset({date(2026, 12, 31)})
    assert calendar.is_default
    assert not calendar.is_working_day(date(2026, 12, 31))


def test_shipped_default_calendars():
    calendars = default_calendars()
    office = calendars["head_office"]
    assert office.is_default
    assert office.timezone == "Asia/Shanghai"
    assert office.holiday_country == "CN"
    assert office.hours == {wd: ((time(9), time(17)),) for wd in range(5)}
    assert "24x7" not in calendars


def test_minimal_calendar_defaults_and_file_order():
    calendars = parse_calendars(
        '[calendars.b]\ntimezone = "UTC"\nhours = { sat = "10:00-12:00" }\n'
        '[calendars.a]\ntimezone = "UTC"\nhours = { mon = "10:00-12:00" }\n'
    )
    assert list(calendars) == ["b", "a"]
    assert not any(c.is_default for c in calendars.values())  # none is promoted
    assert calendars["b"].hours == {5: ((time(10), time(12)),)}
    assert calendars["b"].holiday_country is None
    assert calendars["b"].closed == frozenset()


def test_closed_accepts_native_toml_dates():
    calendar = parse_calendars(
        '[calendars.x]\ntimezone = "UTC"\nhours = { mon = "09:00-17:00" }\nclosed = [2026-01-12]'
    )["x"]
    assert calendar.closed == frozenset({MONDAY})


def test_intervals_are_sorted_and_may_touch():
    calendar = parse_calendars(
        '[calendars.x]\ntimezone = "UTC"\nhours = { mon = "13:00-17:00, 09:00-13:00" }'
    )["x"]
    assert calendar.hours[0] == ((time(9), time(13)), (time(13), time(17)))
    assert calendar.between(at(MONDAY, 0), at(TUESDAY, 0)) == H8


def test_empty_document_has_no_calendars():
    assert parse_calendars("") == {}


def calendar_toml(**fields: str) -> str:
    """A valid calendar `x` with some fields replaced (the value "DROP" leaves a field out)."""
    values = {"timezone": '"UTC"', "hours": '{ mon = "09:00-17:00" }'} | fields
    body = "\n".join(f"{key} = {value}" for key, value in values.items() if value != "DROP")
    return f"[calendars.x]\n{body}\n"


@pytest.mark.parametrize(
    "toml_text, message",
    [
        (calendar_toml(hours='{ mon = "9-17" }'), "calendar 'x': hours.mon '9-17' is not HH:MM-HH:MM"),
        (calendar_toml(hours='{ monday = "09:00-17:00" }'), "calendar 'x': hours has unknown weekday key(s) monday"),
        (calendar_toml(hours='{ mon = "25:00-26:00" }'), "hours.mon '25:00-26:00': 25:00 is not a time of day"),
        (calendar_toml(hours='{ mon = "09:60-17:00" }'), "09:60 is not a time of day"),
        (calendar_toml(hours='{ mon = "17:00-09:00" }'), "hours.mon '17:00-09:00': end 09:00 is not after start 17:00"),
        (calendar_toml(hours='{ mon = "09:00-09:00" }'), "end 09:00 is not after start 09:00"),
        (calendar_toml(hours='{ mon = "09:00-24:00" }'), "24:00 is not a time of day"),
        (calendar_toml(hours='{ tue = "09:00-13:00,12:00-17:00" }'), "hours.tue '09:00-13:00,12:00-17:00' has overlapping intervals"),
        (calendar_toml(hours='{ mon = "09:00-17:00," }'), "is not HH:MM-HH:MM"),
        (calendar_toml(hours='{ mon = 9 }'), "hours.mon must be a string"),
        (calendar_toml(hours="{}"), "hours is required"),
        (calendar_toml(hours="DROP"), "hours is required"),
        (calendar_toml(timezone='"Mars/Olympus_Mons"'), "timezone 'Mars/Olympus_Mons' is not a known IANA timezone"),
        (calendar_toml(timezone='"../etc/passwd"'), "timezone '../etc/passwd' is not a known IANA timezone"),
        (calendar_toml(timezone="DROP"), "calendar 'x': timezone is required"),
        (calendar_toml(holidays='"XX"'), "holidays 'XX': the holidays package has no country 'XX'"),
        (calendar_toml(holidays='"US-ZZ"'), "unknown subdivision 'ZZ' for country US (known: AK, AL"),
        (calendar_toml(holidays='"CN-SH"'), "unknown subdivision 'SH' for country CN (CN has no subdivisions)"),
        (calendar_toml(holidays='"US-"'), "unknown subdivision '' for country US"),
        (calendar_toml(holidays="86"), "holidays must be a country code"),
        (calendar_toml(closed='["2026-02-30"]'), "closed entry '2026-02-30' is not a date YYYY-MM-DD"),
        (calendar_toml(closed='["31/12/2026"]'), "closed entry '31/12/2026' is not a date"),
        (calendar_toml(closed="[20261231]"), "closed entry 20261231 is not a date"),
        (calendar_toml(closed="[2026-12-31T09:00:00]"), "is not a date YYYY-MM-DD"),
        (calendar_toml(closed='"2026-12-31"'), "closed must be a list of dates"),
        (calendar_toml(default='"yes"'), "default must be true or false"),
        (calendar_toml(holiday='"CN"'), "calendar 'x': unknown key(s) holiday; allowed: timezone, hours"),
        (calendar_toml(default="true") + calendar_toml(default="true").replace("[calendars.x]", "[calendars.y]"),
         "more than one default calendar: x, y"),
        ('[calendars.24x7]\ntimezone = "UTC"\nhours = { mon = "09:00-17:00" }', "the name '24x7' is reserved"),
        ('[calendar.x]\ntimezone = "UTC"', "unknown top-level key(s) calendar"),
        ('calendars = 3', "'calendars' must be a table"),
        ('[calendars]\nx = 3', "calendar 'x': must be a table"),
        ("[calendars.x\n", "not valid TOML"),
    ],
)
def test_invalid_calendar_files_are_rejected_with_a_clear_message(toml_text, message):
    with pytest.raises(CalendarError) as excinfo:
        parse_calendars(toml_text, source="bank.toml")
    assert message in str(excinfo.value)
    assert str(excinfo.value).startswith("bank.toml: ")
