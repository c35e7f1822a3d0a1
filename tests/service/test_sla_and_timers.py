"""SLA clocks on a business calendar, timers fired by the worker, periodic starts."""
from __future__ import annotations

import socket
from datetime import datetime, timezone

import pytest

from engine.services import calendars, deployments, instances, sla_targets, tasks, users
from engine.errors import InvalidData, PermissionDenied
from engine.services.due_jobs import run_due_jobs
from engine.services.worker import run_pass
from engine.json_shapes import event_view, iso

OFFICE = """
[calendars.office]
timezone = "UTC"
hours = { mon = "09:00-17:00", tue = "09:00-17:00", wed = "09:00-17:00", thu = "09:00-17:00", fri = "09:00-17:00" }
closed = [CLOSED]
default = true
"""
FRIDAY_16 = datetime(2026, 1, 9, 16, 0, tzinfo=timezone.utc)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def office(ctx, clock, fixture_path):
    def setup(closed: str = ""):
        calendars.load_calendars(ctx, OFFICE.replace("CLOSED", closed), "office.toml")
        for name, groups, roles in (("rita", ["reviewers"], ["staff"]), ("mo", ["reviewers"], ["manager"]),
                                    ("max", ["managers"], ["manager"])):
            users.add_user(ctx, name, "secret123", groups=groups, roles=roles)
        deployments.deploy(ctx, deployments.read_sources(
            [fixture_path(n) for n in ("sla_review.bpmn", "timer_flow.bpmn", "periodic_survey.bpmn")]))
        clock.set(FRIDAY_16)
        return ctx
    return setup


def the_task(ctx, instance_id):
    [task] = tasks.list_tasks(ctx, instance_id=instance_id)
    return task


def history(ctx, instance_id, type_=None):
    """The case's history as `bankflow instance --json` prints it."""
    events = instances.get_instance(ctx, instance_id).history
    return [event_view(e) for e in events if type_ is None or e.type == type_]


def test_eight_business_hours_from_friday_16_is_monday_16(office):
    ctx = office()
    case = instances.start(ctx, "sla_review")
    task = the_task(ctx, case.id)
    assert iso(task.due_at) == "2026-01-12T16:00:00Z" and task.sla_status == "on_track"


def test_a_closing_day_moves_the_due_date(office):
    ctx = office(closed='"2026-01-12"')
    case = instances.start(ctx, "sla_review")
    assert iso(the_task(ctx, case.id).due_at) == "2026-01-13T16:00:00Z"


def test_at_risk_at_80_percent_and_breached_when_due_passes(office, clock):
    ctx = office()
    case = instances.start(ctx, "sla_review")
    # 80% of 8 working hours = 6h24m: Friday's last hour, then Monday 09:00 + 5h24m = 14:24.
    clock.set(utc(2026, 1, 12, 14, 23))
    run_due_jobs(ctx)
    assert the_task(ctx, case.id).sla_status == "on_track"
    clock.set(utc(2026, 1, 12, 14, 24))
    run_due_jobs(ctx)
    assert the_task(ctx, case.id).sla_status == "at_risk"
    clock.set(utc(2026, 1, 12, 15, 59, 59))
    run_due_jobs(ctx)
    assert the_task(ctx, case.id).sla_status == "at_risk" and history(ctx, case.id, "sla_breached") == []
    clock.set(utc(2026, 1, 12, 16, 0))
    run_due_jobs(ctx)
    task = the_task(ctx, case.id)
    assert task.sla_status == "breached"
    [breach] = history(ctx, case.id, "sla_breached")
    assert breach["element_id"] == "review" and breach["at"] == "2026-01-12T16:00:00Z"
    [escalation] = history(ctx, case.id, "escalated")
    assert escalation["payload"]["notified"] == ["mo"]  # the manager of the reviewers group
    clock.advance(hours=5)
    run_due_jobs(ctx)
    assert len(history(ctx, case.id, "sla_breached")) == 1


def test_completing_late_counts_as_breached_once(office, clock):
    ctx = office()
    case = instances.start(ctx, "sla_review")
    task = the_task(ctx, case.id)
    tasks.claim(ctx, task.id, "rita")
    clock.set(utc(2026, 1, 13, 10, 0))  # past due; no worker ran
    tasks.complete(ctx, task.id, "rita")
    run_due_jobs(ctx)
    assert [e["element_id"] for e in history(ctx, case.id, "sla_breached")] == ["review"]
    done = [t for t in instances.get_instance(ctx, case.id).tasks if t.element_id == "review"][0]
    assert done.sla_status == "breached"


def test_24x7_task_and_process_sla(office, clock):
    ctx = office()
    case = instances.start(ctx, "sla_review")
    review = the_task(ctx, case.id)
    tasks.claim(ctx, review.id, "rita")
    tasks.complete(ctx, review.id, "rita")
    confirm = the_task(ctx, case.id)
    assert iso(confirm.due_at) == "2026-01-09T17:00:00Z"  # one hour, around the clock
    clock.set(utc(2026, 1, 15, 16, 1))  # process SLA: 3 business days from Friday 16:00 = Wednesday 16:00
    run_due_jobs(ctx)
    breached = {e["element_id"] for e in history(ctx, case.id, "sla_breached")}
    assert breached == {"confirm", None}


def test_manager_override_applies_to_new_tasks(office):
    ctx = office()
    with pytest.raises(InvalidData, match="not a user task"):
        sla_targets.set_target(ctx, "sla_review", "PT4H", element_id="nope")
    with pytest.raises(PermissionDenied, match="rita may not set SLA targets"):
        sla_targets.set_target(ctx, "sla_review", "PT4H", element_id="review", user="rita")
    sla_targets.set_target(ctx, "sla_review", "PT4H", element_id="review", user="mo")
    case = instances.start(ctx, "sla_review")
    assert iso(the_task(ctx, case.id).due_at) == "2026-01-12T12:00:00Z"


def test_timers_fire_in_order_and_interrupt(office, clock):
    ctx = office()
    case = instances.start(ctx, "timer_flow", {"reminders": 0})
    assert tasks.list_tasks(ctx, instance_id=case.id) == []
    clock.advance(minutes=59)
    assert run_due_jobs(ctx)["timers"] == 0
    clock.advance(minutes=1)
    assert run_due_jobs(ctx)["timers"] == 1
    decide = the_task(ctx, case.id)
    assert decide.element_id == "decide"
    clock.advance(minutes=30)  # Friday 17:30: the reminder fires (non-interrupting)
    run_due_jobs(ctx)
    assert [t.element_id for t in tasks.list_tasks(ctx, instance_id=case.id)] == ["decide"]
    assert [e["element_id"] for e in history(ctx, case.id, "timer_fired")] == ["cooling_off", "reminder"]
    # Two business days from Friday 17:00 (decide became ready at 17:00): Tuesday 17:00.
    clock.set(utc(2026, 1, 13, 16, 59))
    run_due_jobs(ctx)
    assert the_task(ctx, case.id).element_id == "decide"
    clock.set(utc(2026, 1, 13, 17, 0))
    run_due_jobs(ctx)
    escalated = the_task(ctx, case.id)
    assert escalated.element_id == "escalated" and escalated.candidate_groups == ("managers",)
    detail = instances.get_instance(ctx, case.id)
    assert {t.element_id: t.status for t in detail.tasks}["decide"] == "cancelled"
    tasks.claim(ctx, escalated.id, "max")
    assert tasks.complete(ctx, escalated.id, "max").instance.status == "completed"


def test_timers_fire_late_after_downtime(office, clock):
    ctx = office()
    case = instances.start(ctx, "timer_flow", {"reminders": 0})
    clock.advance(days=30)  # the worker was down for a month
    assert run_due_jobs(ctx)["timers"] == 1
    [fired] = history(ctx, case.id, "timer_fired")
    assert fired["element_id"] == "cooling_off" and fired["at"] == "2026-02-08T16:00:00Z"
    assert the_task(ctx, case.id).element_id == "decide"
    assert run_due_jobs(ctx)["timers"] == 0  # fired once, not again


def test_periodic_process_starts_on_schedule(office, clock):
    ctx = office()
    assert run_due_jobs(ctx)["starts"] == 0
    clock.advance(days=7)
    assert run_due_jobs(ctx)["starts"] == 1
    [task] = tasks.list_tasks(ctx, group="reviewers")
    assert task.element_id == "send_survey"
    clock.advance(days=1)
    assert run_due_jobs(ctx)["starts"] == 0
    clock.advance(days=6)
    assert run_due_jobs(ctx)["starts"] == 1
    assert len(tasks.list_tasks(ctx, group="reviewers")) == 2


def test_breach_escalation_is_mailed_when_smtp_is_configured(office, clock):
    from aiosmtpd.controller import Controller

    from engine.services.mailer import SmtpMailer

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
            return "250 OK"

    ctx = office()
    users.add_user(ctx, "mona", "secret123", groups=["reviewers"], roles=["manager"], email="mona@bank.test")
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        ctx.mailer = SmtpMailer("127.0.0.1", port, sender="bankflow@bank.test")
        case = instances.start(ctx, "sla_review")
        clock.set(utc(2026, 1, 12, 16, 0))
        assert run_pass(ctx, "w")["emails"] == 1  # mo has no address; mona gets one mail
        [(recipients, content)] = inbox.messages
        assert recipients == ["mona@bank.test"] and "SLA breached: task 'Review request'" in content
        assert run_pass(ctx, "w")["emails"] == 0  # never twice
        assert [e["payload"]["notified"] for e in history(ctx, case.id, "escalated")] == [["mo", "mona"]]
    finally:
        server.stop()
