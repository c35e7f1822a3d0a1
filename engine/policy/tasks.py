"""Who may do what with a human task: pure rules over an actor, a task and the case's completions.

Each rule is written once, here: the services' guards raise the refusal `refusal` names, and the
task page's buttons show the actions `allowed_actions` gives, so a button is never offered for
an action the service would refuse. Nothing here reads the database; the caller passes the facts
(the task, and for the four-eyes rule who completed what in the case).
"""
from __future__ import annotations

from enum import StrEnum
from typing import Iterable, Protocol, Sequence

from engine.bpmn.elements import split_list
from engine.errors import BankflowError, Conflict, GroupName, Listing, Message, PermissionDenied
from engine.policy.roles import SUPERVISORS, WORKERS
from engine.records.tasks import TaskCompletion, TaskRecord
from engine.records.users import Actor
from engine.statuses import ACTIVE_TASK_STATUSES, TaskStatus


class Action(StrEnum):
    """What a person can do with a task."""

    CLAIM = "claim"
    UNCLAIM = "unclaim"
    ASSIGN = "assign"
    COMPLETE = "complete"


class Offered(Protocol):
    """What the candidate and four-eyes rules read of a task (a `TaskRecord`, or a row of a board)."""

    @property
    def id(self) -> int: ...
    @property
    def instance_id(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def candidate_groups(self) -> Sequence[str]: ...
    @property
    def candidate_users(self) -> Sequence[str]: ...
    @property
    def four_eyes_with(self) -> str | None: ...


def is_candidate(actor: Actor, task: Offered) -> bool:
    """A task with no candidates is open to all staff; otherwise the user or one of their groups is named."""
    if not task.candidate_users and not task.candidate_groups:
        return actor.has_role(*WORKERS)
    return actor.name in task.candidate_users or not actor.groups.isdisjoint(task.candidate_groups)


def may_see_task(actor: Actor, task: TaskRecord) -> bool:
    """Managers and admins see every task; others the tasks offered to them, theirs, and those they did."""
    return actor.has_role(*SUPERVISORS) or actor.name in (task.assignee, task.completed_by) or is_candidate(actor, task)


def four_eyes_violation(actor: Actor, task: Offered, completions: Iterable[TaskCompletion]) -> Message | None:
    """Why `actor` may not act on `task` under the four-eyes rule (they completed one of the elements it
    names in the same case), or None. `completions`: tasks completed in the case (others are ignored)."""
    if not task.four_eyes_with:
        return None
    guarded = set(split_list(task.four_eyes_with))
    done = next((c for c in completions if c.instance_id == task.instance_id and c.element_id in guarded
                 and c.completed_by == actor.name), None)
    if done is None:
        return None
    return Message("four-eyes rule: %(user)s completed '%(done)s' in this case and may not also act on '%(task)s'",
                   user=actor.name, done=done.name, task=task.name)


def offered_to(task: Offered) -> Message | Listing:
    """Whom a task is offered to, for refusals: its groups and users, or all staff."""
    parts = []
    if task.candidate_groups:
        parts.append(Message("groups: %(groups)s",
                             groups=Listing([GroupName(g) for g in task.candidate_groups], "list")))
    if task.candidate_users:
        parts.append(Message("users: %(users)s", users=Listing(task.candidate_users, "list")))
    return Listing(parts, "problems") if parts else Message("open to all staff")


def not_visible(actor: Actor, task: TaskRecord) -> PermissionDenied | None:
    """The refusal of showing `task` to `actor`, or None when they may see it."""
    if may_see_task(actor, task):
        return None
    return PermissionDenied("%(user)s may not see task %(id)s (%(offered)s)", user=actor.name, id=task.id,
                            offered=offered_to(task))


def ineligible(actor: Actor, task: Offered, *, four_eyes: Message | None) -> PermissionDenied | None:
    """Why `actor` may not hold `task` (claim it, or be handed it), or None: they must be a candidate,
    and the four-eyes rule (`four_eyes`, from `four_eyes_violation`) must not hold them back."""
    if not is_candidate(actor, task):
        return PermissionDenied("%(user)s is not a candidate for task %(id)s (%(offered)s)", user=actor.name,
                                id=task.id, offered=offered_to(task))
    return PermissionDenied(four_eyes) if four_eyes else None


def _finished(task: TaskRecord) -> Conflict | None:
    if task.status == TaskStatus.COMPLETED:
        return Conflict("task %(id)s was already completed by %(user)s", id=task.id, user=task.completed_by)
    if task.status == TaskStatus.CANCELLED:
        return Conflict("task %(id)s was cancelled (the process moved on without it)", id=task.id)
    return None


def refusal(action: Action, actor: Actor, task: TaskRecord, *, four_eyes: Message | None) -> BankflowError | None:
    """Why `actor` may not take `action` on `task` (a Conflict when the task's state is in the way, else
    PermissionDenied), or None when they may. `four_eyes`: `four_eyes_violation` for `actor`.

    claim: an open task, by a candidate; unclaim: a claimed task, by its holder, a manager or an admin;
    assign: an open or claimed task, by a manager, an admin or its holder (to whom: `ineligible`);
    complete: by its holder."""
    finished = _finished(task)
    if finished:
        return finished
    if action == Action.CLAIM:
        if task.status == TaskStatus.CLAIMED:
            return Conflict("task %(id)s is already claimed by %(user)s", id=task.id, user=task.assignee)
        return ineligible(actor, task, four_eyes=four_eyes)
    if action == Action.UNCLAIM:
        if task.status != TaskStatus.CLAIMED:
            return Conflict("task %(id)s is not claimed", id=task.id)
        if task.assignee != actor.name and not actor.has_role(*SUPERVISORS):
            return PermissionDenied("only %(user)s or a manager can release task %(id)s", user=task.assignee,
                                    id=task.id)
        return None
    if action == Action.ASSIGN:
        if not (actor.has_role(*SUPERVISORS) or task.assignee == actor.name):
            return PermissionDenied("%(user)s may not assign task %(id)s: only a manager, an admin or the current "
                                    "assignee can", user=actor.name, id=task.id)
        return None
    if task.assignee != actor.name:  # Action.COMPLETE
        if task.assignee:
            return PermissionDenied("%(user)s cannot complete task %(id)s: it is claimed by %(assignee)s",
                                    user=actor.name, id=task.id, assignee=task.assignee)
        return PermissionDenied("%(user)s cannot complete task %(id)s: it is not claimed; claim it first",
                                user=actor.name, id=task.id)
    return PermissionDenied(four_eyes) if four_eyes else None


def require(action: Action, actor: Actor, task: TaskRecord, *, four_eyes: Message | None) -> None:
    """Raise the refusal of `action`, if any (see `refusal`)."""
    refused = refusal(action, actor, task, four_eyes=four_eyes)
    if refused:
        raise refused


def allowed_actions(actor: Actor, task: TaskRecord, *, four_eyes: Message | None) -> frozenset[Action]:
    """The actions `actor` may take on `task` now: those `refusal` does not refuse."""
    return frozenset(action for action in Action if refusal(action, actor, task, four_eyes=four_eyes) is None)


def next_task(actor: Actor, tasks: Iterable[TaskRecord], completions: Iterable[TaskCompletion]) -> int | None:
    """The id of the task of a case `actor` should work on next: one they hold, else one they may claim
    (the four-eyes rule respected), oldest first; None when the case has nothing for them."""
    done = list(completions)
    waiting = [t for t in tasks if t.status in ACTIVE_TASK_STATUSES]
    for task in sorted(waiting, key=lambda t: (t.assignee != actor.name, t.created_at, t.id)):
        if task.assignee == actor.name or refusal(
                Action.CLAIM, actor, task, four_eyes=four_eyes_violation(actor, task, done)) is None:
            return task.id
    return None
