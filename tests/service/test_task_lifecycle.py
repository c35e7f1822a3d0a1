"""The core flow through the service layer: deploy, start, claim, complete, history."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.services import deployments, instances, tasks
from engine.errors import Conflict, InvalidData, NotFound, PermissionDenied


@pytest.fixture
def review(ctx, staff, fixture_path):
    """loan_review, with olga and oleg (credit officers) and max and mia (credit managers, mia a manager)."""
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]), user=None)
    return ctx


def only_task(ctx, instance_id, **filters):
    found = tasks.list_tasks(ctx, instance_id=instance_id, **filters)
    assert len(found) == 1, found
    return found[0]


def test_manual_path_runs_to_completion_with_history(review, clock):
    ctx = review
    started = instances.start(ctx, "loan_review", business_key="L-1", user="olga")
    assert started.status == "running" and started.version == 1
    capture = only_task(ctx, started.id)
    assert capture.element_id == "capture"
    assert capture.lane == "credit_officers" and capture.candidate_groups == ("credit_officers",)
    assert [f["id"] for f in capture.form] == ["amount", "score", "purpose"]

    clock.advance(minutes=5)
    tasks.claim(ctx, capture.id, "olga")
    clock.advance(minutes=10)
    tasks.complete(ctx, capture.id, "olga", {"amount": 50000, "score": 700, "purpose": "home"})

    approve = only_task(ctx, started.id)
    assert approve.element_id == "approve" and approve.candidate_groups == ("credit_managers",)
    tasks.claim(ctx, approve.id, "max")
    result = tasks.complete(ctx, approve.id, "max", {"approved": True, "comment": "ok"})
    assert result.instance.status == "completed"

    detail = instances.get_instance(ctx, started.id)
    assert detail.status == "completed"
    assert detail.variables == {"amount": 50000, "score": 700, "purpose": "home", "risk": "low",
                                   "approved": True, "comment": "ok"}
    who_did_what = [(e.type, e.element_id, e.actor) for e in detail.history]
    assert who_did_what == [
        ("instance_started", None, "olga"),
        ("task_created", "capture", None),
        ("task_claimed", "capture", "olga"),
        ("task_completed", "capture", "olga"),
        ("task_created", "approve", None),
        ("task_claimed", "approve", "max"),
        ("task_completed", "approve", "max"),
        ("instance_completed", None, "max"),
    ]
    done = {t.element_id: t for t in detail.tasks}
    assert done["capture"].completed_by == "olga" and done["approve"].completed_by == "max"


def test_default_flow_skips_approval(review):
    ctx = review
    started = instances.start(ctx, "loan_review", user="olga")
    capture = only_task(ctx, started.id)
    tasks.claim(ctx, capture.id, "oleg")
    result = tasks.complete(ctx, capture.id, "oleg", {"amount": 5000, "score": 720})
    assert result.instance.status == "completed"
    assert instances.get_instance(ctx, started.id).variables["approved"] is True


def test_activity_history_records_each_node(review, clock):
    from sqlalchemy import select
    from engine.store.models import Activity

    ctx = review
    started = instances.start(ctx, "loan_review", user="olga")
    capture = only_task(ctx, started.id)
    tasks.claim(ctx, capture.id, "olga")
    clock.advance(timedelta(minutes=30))
    tasks.complete(ctx, capture.id, "olga", {"amount": 5000, "score": 720})
    with ctx.database.session_factory() as session:
        rows = session.scalars(select(Activity).where(Activity.instance_id == started.id)
                               .order_by(Activity.id)).all()
    by_element = {r.element_id: r for r in rows}
    assert set(by_element) == {"start", "capture", "score", "route", "auto_approve", "join", "end"}
    assert all(r.ended_at is not None and r.state == "completed" for r in rows)
    assert by_element["capture"].ended_at - by_element["capture"].started_at == timedelta(minutes=30)
    assert by_element["capture"].element_type == "userTask"


def state_of(ctx, instance_id):
    detail = instances.get_instance(ctx, instance_id)
    return detail.status, detail.variables, [(t.id, t.status, t.assignee) for t in detail.tasks], \
        len(detail.history)


def test_non_candidate_cannot_claim_and_nothing_changes(review):
    ctx = review
    started = instances.start(ctx, "loan_review", user="olga")
    capture = only_task(ctx, started.id)
    before = state_of(ctx, started.id)
    with pytest.raises(PermissionDenied, match="max is not a candidate"):
        tasks.claim(ctx, capture.id, "max")
    assert state_of(ctx, started.id) == before


def test_non_assignee_cannot_complete_and_nothing_changes(review):
    ctx = review
    started = instances.start(ctx, "loan_review", user="olga")
    capture = only_task(ctx, started.id)
    with pytest.raises(PermissionDenied, match="not claimed"):
        tasks.complete(ctx, capture.id, "olga", {"amount": 1, "score": 1})
    tasks.claim(ctx, capture.id, "olga")
    before = state_of(ctx, started.id)
    with pytest.raises(PermissionDenied, match="claimed by olga"):
        tasks.complete(ctx, capture.id, "oleg", {"amount": 1, "score": 1})
    assert state_of(ctx, started.id) == before


def test_invalid_form_data_names_every_bad_field_and_changes_nothing(review):
    ctx = review
    started = instances.start(ctx, "loan_review", user="olga")
    capture = only_task(ctx, started.id)
    tasks.claim(ctx, capture.id, "olga")
    before = state_of(ctx, started.id)
    with pytest.raises(InvalidData) as caught:
        tasks.complete(ctx, capture.id, "olga", {"amount": 0, "purpose": "boat", "hack": "x"})
    problems = caught.value.problems()
    assert problems == [
        "hack: is not a field of this form (the form has amount, score, purpose)",
        "amount: must be at least 1",
        "score: is required",
        "purpose: must be one of home, car",
    ]
    assert state_of(ctx, started.id) == before


def test_claimed_task_cannot_be_claimed_by_another(review):
    ctx = review
    started = instances.start(ctx, "loan_review", user="olga")
    capture = only_task(ctx, started.id)
    tasks.claim(ctx, capture.id, "olga")
    with pytest.raises(Conflict, match="already claimed by olga"):
        tasks.claim(ctx, capture.id, "oleg")


def test_unclaim_and_assign_rules(review):
    ctx = review
    started = instances.start(ctx, "loan_review", user="olga")
    capture = only_task(ctx, started.id)
    with pytest.raises(PermissionDenied, match="only a manager"):
        tasks.assign(ctx, capture.id, "oleg", "olga")
    with pytest.raises(PermissionDenied, match="max is not a candidate"):
        tasks.assign(ctx, capture.id, "mia", "max")
    assigned = tasks.assign(ctx, capture.id, "mia", "olga")
    assert assigned.assignee == "olga" and assigned.status == "claimed"
    with pytest.raises(PermissionDenied):
        tasks.unclaim(ctx, capture.id, "oleg")
    reopened = tasks.unclaim(ctx, capture.id, "olga")
    assert reopened.status == "open" and reopened.assignee is None
    history = [e.type for e in instances.get_instance(ctx, started.id).history]
    assert history[-2:] == ["task_assigned", "task_unclaimed"]


def test_completed_task_cannot_be_completed_again(review):
    ctx = review
    started = instances.start(ctx, "loan_review", user="olga")
    capture = only_task(ctx, started.id)
    tasks.claim(ctx, capture.id, "olga")
    tasks.complete(ctx, capture.id, "olga", {"amount": 50000, "score": 700})
    with pytest.raises(Conflict, match="already completed by olga"):
        tasks.complete(ctx, capture.id, "olga", {"amount": 50000, "score": 700})


def test_work_lists_by_user_group_and_status(review):
    ctx = review
    first = instances.start(ctx, "loan_review", user="olga")
    second = instances.start(ctx, "loan_review", user="olga")
    assert len(tasks.list_tasks(ctx, user="olga")) == 2
    assert tasks.list_tasks(ctx, user="max") == []
    assert len(tasks.list_tasks(ctx, group="credit_officers")) == 2
    task = only_task(ctx, first.id)
    tasks.claim(ctx, task.id, "olga")
    assert [t.id for t in tasks.list_tasks(ctx, user="oleg")] == [only_task(ctx, second.id).id]
    assert [t.id for t in tasks.list_tasks(ctx, status="claimed")] == [task.id]
    assert len(tasks.list_tasks(ctx, limit=1)) == 1


def test_unknown_things_are_clear_errors(review):
    ctx = review
    with pytest.raises(NotFound, match="process 'nope' is not deployed; deployed processes: loan_review"):
        instances.start(ctx, "nope")
    with pytest.raises(NotFound, match="unknown user 'ghost'"):
        instances.start(ctx, "loan_review", user="ghost")
    with pytest.raises(NotFound, match="task 999 does not exist"):
        tasks.claim(ctx, 999, "olga")
    with pytest.raises(InvalidData, match="_secret"):
        instances.start(ctx, "loan_review", {"_secret": 1})


TYPED_FORM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="typed_defs" targetNamespace="http://bankflow.test">
  <bpmn:process id="typed" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="offer" name="Make offer">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="amount" type="decimal" />
        <camunda:formField id="valid_until" type="date" />
        <camunda:formField id="urgent" type="boolean" defaultValue="false" />
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="n" scriptFormat="python"><bpmn:incoming>b</bpmn:incoming><bpmn:outgoing>c</bpmn:outgoing>
      <bpmn:script>total = amount * 2
days_left = (valid_until - date(2026, 1, 1)).days</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="check" name="Check"><bpmn:incoming>c</bpmn:incoming><bpmn:outgoing>d</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>d</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="offer"/><bpmn:sequenceFlow id="b" sourceRef="offer" targetRef="n"/>
    <bpmn:sequenceFlow id="c" sourceRef="n" targetRef="check"/><bpmn:sequenceFlow id="d" sourceRef="check" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_decimal_and_date_values_survive_saves(ctx, staff):
    from decimal import Decimal

    from engine.bpmn.intake import SourceFile

    deployments.deploy(ctx, [SourceFile("typed.bpmn", TYPED_FORM)])
    case = instances.start(ctx, "typed", user="ann")
    offer = only_task(ctx, case.id)
    tasks.claim(ctx, offer.id, "ann")
    tasks.complete(ctx, offer.id, "ann", {"amount": "1250.10", "valid_until": "2026-01-31"})
    check = only_task(ctx, case.id)  # the state with Decimal and date was saved and restored
    tasks.claim(ctx, check.id, "ann")
    tasks.complete(ctx, check.id, "ann")
    variables = instances.get_instance(ctx, case.id).variables
    assert variables["total"] == str(Decimal("2500.20")) and variables["days_left"] == 30
    assert variables["valid_until"] == "2026-01-31" and variables["urgent"] is False
