"""Class 4 of the isolation issue: timers computed outside the sandbox are bounded and in
closed form. Huge durations, zero periods and cycles that start in 1970 are refused at deploy
where they are literals, are incidents where they are computed, and never make `start`,
`deploy` or a worker pass loop."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.services import due_jobs, instances
from engine.store.models import Job
from tests.service.isolation import diagrams as d


def _quick(action):
    started = time.monotonic()
    result = action()
    assert time.monotonic() - started < 30
    return result


@pytest.mark.parametrize(("content", "says"), [
    (d.timer_process("timeDuration", "P999999999Y"), "longer than 100 years"),
    (d.timer_process("timeDuration", "PT99999999999999H"), "not an ISO 8601 duration"),
    (d.timer_start_process("timeDuration", "P999999999Y"), "longer than 100 years"),
    (d.timer_start_process("timeCycle", "R/PT0S"), "more often than once a second"),
    (d.timer_start_process("timeCycle", "R/P999999999Y"), "longer than 100 years"),
    (d.boundary_cycle_process("R/PT0S"), "more often than once a second"),
    (d.timer_process("timeDate", "0001-01-01T00:00:00Z"), "between 1900 and 9000"),
], ids=["duration", "duration_digits", "start_duration", "start_zero_cycle", "start_long_cycle",
        "boundary_zero_cycle", "date"])
def test_unbounded_literal_timers_are_refused_at_deploy(ctx, content, says):
    assert says in _quick(lambda: d.refusal(ctx, ("iso.bpmn", content)))


@pytest.mark.parametrize(("content", "data"), [
    (d.timer_process("timeDuration", "wait"), {"wait": "P999999999Y"}),
    (d.timer_process("timeDuration", "wait"), {"wait": 5}),
    (d.boundary_cycle_process("every"), {"every": "R/PT0S"}),
    (d.boundary_cycle_process("every"), {"every": "R/1970-01-01T00:00:00Z/PT0.5S"}),
    (d.timer_process("timeDate", "when"), {"when": "99999-01-01"}),
], ids=["duration", "not_text", "zero_cycle", "sub_second_cycle", "date"])
def test_unbounded_computed_timers_are_incidents_at_the_timer(ctx, content, data):
    case = _quick(lambda: d.run(ctx, content, data))
    assert case.status == "incident", case
    assert case.incident_element in ("work", "remind")
    assert "timer" in case.incident_message


def test_a_computed_timer_runs_on_after_retry_with_a_usable_value(ctx, clock):
    case = d.run(ctx, d.timer_process("timeDuration", "wait"), {"wait": "P999999999Y"})
    assert case.status == "incident"
    assert instances.retry(ctx, case.id, {"wait": "PT1H"}).status == "running"
    clock.advance(hours=2)
    due_jobs.run_due_jobs(ctx)
    assert instances.get_instance(ctx, case.id).status == "completed"


def _timer_start_due(ctx) -> datetime:
    with ctx.database.session_factory() as session:
        return session.scalars(select(Job.due_at).where(Job.kind == "timer_start")).one()


def test_a_start_cycle_from_1970_is_scheduled_on_its_grid_after_now(ctx, clock):
    clock.set(datetime(2026, 3, 2, 10, 0, 30, tzinfo=timezone.utc))
    _quick(lambda: d.deploy(ctx, ("iso.bpmn", d.timer_start_process("timeCycle", "R/1970-01-01T00:00:00Z/PT1M"))))
    due = _timer_start_due(ctx)
    assert due.replace(tzinfo=timezone.utc) == datetime(2026, 3, 2, 10, 1, tzinfo=timezone.utc)
    clock.advance(days=1)  # a day of downtime: 1,440 missed occurrences
    counts = _quick(lambda: due_jobs.run_due_jobs(ctx))
    assert counts["starts"] == 1, "missed occurrences are not replayed"
    assert _timer_start_due(ctx).replace(tzinfo=timezone.utc) == datetime(2026, 3, 3, 10, 1, tzinfo=timezone.utc)


def test_a_boundary_cycle_from_1970_fires_once_per_look_at_the_clock(ctx, clock):
    case = _quick(lambda: d.run(ctx, d.boundary_cycle_process("R/1970-01-01T00:00:00Z/PT1S")))
    assert case.status == "running"
    for _ in range(3):
        clock.advance(hours=1)
        _quick(lambda: due_jobs.run_due_jobs(ctx))
    history = instances.get_instance(ctx, case.id).history
    fired = [event for event in history if event.type == "timer_fired"]
    assert 1 <= len(fired) <= 4, "once per pass, not once per missed second"
