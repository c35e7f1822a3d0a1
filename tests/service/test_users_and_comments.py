"""Signing in checks the password the engine stored; comments on a case are appended with author and time."""
from __future__ import annotations

import pytest

from engine.errors import FieldProblem, InvalidData, NotFound
from engine.services import comments, deployments, instances, users


def test_authenticate_accepts_only_the_right_password(ctx):
    users.add_user(ctx, "olga", "correct-horse", ["credit_officers"], ["staff"], email="olga@bank.test")
    assert users.authenticate(ctx, "olga", "correct-horse") == {
        "name": "olga", "email": "olga@bank.test", "roles": ["staff"], "groups": ["credit_officers"],
        "disabled": False, "locale": None, "timezone": None}
    assert users.authenticate(ctx, "olga", "wrong-horse") is None
    assert users.authenticate(ctx, "nobody", "correct-horse") is None


def test_comments_are_appended_with_author_and_time(ctx, fixture_path, clock):
    users.add_user(ctx, "olga", "secret123", ["credit_officers"])
    users.add_user(ctx, "max", "secret123", ["credit_managers"])
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]))
    case = instances.start(ctx, "loan_review", user="olga")
    first = comments.add_comment(ctx, case["id"], "olga", "  Customer called about the rate.  ")
    clock.advance(minutes=5)
    comments.add_comment(ctx, case["id"], "max", "Rate is fixed for 30 days.")
    listed = comments.list_comments(ctx, case["id"])
    assert [(c["author"], c["body"]) for c in listed] == [("olga", "Customer called about the rate."),
                                                          ("max", "Rate is fixed for 30 days.")]
    assert listed[0] == first and listed[1]["at"] == "2026-01-05T09:05:00Z"
    assert [e["actor"] for e in instances.get_instance(ctx, case["id"])["history"]
            if e["type"] == "commented"] == ["olga", "max"]


def test_a_bad_comment_is_refused(ctx, fixture_path):
    users.add_user(ctx, "olga", "secret123", ["credit_officers"])
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]))
    case = instances.start(ctx, "loan_review", user="olga")
    with pytest.raises(InvalidData) as refused:
        comments.add_comment(ctx, case["id"], "olga", "   ")
    assert refused.value.field_problems == [FieldProblem("body", "must be 1 to 4000 characters")]
    with pytest.raises(NotFound, match="instance 999 does not exist"):
        comments.add_comment(ctx, 999, "olga", "hello")
    assert comments.list_comments(ctx, case["id"]) == []
