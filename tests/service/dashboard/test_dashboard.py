"""The dashboard service: the same figures as `bankflow metrics`, charts that add up to them,
drill-down, the SLA board with reassignment, exports, roles, and a fixed number of statements."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import update

from engine.errors import NotFound, PermissionDenied
from engine.services import dashboard, metrics, tasks
from engine.store.tables import TASK


def test_staff_may_not_open_any_dashboard(managers, history):
    for call in (lambda: dashboard.overview(managers, "clara"),
                 lambda: dashboard.process_page(managers, "clara", "claim_review"),
                 lambda: dashboard.sla_board(managers, "clara"),
                 lambda: dashboard.diagram(managers, "clara", "claim_review"),
                 lambda: dashboard.process_xes(managers, "clara", "claim_review")):
        with pytest.raises(PermissionDenied):
            call()


def test_the_page_shows_exactly_the_metrics_document(managers, history):
    since = history - timedelta(days=5)
    page = dashboard.process_page(managers, "mona", "claim_review", since=since, until=history)
    assert page.metrics == metrics.process_metrics(managers, "claim_review", since=since, until=history)
    doc = page.metrics
    completed = doc["instances"]["completed"]
    assert completed > 0
    assert sum(b.count for b in page.histogram) == completed
    assert page.histogram[-1].to_seconds == pytest.approx(doc["instances"]["cycle_time"]["max"], abs=1e-3)
    assert sum(w.count for w in page.trend) == completed
    assert sum(d.completions for d in page.flow) == completed
    assert sum(d.arrivals for d in page.flow) == doc["instances"]["started"]
    if len(page.trend) == 1:
        assert page.trend[0].median == doc["instances"]["cycle_time"]["median"]
    top = doc["bottlenecks"][0]
    assert page.heat[top]["share"].heat == 1.0
    assert all(0 <= m.heat <= 1 for h in page.heat.values() for m in h.values() if m.heat is not None)


def test_the_business_time_page_uses_the_business_time_metrics(managers, history):
    page = dashboard.process_page(managers, "ada", "claim_review", until=history, business_time=True)
    assert page.metrics == metrics.process_metrics(managers, "claim_review", until=history, business_time=True)
    assert sum(b.count for b in page.histogram) == page.metrics["instances"]["completed"]
    assert page.has_calendars


def test_an_activity_lists_its_slowest_cases_with_wait_and_work(managers, history):
    page = dashboard.process_page(managers, "mona", "claim_review", until=history, element="review")
    review = page.element
    rows = page.slowest
    assert 0 < len(rows) <= 10 and len(rows) == min(10, review["duration"]["count"])
    assert rows[0].duration == pytest.approx(review["duration"]["max"], abs=1e-3)
    assert [r.duration for r in rows] == sorted((r.duration for r in rows), reverse=True)
    for r in rows:
        assert r.wait + r.work == pytest.approx(r.duration, abs=2e-3)
    with pytest.raises(NotFound):
        dashboard.process_page(managers, "mona", "claim_review", until=history, element="nope")


def test_the_overview_lists_each_process_with_its_figures(managers, history):
    found = dashboard.overview(managers, "mona", until=history)
    [row] = found.processes
    doc = metrics.process_metrics(managers, "claim_review", until=history)
    assert row.completed == doc["instances"]["completed"]
    assert row.cycle_time_median == doc["instances"]["cycle_time"]["median"]
    assert sum(w.count for w in row.trend) == doc["instances"]["completed"]
    assert dashboard.overview(managers, "mona", until=history, version=7).processes == ()


def test_the_sla_board_lists_late_open_tasks_oldest_first_and_they_can_be_reassigned(managers, history, clock):
    open_tasks = tasks.list_tasks(managers, status="open") + tasks.list_tasks(managers, status="claimed")
    assert open_tasks, "the history leaves some tasks open"
    late = open_tasks[0]
    with managers.database.engine.begin() as conn:
        conn.execute(update(TASK).where(TASK.c.id == late.id).values(due_at=clock.now() - timedelta(hours=1)))
    board = dashboard.sla_board(managers, "mona")
    assert [t.task_id for t in board.tasks] == [late.id]
    assert board.tasks[0].sla == "breached"
    assert sum(c.breached for c in board.counts) == 1
    assert dashboard.sla_board(managers, "mona", key="other").tasks == ()
    groups = board.tasks[0].groups
    assert dashboard.sla_board(managers, "mona", group=groups[0]).tasks if groups else True
    text = dashboard.sla_csv(managers, "mona")
    assert next(csv.DictReader(io.StringIO(text)))["task_id"] == str(late.id)


def test_every_table_exports_as_csv_and_the_log_as_xes(managers, history):
    for table in dashboard.PROCESS_TABLES:
        text = dashboard.process_csv(managers, "mona", "claim_review", table, until=history,
                                     element="review" if table == "slowest" else None)
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows, table
    assert "claim_review" in dashboard.overview_csv(managers, "mona", until=history)
    assert dashboard.process_xes(managers, "mona", "claim_review").count("<trace>") == 14
    with pytest.raises(NotFound):
        dashboard.process_csv(managers, "mona", "claim_review", "secrets")


def test_the_page_runs_a_fixed_number_of_statements(managers, build_history, statement_counter):
    build_history(cases=4, seed=1)
    with statement_counter(managers) as few:
        dashboard.process_page(managers, "mona", "claim_review", element="review")
    build_history(cases=14, seed=2)
    with statement_counter(managers) as many:
        dashboard.process_page(managers, "mona", "claim_review", element="review")
    assert len(few) == len(many)
