"""A claims history with known times, built through the real services on the test clock."""
from __future__ import annotations

import heapq
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import update

from engine.services import calendars, deployments, due_jobs, instances, tasks, users
from engine.store.tables import TASK
from tests.helpers.statements import counting

HERE = Path(__file__).parent
BEGIN = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # a Monday, 09:00 in Shanghai


@pytest.fixture
def claims(ctx):
    """The claim_review process deployed, with clerks, a reviewer, a customer and the default calendar."""
    calendars.ensure_default_calendars(ctx)
    deployments.deploy(ctx, deployments.read_sources([HERE / "claim_review.bpmn"]))
    for name, group in (("clara", "clerks"), ("cliff", "clerks"), ("rex", "reviewers"), ("appl", "customers")):
        users.add_user(ctx, name, "secret123", groups=[group])
    return ctx


@pytest.fixture
def build_history(claims, clock) -> Callable[..., datetime]:
    """`build_history(cases, seed)`: run `cases` claims through register, review (rework, reject or
    approve), the customer's confirmation and the cooling-off timer, with random but known waits
    and work times, cases overlapping; returns the moment the history ends (some cases still open)."""

    def build(cases: int = 14, seed: int = 5, gap_hours: float = 11.0) -> datetime:
        rng = random.Random(seed)
        clock.set(BEGIN)
        queue: list[tuple[datetime, int, str, int]] = []
        order = 0
        for number in range(cases):
            order += 1
            heapq.heappush(queue, (BEGIN + timedelta(hours=gap_hours * number, minutes=rng.randint(0, 50)),
                                   order, "start", number))
        end = BEGIN + timedelta(hours=gap_hours * cases)
        case_ids: dict[int, int] = {}
        while queue and queue[0][0] < end:
            when, _, action, number = heapq.heappop(queue)
            clock.set(when)
            later = when + timedelta(seconds=rng.randint(120, 6 * 3600))
            if action == "start":
                case_ids[number] = instances.start(claims, "claim_review", {"applicant": "appl"},
                                                   business_key=f"CLM-{number}").id
                order += 1
                heapq.heappush(queue, (later, order, "claim", number))
                continue
            [task] = tasks.list_tasks(claims, instance_id=case_ids[number]) or [None]
            if task is None:  # waiting for the cooling-off timer: the worker fires it when due
                due_jobs.run_due_jobs(claims, "test-worker")
                order += 1
                heapq.heappush(queue, (when + timedelta(minutes=30), order, "claim", number))
                continue
            worker = {"register": rng.choice(["clara", "cliff"]), "review": "rex", "confirm": "appl"}[
                task.element_id]
            if action == "claim" and task.assignee is None:
                tasks.claim(claims, task.id, worker)
                order += 1
                heapq.heappush(queue, (later, order, "complete", number))
                continue
            data = {"register": {"amount": rng.randint(100, 9000)},
                    "review": {"verdict": rng.choices(["approve", "rework", "reject"], [6, 3, 2])[0]},
                    "confirm": {"iban": "DE00 1234"}}[task.element_id]
            tasks.complete(claims, task.id, task.assignee or worker, data)
            order += 1
            heapq.heappush(queue, (when + timedelta(seconds=rng.randint(60, 4 * 3600)), order, "claim", number))
        clock.set(end)
        due_jobs.run_due_jobs(claims, "test-worker")
        return end

    return build


def unclaim_one_completed(ctx, element_id: str) -> None:
    """Make one completed task look completed without a claim (as rows written before claims were kept)."""
    with ctx.database.engine.begin() as conn:
        first = conn.execute(TASK.select().where(TASK.c.element_id == element_id, TASK.c.status == "completed")
                             .order_by(TASK.c.id).limit(1)).first()
        conn.execute(update(TASK).where(TASK.c.id == first.id).values(claimed_at=None))


@pytest.fixture
def unclaimed():
    return unclaim_one_completed


@pytest.fixture
def statement_counter():
    return counting


def parse_xes(path: Path) -> list[dict[str, Any]]:
    """Traces of an XES file read with the standard library: attributes and events (dicts)."""
    import xml.etree.ElementTree as ET

    ns = "{http://www.xes-standard.org/}"

    def value(element):
        kind = element.tag.replace(ns, "")
        raw = element.get("value")
        if kind == "date":
            return datetime.fromisoformat(raw)
        if kind == "int":
            return int(raw)
        return raw

    traces = []
    for trace in ET.parse(path).getroot().iter(f"{ns}trace"):
        attrs = {c.get("key"): value(c) for c in trace if c.tag != f"{ns}event"}
        events = [{c.get("key"): value(c) for c in e} for e in trace.iter(f"{ns}event")]
        traces.append({"attributes": attrs, "events": events})
    return traces


@pytest.fixture
def read_xes():
    return parse_xes
