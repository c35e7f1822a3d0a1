"""Several worker processes on one database: every due job runs exactly once."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from engine.services import calendars, deployments, instances
from engine.clock import ManualClock
from engine.services.context import EngineContext
from engine.store.models import Event, HumanTask
from engine.services.due_jobs import run_due_jobs
from tests.helpers.multiproc import run_together



def _worker(barrier, results, url: str, now: datetime, name: str) -> None:
    ctx = EngineContext.from_url(url, clock=ManualClock(now))
    try:
        barrier.wait(timeout=60)
        results.put((name, run_due_jobs(ctx, name, batch=25)))
    finally:
        ctx.close()


def run_workers(url: str, now: datetime, count: int) -> list[tuple[str, dict]]:
    return run_together(_worker, [(url, now, f"w{i}") for i in range(count)], timeout=600)


def event_counts(ctx, type_: str) -> Counter:
    with ctx.database.session_factory() as session:
        return Counter(dict(session.execute(
            select(Event.instance_id, func.count()).where(Event.type == type_).group_by(Event.instance_id)).all()))


@pytest.mark.slow
def test_three_workers_fire_each_of_1000_timers_once(ctx, clock, database_url, fixture_path, is_postgres):
    count = 1000 if is_postgres else 300  # SQLite serialises writers; the property is the same
    deployments.deploy(ctx, deployments.read_sources([fixture_path("timer_flow.bpmn")]))
    ids = [instances.start(ctx, "timer_flow", {"reminders": 0}).id for _ in range(count)]

    outcomes = run_workers(database_url, clock.now() + timedelta(hours=1), 3)

    assert sum(o["timers"] for _, o in outcomes) == count
    assert all(o["errors"] == 0 for _, o in outcomes)
    fired = event_counts(ctx, "timer_fired")
    assert set(fired) == set(ids) and set(fired.values()) == {1}
    with ctx.database.session_factory() as session:
        decide = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.element_id == "decide"))
    assert decide == count
    if is_postgres:  # on PostgreSQL the workers really share the work
        assert sum(1 for _, o in outcomes if o["timers"] > 0) >= 2


def test_two_workers_record_a_breach_once(ctx, clock, database_url, fixture_path):
    calendars.load_calendars(ctx, '[calendars.office]\ntimezone = "UTC"\nhours = { mon = "09:00-17:00", '
                                  'tue = "09:00-17:00", wed = "09:00-17:00", thu = "09:00-17:00", '
                                  'fri = "09:00-17:00" }\ndefault = true\n', "office.toml")
    deployments.deploy(ctx, deployments.read_sources([fixture_path("sla_review.bpmn")]))
    clock.set(datetime(2026, 1, 9, 16, 0, tzinfo=timezone.utc))
    ids = [instances.start(ctx, "sla_review").id for _ in range(20)]

    due = datetime(2026, 1, 12, 16, 0, tzinfo=timezone.utc)
    run_workers(database_url, due, 2)

    breaches = event_counts(ctx, "sla_breached")
    assert set(breaches) == set(ids) and set(breaches.values()) == {1}
    clock.set(due)
    assert run_due_jobs(ctx) == {"timers": 0, "starts": 0, "sla_checks": 0, "errors": 0}
