"""Bounded, closed-form parsing and arithmetic: ISO 8601 timer values, DMN cells, form fields,
text without addresses. Each test also checks the answer is what the slow library code gives."""
from __future__ import annotations

import random
import re
import time
from copy import deepcopy
from datetime import datetime, timedelta, timezone

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.bpmn.forms import definition_problems, validate
from engine.errors import InvalidData
from engine.runtime.decisions import output_parts, substitute_input
from engine.runtime.sandbox.text import scrub_text
from engine.runtime.timer_events import next_occurrence, parse_cycle as schedule
from engine.sla.durations import DurationError, parse_cycle, parse_duration, parse_iso_datetime, parse_iso_duration

UTC = timezone.utc


def _quick(action):
    started = time.monotonic()
    result = action()
    assert time.monotonic() - started < 0.5
    return result


@pytest.mark.parametrize("text", ["P999999999Y", "P999999999M", "PT999999999H", "P36526D", "P5300W",
                                  "P1.5Y", "P1DT", "P", "PT", "-P1D", "P1D" * 50, "PT1.5H30M", 5, None])
def test_unbounded_or_malformed_durations_are_refused_at_once(text):
    with pytest.raises(DurationError):
        _quick(lambda: parse_iso_duration(text))


@pytest.mark.parametrize(("text", "fixed", "months"), [
    ("PT4H", timedelta(hours=4), 0), ("P10D", timedelta(days=10), 0), ("P1Y2M", timedelta(0), 14),
    ("P2W", timedelta(weeks=2), 0), ("PT1.5S", timedelta(seconds=1.5), 0), ("P1,5D", timedelta(hours=36), 0),
    ("P100Y", timedelta(0), 1200), ("p1dt12h", timedelta(days=1, hours=12), 0),
])
def test_durations(text, fixed, months):
    duration = parse_iso_duration(text)
    assert (duration.fixed, duration.months) == (fixed, months)


def test_months_are_counted_as_spiffworkflow_does_without_its_loop():
    random.seed(7)
    for _ in range(300):
        start = datetime(random.randint(1950, 2100), random.randint(1, 12), random.randint(1, 28),
                         random.randint(0, 23), tzinfo=UTC)
        text = f"P{random.randint(0, 8)}Y{random.randint(0, 30)}M{random.randint(0, 40)}D"
        expected = start + TimerEventDefinition.get_timedelta_from_start(
            TimerEventDefinition.parse_iso_duration(text), start)
        assert parse_iso_duration(text).after(start) == expected, (start, text)


def test_sla_durations_refuse_months_and_zero():
    assert parse_duration("P3D") == timedelta(days=3)
    for text in ("P1M", "PT0S", "P1000000D"):
        with pytest.raises(DurationError):
            parse_duration(text)


@pytest.mark.parametrize("text", ["R/PT0S", "R/PT0.5S", "R0/PT1H", "R/P999999999Y", "R99999999999/PT1H", "0 0 * * *",
                                  "R/1970-01-01T00:00:00Z/PT0S", "R/0001-01-01/PT1H", "R/" + "1" * 500])
def test_unusable_cycles_are_refused_at_once(text):
    with pytest.raises(DurationError):
        _quick(lambda: parse_cycle(text))


def test_the_next_occurrence_is_computed_directly_and_matches_stepping():
    random.seed(11)
    for _ in range(200):
        anchor = datetime(random.randint(1970, 2020), random.randint(1, 12), random.randint(1, 28), tzinfo=UTC)
        period = random.choice(["PT1S", "PT7M", "PT1H", "P1D", "P3D", "P1W", "P1M", "P2M", "P1Y", "P1M3D"])
        cycle = parse_cycle(f"R/{period}")
        now = anchor + cycle.period.approximate * random.uniform(0, 60)
        found = _quick(lambda: cycle.next_after(anchor, now))
        step = 0
        while cycle.occurrence(anchor, step) <= now:  # the brute force the engine no longer does
            step += 1
        assert found == cycle.occurrence(anchor, step) and found > now


def test_a_cycle_from_1970_every_second_is_scheduled_at_once():
    now = datetime(2026, 6, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    first = _quick(lambda: schedule("R/1970-01-01T00:00:00Z/PT1S", now)).first
    assert first == datetime(2026, 6, 1, 12, 0, 1, tzinfo=UTC)
    assert _quick(lambda: next_occurrence(datetime(1970, 1, 1, tzinfo=UTC), "PT1S", now)) == first


def test_date_times_are_bounded():
    assert parse_iso_datetime("2026-12-01T09:00:00Z") == datetime(2026, 12, 1, 9, tzinfo=UTC)
    for text in ("0001-01-01", "9999-12-31", "2026-13-01", "x" * 1000, 12):
        with pytest.raises(DurationError):
            parse_iso_datetime(text)


def test_dmn_input_substitution_is_linear_and_exact():
    library = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')
    random.seed(3)
    for _ in range(5000):
        cell = "".join(random.choice("?a'\" <") for _ in range(random.randint(0, 14)))
        assert substitute_input(cell) == library.sub("dmninputexpr", cell)
    assert _quick(lambda: substitute_input("?" * 60_000)).count("dmninputexpr") == 60_000
    assert _quick(lambda: substitute_input("'?" * 30_000 + "?")).endswith("dmninputexpr")


def test_dmn_output_names_nest_boundedly():
    assert output_parts("a.b.c") == ["a", "b", "c"]
    with pytest.raises(ValueError, match="3,001 dotted parts|3001 dotted parts"):
        output_parts("a" + ".b" * 3000)


@pytest.mark.parametrize(("field", "says"), [
    ({"id": "n", "type": "long", "default": "abc"}, "is not a long value"),
    ({"id": "n", "type": "long", "min": "x"}, "its min 'x'"),
    ({"id": "n", "type": "string", "minlength": "three"}, "not a whole number"),
    ({"id": "n", "type": "date", "max": "soon"}, "its max 'soon'"),
    ({"id": "n", "type": "enum", "default": "z", "options": [{"id": "a", "name": "A"}]}, "not one of its values"),
])
def test_form_definitions_that_do_not_fit_their_type(field, says):
    problems = definition_problems(field)
    assert problems and says in problems[0]


def test_a_broken_form_deployed_before_the_checks_reports_per_field_not_a_raw_error():
    form = [{"id": "n", "type": "long", "default": "abc", "required": False},
            {"id": "m", "type": "long", "min": "x", "required": False}]
    with pytest.raises(InvalidData) as caught:
        validate(form, {"m": 5})
    assert {problem.field for problem in caught.value.field_problems} == {"n", "m"}


@pytest.mark.parametrize(("text", "shown"), [
    ("<map object at 0x7f3a2b1c>", "<map object>"),
    ("[<function guarded_sum at 0x1>, <function f.<locals>.<lambda> at 0xdeadbeef>]", "[<function>, <function>]"),
    ("<built-in method upper of str object at 0x7f>", "<function>"),
    ("plain text at 0x12 without brackets", "plain text at 0x12 without brackets"),
])
def test_addresses_are_scrubbed(text, shown):
    assert scrub_text(text) == shown
    for adversarial in ("<" * 50_000 + " at 0x1" * 10_000, "<" * 100_000 + "x at 0x1", "<a" * 50_000 + " at 0x1>"):
        _quick(lambda: scrub_text(adversarial))
