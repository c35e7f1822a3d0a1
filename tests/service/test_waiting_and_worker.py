"""What a running case waits for (service jobs, timers), the worker's heartbeat and whether one runs,
and the worker loop that outlives a failing pass."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engine.errors import DatabaseProblem
from engine.services import calendars, demo_data, external_tasks, health, instances, worker
from engine.json_shapes import health_view, wait_view, worker_status_view
from tests.helpers.process_library import LIBRARY, MONDAY_10_SHANGHAI, work

INTAKE = {"customer_id": "C-1001", "customer_name": "Li Wei", "applicant_user": "carl", "loan_product": "consumer",
          "amount": 200000, "term_months": 120, "monthly_income": 30000, "existing_debt_monthly": 2000,
          "collateral": "none"}


@pytest.fixture
def bank(ctx, clock):
    """The library and the demo users as `bankflow serve` loads them, on Monday 2 March 2026, 10:00 Shanghai."""
    clock.set(MONDAY_10_SHANGHAI)
    calendars.ensure_default_calendars(ctx)
    demo_data.load_demo(ctx, LIBRARY)
    return ctx


def loan(ctx, documents_complete=True):
    case = instances.start(ctx, "loan_application", business_key="LOAN-1", user="olga")
    work(ctx, case.id, "loan_intake", "olga", INTAKE)
    work(ctx, case.id, "document_check", "olga",
         {"documents_complete": documents_complete, "missing_documents": "" if documents_complete else "payslips"})
    return case.id


def waiting(ctx, case_id):
    """What the case waits for, as `bankflow instance --json` prints it."""
    return [wait_view(w) for w in instances.get_instance(ctx, case_id).waiting]


def test_a_case_at_the_credit_bureau_waits_for_the_service(bank):
    case_id = loan(bank)
    [wait] = waiting(bank, case_id)
    assert wait == {"kind": "service", "element_id": "credit_bureau", "name": "Get credit bureau report",
                    "on_element_id": None, "on_name": None, "topic": "credit_bureau_report",
                    "due_at": "2026-03-02T02:00:00Z", "overdue": False, "answered_here": True, "worker": None,
                    "attempts": 0, "last_error": None, "retry_at": None, "retries_left": None}
    assert [wait_view(w) for w in instances.case_overview(bank, case_id, "olga").case.waiting] == [wait]

    [job] = external_tasks.fetch_and_lock(bank, "bureau-worker", ["credit_bureau_report"])
    assert waiting(bank, case_id)[0]["worker"] == "bureau-worker"
    external_tasks.fail_job(bank, job.id, "bureau-worker", "bureau down", retries=2)
    [failed] = waiting(bank, case_id)
    assert (failed["worker"], failed["attempts"], failed["last_error"]) == (None, 1, "bureau down")
    assert (failed["retry_at"], failed["retries_left"]) == ("2026-03-02T02:01:00Z", 2)

    bank.clock.advance(minutes=2)
    assert worker.run_pass(bank, "w")["service_jobs"] == 1
    assert [(w["kind"], w["on_element_id"]) for w in waiting(bank, case_id)] == [("timer", "underwriter_review")]


def test_a_customer_task_waits_for_its_timer_and_an_ended_case_for_nothing(bank):
    case_id = loan(bank, documents_complete=False)
    [wait] = waiting(bank, case_id)
    assert (wait["kind"], wait["element_id"], wait["on_element_id"], wait["on_name"]) == (
        "timer", "documents_overdue", "provide_documents", "Provide missing documents")
    assert wait["due_at"] == "2026-03-16T02:00:00Z" and wait["overdue"] is False  # 10 business days, 10:00 Shanghai
    bank.clock.set(MONDAY_10_SHANGHAI + timedelta(days=15))
    assert waiting(bank, case_id)[0]["overdue"] is True
    worker.run_pass(bank, "w")  # the timer fires: the application is withdrawn
    assert instances.get_instance(bank, case_id).status == "completed"
    assert waiting(bank, case_id) == []


def test_the_worker_status_follows_its_heartbeat_and_the_waiting_work(bank):
    assert worker_status_view(health.worker_status(bank)) == {"status": "idle", "last_pass_at": None,
                                                              "waiting_since": None, "minutes": None}
    loan(bank)  # a service job a worker would answer
    assert worker_status_view(health.worker_status(bank))["status"] == "idle"  # it has not waited long yet
    bank.clock.advance(minutes=3)
    assert worker_status_view(health.worker_status(bank)) == {"status": "overdue", "last_pass_at": None,
                                                              "waiting_since": "2026-03-02T02:00:00Z", "minutes": 3}
    assert health_view(health.check(bank))["worker"] == {"status": "overdue", "last_pass_at": None}

    worker.run_pass(bank, "w", interval=2)
    assert worker_status_view(health.worker_status(bank))["status"] == "ok"
    assert health_view(health.check(bank))["worker"] == {"status": "ok", "last_pass_at": "2026-03-02T02:03:00Z"}
    bank.clock.advance(minutes=10)
    assert worker_status_view(health.worker_status(bank))["status"] == "idle"  # no worker, but nothing is due yet

    bank.clock.advance(days=3)  # the underwriting SLA checks and its timer are due now
    status = worker_status_view(health.worker_status(bank))
    assert status["status"] == "overdue" and status["last_pass_at"] == "2026-03-02T02:03:00Z"
    assert status["minutes"] == 3 * 24 * 60 + 10


def test_a_slow_worker_counts_as_running_for_three_of_its_intervals(bank):
    loan(bank)
    worker.record_heartbeat(bank, "slow", interval=300)
    bank.clock.advance(minutes=14)
    assert worker_status_view(health.worker_status(bank))["status"] == "ok"
    bank.clock.advance(minutes=2)
    assert worker_status_view(health.worker_status(bank))["status"] == "overdue"


def test_heartbeats_of_workers_gone_for_a_day_are_dropped(bank):
    from sqlalchemy import text

    worker.record_heartbeat(bank, "old")
    worker.record_heartbeat(bank, "old")
    bank.clock.advance(days=2)
    worker.record_heartbeat(bank, "new")
    with bank.database.engine.connect() as conn:
        rows = conn.execute(text("SELECT worker_id, passes FROM worker_heartbeat")).all()
    assert [tuple(r) for r in rows] == [("new", 1)]


def test_the_loop_goes_on_after_a_failing_pass_and_stops_when_told(ctx, monkeypatch):
    calls, stop = [], threading.Event()

    def flaky_pass(_ctx, worker_id, registry=None, interval=None):
        calls.append(worker_id)
        if len(calls) == 1:
            raise DatabaseProblem("cannot reach the database: gone")
        if len(calls) == 2:
            raise RuntimeError("a bug")
        if len(calls) == 3:
            stop.set()
        return {}

    monkeypatch.setattr(worker, "run_pass", flaky_pass)
    loop = threading.Thread(target=worker.run, args=(ctx, "loop"), kwargs={"interval": 0.01, "stop": stop})
    loop.start()
    loop.join(10)
    assert not loop.is_alive() and calls == ["loop", "loop", "loop"]
    with pytest.raises(DatabaseProblem):  # a single pass says what went wrong
        calls.clear()
        worker.run(ctx, "once", once=True)
