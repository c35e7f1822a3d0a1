"""Signing in checks the password the engine stored; comments on a case are appended with author and time."""
from __future__ import annotations

import pytest

from engine.errors import FieldProblem, InvalidData, NotFound
from engine.services import comments, deployments, instances, users
from engine.json_shapes import iso, user_view
from tests.helpers.statements import counting


def test_authenticate_accepts_only_the_right_password(ctx):
    users.add_user(ctx, "olga", "correct-horse", ["credit_officers"], ["staff"], email="olga@bank.test")
    assert user_view(users.authenticate(ctx, "olga", "correct-horse")) == {
        "name": "olga", "email": "olga@bank.test", "roles": ["staff"], "groups": ["credit_officers"],
        "disabled": False, "locale": None, "timezone": None}
    assert users.authenticate(ctx, "olga", "wrong-horse") is None
    assert users.authenticate(ctx, "nobody", "correct-horse") is None


def test_listing_users_costs_the_same_statements_whatever_their_number(ctx):
    """Users come with their groups in the same statement (before issue #21: one more statement per user)."""
    users.add_user(ctx, "ada", "secret123", roles=["admin"])
    costs = []
    for count in (3, 30):
        while len(users.list_users(ctx)) < count:
            n = len(users.list_users(ctx))
            users.add_user(ctx, f"user{n:02}", "secret123", [f"group{n % 4}", "everyone"])
        with counting(ctx) as listing:
            found = users.list_users(ctx)
        with counting(ctx) as administering:
            admin = users.administration(ctx, "ada")
        assert [u.name for u in found] == [u.name for u in admin.users] == ["ada"] + [f"user{n:02}"
                                                                                      for n in range(1, count)]
        costs.append((len(listing), len(administering)))
    assert found[5].groups == ("everyone", "group1")  # by name
    assert {g.name: g.members for g in admin.groups} == {"everyone": 29, "group0": 7, "group1": 8, "group2": 7,
                                                         "group3": 7}
    # Listing: the users joined to their groups. Administering: the admin, that listing, the groups with
    # their members counted, the simulated staff counted. Before: 1 + 30 and 5 + 30 statements for 30 users.
    assert costs == [(1, 4), (1, 4)]


def test_comments_are_appended_with_author_and_time(ctx, fixture_path, clock):
    users.add_user(ctx, "olga", "secret123", ["credit_officers"])
    users.add_user(ctx, "max", "secret123", ["credit_managers"], ["manager"])  # managers see every case
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]))
    case = instances.start(ctx, "loan_review", user="olga")
    first = comments.add_comment(ctx, case.id, "olga", "  Customer called about the rate.  ")
    clock.advance(minutes=5)
    comments.add_comment(ctx, case.id, "max", "Rate is fixed for 30 days.")
    listed = comments.list_comments(ctx, case.id)
    assert [(c.author, c.body) for c in listed] == [("olga", "Customer called about the rate."),
                                                          ("max", "Rate is fixed for 30 days.")]
    assert listed[0] == first and iso(listed[1].at) == "2026-01-05T09:05:00Z"
    assert [e.actor for e in instances.get_instance(ctx, case.id).history
            if e.type == "commented"] == ["olga", "max"]


def test_a_bad_comment_is_refused(ctx, fixture_path):
    users.add_user(ctx, "olga", "secret123", ["credit_officers"])
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]))
    case = instances.start(ctx, "loan_review", user="olga")
    with pytest.raises(InvalidData) as refused:
        comments.add_comment(ctx, case.id, "olga", "   ")
    assert refused.value.field_problems == [FieldProblem("body", "must be 1 to 4000 characters")]
    with pytest.raises(NotFound, match="instance 999 does not exist"):
        comments.add_comment(ctx, 999, "olga", "hello")
    assert comments.list_comments(ctx, case.id) == []


def test_only_who_may_see_a_case_comments_on_it(ctx, fixture_path):
    """Staff see the cases they started or worked on; to anyone else a case does not exist."""
    users.add_user(ctx, "olga", "secret123", ["credit_officers"])
    users.add_user(ctx, "max", "secret123", ["credit_managers"])
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]))
    case = instances.start(ctx, "loan_review", user="olga")
    with pytest.raises(NotFound, match=f"instance {case.id} does not exist"):
        comments.add_comment(ctx, case.id, "max", "Rate is fixed for 30 days.")
    assert comments.list_comments(ctx, case.id) == []
