"""The rules of who may do what (engine.policy), on plain records: no database, no engine."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from engine.errors import Conflict, PermissionDenied
from engine.policy.cases import CaseFacts, may_see_case
from engine.policy.tasks import (
    Action, allowed_actions, four_eyes_violation, ineligible, is_candidate, may_see_task, next_task, not_visible,
    refusal)
from engine.records.tasks import TaskCompletion, TaskRecord
from engine.records.users import Actor
from engine.statuses import TaskStatus

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
EVERY_ACTION = frozenset(Action)


def person(name: str, *groups: str, roles: tuple[str, ...] = ("staff",)) -> Actor:
    return Actor(name=name, roles=frozenset(roles), groups=frozenset(groups))


OLGA = person("olga", "credit_officers")
OLEG = person("oleg", "credit_officers")
MAX = person("max", "credit_managers")
MONA = person("mona", "credit_managers", roles=("manager",))
ADA = person("ada", roles=("admin",))
DANA = person("dana", roles=("designer",))


def task(id: int = 1, *, groups: tuple[str, ...] = ("credit_officers",), users: tuple[str, ...] = (),
         status: TaskStatus = TaskStatus.OPEN, assignee: str | None = None, completed_by: str | None = None,
         four_eyes_with: str | None = None, element_id: str = "check", instance_id: int = 7,
         created_at: datetime = NOW) -> TaskRecord:
    return TaskRecord(
        id=id, instance_id=instance_id, spiff_task_id=f"spiff-{id}", element_id=element_id, name=element_id.title(),
        lane=None, candidate_groups=groups, candidate_users=users, assignee=assignee, status=status, priority=50,
        created_at=created_at, claimed_at=NOW if assignee else None, completed_at=None, completed_by=completed_by,
        due_at=None, sla_status=None, sla_calendar=None, form=[], data=None, four_eyes_with=four_eyes_with,
        lock_version=1)


def claimed(by: str, **kwargs) -> TaskRecord:
    return task(status=TaskStatus.CLAIMED, assignee=by, **kwargs)


def done(element_id: str, by: str, instance_id: int = 7) -> TaskCompletion:
    return TaskCompletion(instance_id=instance_id, element_id=element_id, name=element_id.title(), completed_by=by)


# --- candidates ---------------------------------------------------------------------------------------


def test_a_task_offered_to_a_group_is_for_its_members():
    assert is_candidate(OLGA, task()) and not is_candidate(MAX, task())


def test_a_task_offered_to_a_user_is_for_that_user_beside_the_groups():
    offered = task(groups=("credit_managers",), users=("olga",))
    assert is_candidate(OLGA, offered) and is_candidate(MAX, offered) and not is_candidate(OLEG, offered)


def test_a_task_offered_to_nobody_is_open_to_all_staff_and_admins_only():
    anyone = task(groups=())
    assert is_candidate(OLGA, anyone) and is_candidate(MAX, anyone) and is_candidate(ADA, anyone)
    assert not is_candidate(MONA, anyone) and not is_candidate(DANA, anyone)  # managers and designers: no


def test_managers_and_admins_are_candidates_only_where_offered():
    assert not is_candidate(MONA, task()) and not is_candidate(ADA, task())
    assert is_candidate(MONA, task(groups=("credit_managers",)))


# --- seeing a task and a case -------------------------------------------------------------------------


def test_who_sees_a_task():
    assert may_see_task(OLGA, task()) and not may_see_task(MAX, task())
    assert may_see_task(MONA, task()) and may_see_task(ADA, task())  # managers and admins see every task
    assert may_see_task(MAX, claimed("max"))  # the holder, even if it is not offered to them
    assert may_see_task(MAX, task(status=TaskStatus.COMPLETED, completed_by="max"))  # who did it
    refused = not_visible(MAX, task())
    assert isinstance(refused, PermissionDenied) and "max may not see task 1 (groups: credit_officers)" in str(refused)
    assert not_visible(OLGA, task()) is None


def test_who_sees_a_case():
    case = CaseFacts(started_by="olga", workers=frozenset({"oleg"}))
    assert may_see_case(OLGA, case) and may_see_case(OLEG, case)  # started it; worked on it
    assert not may_see_case(MAX, case)
    assert may_see_case(MONA, case) and may_see_case(ADA, case)  # managers and admins see every case
    assert not may_see_case(DANA, CaseFacts(started_by=None, workers=frozenset()))


# --- the four-eyes rule -------------------------------------------------------------------------------


def test_four_eyes_holds_back_who_completed_a_named_element_in_the_same_case():
    check = task(four_eyes_with="prepare, review")
    said = four_eyes_violation(OLGA, check, [done("prepare", "olga")])
    assert said == "four-eyes rule: olga completed 'Prepare' in this case and may not also act on 'Check'"
    assert four_eyes_violation(OLEG, check, [done("prepare", "olga")]) is None  # someone else
    assert four_eyes_violation(OLGA, check, [done("prepare", "olga", instance_id=8)]) is None  # another case
    assert four_eyes_violation(OLGA, check, [done("capture", "olga")]) is None  # an element it does not name
    assert four_eyes_violation(OLGA, task(), [done("prepare", "olga")]) is None  # a task without the rule


def test_four_eyes_refuses_claiming_being_assigned_and_completing_but_not_giving_back():
    check = task(four_eyes_with="prepare")
    blocked = four_eyes_violation(OLGA, check, [done("prepare", "olga")])
    assert isinstance(refusal(Action.CLAIM, OLGA, check, four_eyes=blocked), PermissionDenied)
    assert isinstance(ineligible(OLGA, check, four_eyes=blocked), PermissionDenied)
    held = claimed("olga", four_eyes_with="prepare")
    assert isinstance(refusal(Action.COMPLETE, OLGA, held, four_eyes=blocked), PermissionDenied)
    assert allowed_actions(OLGA, held, four_eyes=blocked) == {Action.UNCLAIM, Action.ASSIGN}


# --- the actions --------------------------------------------------------------------------------------


def test_candidates_claim_an_open_task_others_may_not():
    assert allowed_actions(OLGA, task(), four_eyes=None) == {Action.CLAIM}
    assert allowed_actions(MAX, task(), four_eyes=None) == frozenset()
    refused = refusal(Action.CLAIM, MAX, task(), four_eyes=None)
    assert isinstance(refused, PermissionDenied) and "max is not a candidate for task 1" in str(refused)


def test_the_holder_completes_gives_back_and_hands_over():
    assert allowed_actions(OLGA, claimed("olga"), four_eyes=None) == {Action.COMPLETE, Action.UNCLAIM, Action.ASSIGN}
    refused = refusal(Action.CLAIM, OLEG, claimed("olga"), four_eyes=None)
    assert isinstance(refused, Conflict) and "already claimed by olga" in str(refused)
    refused = refusal(Action.COMPLETE, OLEG, claimed("olga"), four_eyes=None)
    assert isinstance(refused, PermissionDenied) and "it is claimed by olga" in str(refused)
    refused = refusal(Action.COMPLETE, OLGA, task(), four_eyes=None)
    assert isinstance(refused, PermissionDenied) and "it is not claimed; claim it first" in str(refused)
    refused = refusal(Action.UNCLAIM, OLEG, claimed("olga"), four_eyes=None)
    assert isinstance(refused, PermissionDenied) and "only olga or a manager can release task 1" in str(refused)
    refused = refusal(Action.UNCLAIM, OLGA, task(), four_eyes=None)
    assert isinstance(refused, Conflict) and "is not claimed" in str(refused)


def test_managers_and_admins_give_back_and_hand_over_any_task_but_complete_only_their_own():
    for supervisor in (MONA, ADA):
        assert allowed_actions(supervisor, claimed("olga"), four_eyes=None) == {Action.UNCLAIM, Action.ASSIGN}
        assert allowed_actions(supervisor, task(), four_eyes=None) == {Action.ASSIGN}
    refused = refusal(Action.ASSIGN, OLEG, claimed("olga"), four_eyes=None)
    assert isinstance(refused, PermissionDenied) and "only a manager, an admin or the current assignee" in str(refused)


def test_a_task_handed_over_goes_only_to_a_candidate():
    refused = ineligible(MAX, task(), four_eyes=None)
    assert isinstance(refused, PermissionDenied) and "(groups: credit_officers)" in str(refused)
    assert ineligible(OLEG, task(), four_eyes=None) is None


@pytest.mark.parametrize("status, words", [(TaskStatus.COMPLETED, "was already completed by olga"),
                                           (TaskStatus.CANCELLED, "was cancelled")])
def test_nothing_may_be_done_with_a_completed_or_cancelled_task(status, words):
    finished = task(status=status, assignee="olga", completed_by="olga" if status == TaskStatus.COMPLETED else None)
    for actor in (OLGA, MONA, ADA):
        assert allowed_actions(actor, finished, four_eyes=None) == frozenset()
        for action in EVERY_ACTION:
            refused = refusal(action, actor, finished, four_eyes=None)
            assert isinstance(refused, Conflict) and words in str(refused)


# --- where to go next ---------------------------------------------------------------------------------


def test_the_next_task_is_the_one_held_else_the_oldest_one_to_claim():
    older = task(1, created_at=NOW)
    newer = task(2, created_at=NOW.replace(hour=10))
    assert next_task(OLGA, [newer, older], []) == 1
    assert next_task(OLGA, [older, replace(newer, status=TaskStatus.CLAIMED, assignee="olga")], []) == 2
    assert next_task(OLGA, [replace(older, status=TaskStatus.COMPLETED, completed_by="olga")], []) is None
    assert next_task(MAX, [older, newer], []) is None  # nothing for them


def test_the_next_task_respects_the_four_eyes_rule():
    check = task(3, four_eyes_with="prepare")
    assert next_task(OLGA, [check], [done("prepare", "olga")]) is None
    assert next_task(OLEG, [check], [done("prepare", "olga")]) == 3
