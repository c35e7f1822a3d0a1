"""The simulator's pure parts: who takes which work, arrivals in working hours, repeatability."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from engine.analytics.queueing import (EventQueue, Person, WorkItem, WorkQueues, arrival_times, is_working,
                                         next_opening, poisson)
from engine.sla.business_calendar import builtin_24x7, default_calendars

UTC = timezone.utc
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
OFFICE = default_calendars()["head_office"]  # 09:00-17:00 Shanghai = 01:00-09:00 UTC


def item(ident, minutes, groups=("clerks",), priority=50, assignee=None):
    return WorkItem(ident, 1, "t", priority, T0 + timedelta(minutes=minutes), tuple(groups), (), assignee, [])


def test_people_take_the_oldest_work_they_may_take_and_never_what_four_eyes_keeps_from_them():
    queues = WorkQueues()
    ann = Person("ann", frozenset({"clerks"}), OFFICE)
    bob = Person("bob", frozenset({"reviewers"}), OFFICE)
    for work in (item(3, 30), item(1, 10), item(2, 20, groups=("reviewers",)), item(4, 40, priority=90),
                 item(5, 0, assignee="bob")):
        queues.add(work)
    assert queues.next_for(ann).id == 4  # higher priority first
    queues.remove(4)
    assert queues.next_for(ann).id == 1
    queues.items[1].refused.add("ann")
    assert queues.next_for(ann).id == 3
    assert queues.next_for(bob).id == 5  # assigned to bob: his, oldest first
    queues.remove(5)
    assert queues.next_for(bob).id == 2
    assert len(queues) == 3


def test_arrivals_fall_on_working_days_inside_the_hours_and_average_the_rate():
    rng = random.Random(2)
    start, end = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 5, 25, tzinfo=UTC)
    times = arrival_times(OFFICE, 6, start, end, rng)
    assert all(is_working(OFFICE, t) for t in times)
    working_days = len({t.astimezone(OFFICE.zone).date() for t in times})
    assert 5.0 < len(times) / working_days < 7.0
    assert times == sorted(times)
    around_the_clock = arrival_times(builtin_24x7(), 24, start, start + timedelta(days=10), random.Random(2))
    assert 180 < len(around_the_clock) < 300
    assert abs(sum(poisson(rng, 3.0) for _ in range(4000)) / 4000 - 3.0) < 0.15
    assert poisson(rng, 0) == 0


def test_next_opening_and_the_event_queue_keep_their_order():
    saturday = datetime(2026, 3, 7, 3, 0, tzinfo=UTC)
    assert next_opening(OFFICE, saturday) == datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
    assert next_opening(OFFICE, T0) == T0
    events = EventQueue()
    events.push(T0, "b")
    events.push(T0, "a")
    events.push(T0 - timedelta(1), "first")
    assert events.next_time() == T0 - timedelta(1)
    assert [k for k, _ in events.pop_due(T0)] == ["first", "b", "a"]
