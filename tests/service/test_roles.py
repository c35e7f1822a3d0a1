"""Who may do what is decided in the services (docs/architecture.md §1.2), whichever entry point calls them."""
from __future__ import annotations

import pytest

from engine.errors import Conflict, PermissionDenied
from engine.services import calendars, deployments, instances, sla_targets, users
from engine.services.users import OPERATOR


@pytest.fixture
def bank(ctx):
    """A designer, a manager, an admin and two staff members, one of them a credit officer."""
    for name, groups, roles in (("dana", [], ["designer"]), ("mona", ["credit_managers"], ["manager"]),
                                ("ada", [], ["admin"]), ("olga", ["credit_officers"], ["staff"]),
                                ("sam", ["contact_centre"], ["staff"]), ("cara", [], ["staff"])):
        users.add_user(ctx, name, "secret123", groups, roles)
    return ctx


def deploy(ctx, fixture_path, name, user):
    return deployments.deploy(ctx, deployments.read_sources([fixture_path(name)]), user=user)


def test_staff_cannot_deploy_and_nothing_is_stored(bank, fixture_path):
    with pytest.raises(PermissionDenied, match="sam may not deploy processes: that needs the role designer or admin"):
        deploy(bank, fixture_path, "two_lane_review.bpmn", "sam")
    assert deployments.list_definitions(bank) == []


def test_a_designer_and_an_admin_can_deploy(bank, fixture_path):
    assert deploy(bank, fixture_path, "two_lane_review.bpmn", "dana").definitions[0].status == "new"
    assert deploy(bank, fixture_path, "sla_review.bpmn", "ada").definitions[0].status == "new"


def test_only_managers_and_admins_set_sla_targets(bank, fixture_path):
    deploy(bank, fixture_path, "two_lane_review.bpmn", None)
    with pytest.raises(PermissionDenied, match="olga may not set SLA targets"):
        sla_targets.set_target(bank, "loan_review", "P1D", user="olga")
    with pytest.raises(PermissionDenied, match="dana may not set SLA targets"):
        sla_targets.set_target(bank, "loan_review", "P1D", user="dana")
    assert sla_targets.set_target(bank, "loan_review", "P1D", user="mona").duration == "P1D"
    assert sla_targets.set_target(bank, "loan_review", "P2D", user="ada").duration == "P2D"


def test_only_managers_and_admins_load_calendars(bank):
    text = '[calendars.branch]\ntimezone = "Asia/Shanghai"\nhours = { mon = "09:00-17:00" }\n'
    with pytest.raises(PermissionDenied, match="sam may not load business calendars"):
        calendars.load_calendars(bank, text, "branch.toml", user="sam")
    assert "branch" not in [c.name for c in calendars.list_calendars(bank)]
    assert "branch" in [c.name for c in calendars.load_calendars(bank, text, "branch.toml", user="mona")]


def test_only_admins_add_users(bank):
    for who in ("olga", "mona", "dana"):
        with pytest.raises(PermissionDenied, match=f"{who} may not add users: that needs the role admin"):
            users.add_user(bank, "eve", "secret123", user=who)
    assert "eve" not in {u.name for u in users.list_users(bank)}
    assert users.add_user(bank, "eve", "secret123", user="ada").name == "eve"


def test_the_operator_name_is_reserved(bank):
    with pytest.raises(Exception, match=f"'{OPERATOR}' is reserved"):
        users.add_user(bank, OPERATOR, "secret123")


def test_starter_groups_and_users_decide_who_starts(bank, fixture_path):
    deploy(bank, fixture_path, "starter_groups.bpmn", "dana")
    [definition] = deployments.list_definitions(bank)
    assert definition.starter_groups == ("credit_officers", "branch_staff")
    assert definition.starter_users == ("cara",)
    with pytest.raises(PermissionDenied, match="sam may not start credit_limit_change: only credit_officers, "
                                               "branch_staff, cara may"):
        instances.start(bank, "credit_limit_change", user="sam")
    assert instances.start(bank, "credit_limit_change", user="olga").started_by == "olga"  # a group member
    assert instances.start(bank, "credit_limit_change", user="cara").started_by == "cara"  # a named user
    assert instances.start(bank, "credit_limit_change").started_by == OPERATOR


def test_a_process_without_starters_starts_for_anyone(bank, fixture_path):
    deploy(bank, fixture_path, "two_lane_review.bpmn", "dana")
    assert instances.start(bank, "loan_review", user="sam").status == "running"


def test_only_managers_and_admins_retry(bank, fixture_path):
    deploy(bank, fixture_path, "two_lane_review.bpmn", "dana")
    case = instances.start(bank, "loan_review", user="sam")
    with pytest.raises(PermissionDenied, match="sam may not retry cases"):
        instances.retry(bank, case.id, user="sam")


def test_the_operator_is_recorded_as_the_actor(bank, fixture_path):
    deploy(bank, fixture_path, "two_lane_review.bpmn", None)
    case = instances.start(bank, "loan_review")
    [started] = [e for e in instances.get_instance(bank, case.id).history if e.type == "instance_started"]
    assert started.actor == OPERATOR


def test_a_deactivated_version_starts_no_new_case(bank, fixture_path):
    deploy(bank, fixture_path, "two_lane_review.bpmn", "dana")
    running = instances.start(bank, "loan_review", user="sam")
    with pytest.raises(PermissionDenied, match="sam may not activate or deactivate processes"):
        deployments.set_active(bank, "loan_review", 1, False, user="sam")
    assert deployments.set_active(bank, "loan_review", 1, False, user="dana").active is False
    with pytest.raises(Conflict, match="process 'loan_review' has no active version"):
        instances.start(bank, "loan_review")
    with pytest.raises(Conflict, match="version 1 of process 'loan_review' is deactivated"):
        instances.start(bank, "loan_review", version=1)
    assert instances.get_instance(bank, running.id).status == "running"  # running cases go on
    deployments.set_active(bank, "loan_review", 1, True, user="dana")
    assert instances.start(bank, "loan_review").version == 1
