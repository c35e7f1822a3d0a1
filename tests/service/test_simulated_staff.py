"""People the simulator makes up stay out of the bank's lists, and whom a task can be handed to: its
candidates who are real, enabled and not held back by the four-eyes rule, each with the work they hold."""
from __future__ import annotations

import pytest

from engine.records.tasks import TaskRecord
from engine.services import deployments, instances, simulation, tasks, users
from engine.services.unit_of_work import unit_of_work
from engine.services.worker import run_connectors
from engine.connectors import default_registry


@pytest.fixture
def loans(ctx, staff, fixture_path):
    """loan_review (capture by credit_officers) with olga and oleg, and a made-up third officer."""
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]))
    users.add_user(ctx, "sim_credit_officers_3", "secret123", ["credit_officers"], simulated=True)
    return ctx


def capture_task(ctx, key: str) -> TaskRecord:
    case = instances.start(ctx, "loan_review", business_key=key, user="olga")
    [task] = tasks.list_tasks(ctx, instance_id=case.id)
    return task


def candidates(ctx, task_id: int) -> list[tasks.Candidate]:
    with unit_of_work(ctx, read_only=True) as uow:
        return tasks.handover_candidates(uow, [uow.tasks.get(task_id)])[task_id]


def test_simulated_staff_work_but_are_not_listed_and_cannot_sign_in(loans):
    task = capture_task(loans, "L-1")
    tasks.claim(loans, task.id, "sim_credit_officers_3")  # they work like anyone
    assert "sim_credit_officers_3" not in {u.name for u in users.list_users(loans)}
    assert "sim_credit_officers_3" in {u.name for u in users.list_users(loans, include_simulated=True)}
    assert users.sign_in(loans, "sim_credit_officers_3", "secret123") is None
    admin = users.administration(loans)
    assert "sim_credit_officers_3" not in {u.name for u in admin.users} and admin.simulated == 1
    assert {g.name: g.members for g in admin.groups}["credit_officers"] == 2


def test_the_simulators_people_hand_their_tasks_back_when_it_ends(loans):
    theirs, olgas = capture_task(loans, "L-1"), capture_task(loans, "L-2")
    tasks.claim(loans, theirs.id, "sim_credit_officers_3")
    tasks.claim(loans, olgas.id, "olga")
    simulation.hand_back_simulated_work(loans)
    [back] = tasks.list_tasks(loans, instance_id=theirs.instance_id)
    assert (back.status, back.assignee) == ("open", None)
    assert tasks.list_tasks(loans, instance_id=olgas.instance_id)[0].assignee == "olga"
    history = instances.get_instance(loans, theirs.instance_id).history
    assert [(e.type, e.actor) for e in history][-1] == ("task_unclaimed", "sim_credit_officers_3")


def test_a_task_is_handed_to_its_real_candidates_least_busy_first_its_holder_left_out(loans):
    first, second, third = (capture_task(loans, f"L-{n}") for n in range(3))
    tasks.claim(loans, first.id, "olga")
    tasks.claim(loans, second.id, "olga")
    assert candidates(loans, third.id) == [tasks.Candidate("oleg", 0), tasks.Candidate("olga", 2)]
    assert candidates(loans, first.id) == [tasks.Candidate("oleg", 0)]
    users.update_user(loans, "oleg", None, disabled=True)
    assert candidates(loans, first.id) == []


def test_the_four_eyes_rule_keeps_the_preparer_off_the_hand_over_list(ctx, staff, fixture_path):
    deployments.deploy(ctx, deployments.read_sources([fixture_path("kyc_four_eyes.bpmn")]))
    case = instances.start(ctx, "kyc_account", user="ann")
    [prepare] = tasks.list_tasks(ctx, instance_id=case.id)
    tasks.claim(ctx, prepare.id, "ann")
    tasks.complete(ctx, prepare.id, "ann", {"customer_name": "Grace Hopper"})
    run_connectors(ctx, default_registry(), "w1")
    [approve] = tasks.list_tasks(ctx, instance_id=case.id)
    assert [c.name for c in candidates(ctx, approve.id)] == ["ben"]
    tasks.assign(ctx, approve.id, "mia", "ben")  # the one offered is one the rule lets act
