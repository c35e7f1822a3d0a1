"""Work lists and the life of a human task: claim, unclaim, assign, complete.

Every action checks who acts with the rules of `engine.policy.tasks`: only candidates claim, only
the assignee completes, only managers, admins or the current assignee hand a task to someone else,
and only to a candidate. Refused actions change nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from engine.bpmn import forms
from engine.errors import N_, Code, Conflict, FieldProblem, InvalidData, Listing, Message, NotFound, codes
from engine.policy import tasks as policy
from engine.policy.cases import CaseFacts, may_see_case
from engine.policy.roles import SUPERVISORS, WORKERS
from engine.policy.tasks import Action
from engine.records.instances import CaseSummary, InstanceRecord
from engine.records.tasks import InboxRow, TaskCompletion, TaskRecord
from engine.records.users import Actor
from engine.runtime.runner import StepOutcome, TaskNotReady, complete_human_task
from engine.runtime.serializer import json_ready
from engine.services.case_data import CaseDatum, case_data
from engine.services.context import EngineContext
from engine.services.execution import advance, breached_on_completion, existing_case, record_breach, restore
from engine.services.unit_of_work import unit_of_work
from engine.services.users import load_actor
from engine.statuses import ACTIVE_TASK_STATUSES, SLA_STATUSES, TASK_STATUSES, InstanceStatus, SlaStatus, TaskStatus
from engine.store.unit_of_work import UnitOfWork

DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class Candidate:
    """Someone a task can be handed to, with how many tasks they hold now."""

    name: str
    holds: int


def handover_candidates(uow: UnitOfWork, tasks: Sequence[policy.Offered]) -> dict[int, list[Candidate]]:
    """For each task, the people it can be handed to, least busy first: enabled users of the bank
    (simulated staff never) who are candidates and whom the four-eyes rule does not hold back, its
    holder left out. A fixed number of statements."""
    people = uow.users.active_actors()
    holds = uow.tasks.held_per_user()
    done = uow.tasks.completions_in(sorted({t.instance_id for t in tasks if t.four_eyes_with}))
    return {task.id: sorted((Candidate(p.name, holds.get(p.name, 0)) for p in people
                             if p.name != task.assignee and not policy.ineligible(
                                 p, task, four_eyes=policy.four_eyes_violation(p, task, done))),
                            key=lambda c: (c.holds, c.name))
            for task in tasks}


def _task(uow: UnitOfWork, task_id: int, lock: bool = False) -> TaskRecord:
    """The task; `lock` takes its row lock (PostgreSQL): concurrent actions on one task queue there, so
    the second one sees the first one's result and gets a clear message instead of a lost update."""
    task = uow.tasks.get(task_id, lock=lock)
    if task is None:
        raise NotFound("task %(id)s does not exist", id=task_id)
    return task


def _completions(uow: UnitOfWork, task: TaskRecord) -> list[TaskCompletion]:
    """What the four-eyes rule of `task` reads: the completions in its case (none read if it has no rule)."""
    return uow.tasks.completions_in([task.instance_id]) if task.four_eyes_with else []


def _four_eyes(uow: UnitOfWork, actor: Actor, task: TaskRecord) -> Message | None:
    return policy.four_eyes_violation(actor, task, _completions(uow, task))


def list_tasks(ctx: EngineContext, user: str | None = None, group: str | None = None,
               instance_id: int | None = None, status: str | None = None,
               limit: int = DEFAULT_PAGE_SIZE, offset: int = 0) -> list[TaskRecord]:
    """Tasks by status (default: open and claimed), visible to `user`, offered to `group`, of an instance."""
    if status is not None and status not in TASK_STATUSES:
        raise InvalidData([FieldProblem("status", "must be one of %(values)s", values=codes(TASK_STATUSES))])
    with unit_of_work(ctx, read_only=True) as uow:
        actor = load_actor(uow, user) if user else None
        return uow.tasks.work_list(
            status=None if status is None else TaskStatus(status), instance_id=instance_id, group=group,
            user=actor.name if actor else None, groups=sorted(actor.groups) if actor else [],
            unrestricted_too=actor is not None and actor.has_role(*WORKERS), limit=limit, offset=offset)


def claim(ctx: EngineContext, task_id: int, user: str) -> TaskRecord:
    with unit_of_work(ctx) as uow:
        actor = load_actor(uow, user)
        task = _task(uow, task_id, lock=True)
        if task.status == TaskStatus.CLAIMED and task.assignee == actor.name:
            return task  # claimed already: nothing to do
        policy.require(Action.CLAIM, actor, task, four_eyes=_four_eyes(uow, actor, task))
        now = ctx.clock.now()
        task = uow.tasks.save(replace(task, status=TaskStatus.CLAIMED, assignee=actor.name, claimed_at=now))
        uow.history.record("task_claimed", now, instance_id=task.instance_id, task_id=task_id,
                           element_id=task.element_id, actor=actor.name)
        return task


def unclaim(ctx: EngineContext, task_id: int, user: str) -> TaskRecord:
    with unit_of_work(ctx) as uow:
        actor = load_actor(uow, user)
        task = _task(uow, task_id, lock=True)
        policy.require(Action.UNCLAIM, actor, task, four_eyes=None)
        now = ctx.clock.now()
        uow.history.record("task_unclaimed", now, instance_id=task.instance_id, task_id=task_id,
                           element_id=task.element_id, actor=actor.name, payload={"from": task.assignee})
        return uow.tasks.save(replace(task, status=TaskStatus.OPEN, assignee=None, claimed_at=None))


def assign(ctx: EngineContext, task_id: int, user: str, to: str) -> TaskRecord:
    """Hand a task to `to`; refused (PermissionDenied) when `user` may not see it, may not hand it over or
    `to` may not hold it."""
    with unit_of_work(ctx) as uow:
        actor = load_actor(uow, user)
        target = load_actor(uow, to)
        task = _task(uow, task_id, lock=True)
        hidden = policy.not_visible(actor, task)
        if hidden:
            raise hidden
        policy.require(Action.ASSIGN, actor, task, four_eyes=None)
        refused = policy.ineligible(target, task, four_eyes=_four_eyes(uow, target, task))
        if refused:
            raise refused
        now = ctx.clock.now()
        uow.history.record("task_assigned", now, instance_id=task.instance_id, task_id=task_id,
                           element_id=task.element_id, actor=actor.name, payload={"to": target.name})
        return uow.tasks.save(replace(task, status=TaskStatus.CLAIMED, assignee=target.name,
                                      claimed_at=task.claimed_at or now))


@dataclass(frozen=True, kw_only=True)
class Completion:
    """A completed task, the case it moved on, and where its user goes next: their next task in the case
    (one they hold, else one they may claim), or None."""

    task: TaskRecord
    instance: CaseSummary
    next_task_id: int | None


def complete(ctx: EngineContext, task_id: int, user: str, data: Mapping[str, Any] | None = None, *,
             form: Mapping[str, str] | None = None) -> Completion:
    """Complete a claimed task and run the process to its next wait state. The values are either `data`
    (field values by field id, as JSON gives them; a name the form does not declare is refused) or `form`,
    a submitted HTML form (its fields picked as the user typed them, anything else ignored)."""
    with unit_of_work(ctx) as uow:
        actor = load_actor(uow, user)
        task = _task(uow, task_id, lock=True)
        done = _completions(uow, task)
        policy.require(Action.COMPLETE, actor, task, four_eyes=policy.four_eyes_violation(actor, task, done))
        values = forms.validate(task.form, forms.submitted_values(task.form, form) if form is not None
                                else dict(data or {}))
        case = existing_case(ctx, uow, task.instance_id)
        instance = case.instance
        if instance.status != InstanceStatus.RUNNING:
            raise Conflict("instance %(id)s is %(status)s; the task cannot be completed now", id=instance.id,
                           status=Code(instance.status))
        restore(ctx, case)
        outcome = StepOutcome()
        try:
            outcome.completed.append(complete_human_task(case.workflow, task.spiff_task_id, values))
        except TaskNotReady:
            raise Conflict("task %(id)s is no longer waiting in instance %(instance)s", id=task_id,
                           instance=instance.id) from None
        now = ctx.clock.now()
        sla_status = task.sla_status
        if task.due_at is not None and breached_on_completion(task.due_at, sla_status, now):
            sla_status = SlaStatus.BREACHED
            record_breach(uow, now, instance.id, task.due_at, task_id, task.element_id)
        if task.due_at is not None:  # only tasks with an SLA have checks scheduled
            uow.jobs.delete_of_tasks([task_id])
        task = uow.tasks.save(replace(task, status=TaskStatus.COMPLETED, completed_at=now, completed_by=actor.name,
                                      data=json_ready(values), sla_status=sla_status))
        uow.history.record("task_completed", now, instance_id=instance.id, task_id=task_id,
                           element_id=task.element_id, actor=actor.name, payload={"data": task.data})
        advance(ctx, uow, case, outcome, actor.name)
        known = done + [TaskCompletion(instance_id=instance.id, element_id=task.element_id, name=task.name,
                                       completed_by=actor.name)] if task.four_eyes_with else None
        return Completion(task=task, instance=case.summary(), next_task_id=_next_task(uow, actor, instance.id, known))


def _next_task(uow: UnitOfWork, actor: Actor, instance_id: int, done: list[TaskCompletion] | None) -> int | None:
    """`policy.next_task` in a case; `done`: its completions if already known, else read when a task needs them."""
    tasks = [t for t in uow.tasks.of_instance(instance_id) if t.status in ACTIVE_TASK_STATUSES]
    if done is None:
        done = uow.tasks.completions_in([instance_id]) if any(t.four_eyes_with for t in tasks) else []
    return policy.next_task(actor, tasks, done)


def next_task_for(ctx: EngineContext, instance_id: int, user: str) -> int | None:
    """The case's task `user` should work on next (`policy.next_task`); None when the case has nothing for
    them. The web app takes them there after they start a case."""
    with unit_of_work(ctx, read_only=True) as uow:
        return _next_task(uow, load_actor(uow, user), instance_id, None)


INBOX_VIEWS = ("mine", "group")


@dataclass(frozen=True, kw_only=True)
class InboxList:
    """One list of the inbox: a page of its tasks, soonest due first, and how many there are in all."""

    tasks: list[InboxRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, kw_only=True)
class Inbox:
    """A user's inbox on one page: the tasks they hold (`mine`) and the open tasks they may claim
    (`group`: offered to them, their groups or, for staff, everyone). `supervisor`: a manager or admin,
    who also has the boards; `in_groups`: whether the user belongs to any group."""

    mine: InboxList
    group: InboxList
    supervisor: bool
    in_groups: bool


def inbox(ctx: EngineContext, user: str, view: str = "mine", process: str | None = None,
          priority: int | None = None, sla_status: str | None = None, page: int = 1,
          page_size: int = 20) -> Inbox:
    """Both lists of a user's inbox, filtered alike; `page` is the page of the list `view` names, the
    other list shows its first page."""
    problems = []
    if view not in INBOX_VIEWS:
        problems.append(FieldProblem("view", "must be one of %(values)s", values=Listing(INBOX_VIEWS, "list")))
    if sla_status is not None and sla_status not in SLA_STATUSES:
        problems.append(FieldProblem("sla", "must be one of %(values)s", values=Listing(SLA_STATUSES, "list")))
    if problems:
        raise InvalidData(problems, summary=N_("invalid inbox filter"))
    page, page_size = max(page, 1), min(max(page_size, 1), 200)
    with unit_of_work(ctx, read_only=True) as uow:
        actor = load_actor(uow, user)
        lists = {}
        for name in INBOX_VIEWS:
            number = page if name == view else 1
            rows, total = uow.tasks.inbox_page(
                mine=name == "mine", user=actor.name, groups=sorted(actor.groups),
                unrestricted_too=actor.has_role(*WORKERS), process=process, priority=priority,
                sla_status=sla_status, limit=page_size, offset=(number - 1) * page_size)
            lists[name] = InboxList(tasks=rows, total=total, page=number, pages=max(1, -(-total // page_size)))
    return Inbox(mine=lists["mine"], group=lists["group"], supervisor=actor.has_role(*SUPERVISORS),
                 in_groups=bool(actor.groups))


def _may_open_case(uow: UnitOfWork, actor: Actor, instance: InstanceRecord) -> bool:
    return may_see_case(actor, CaseFacts(started_by=instance.started_by, workers=uow.tasks.workers_of(instance.id)))


@dataclass(frozen=True, kw_only=True)
class TaskDetail:
    """What the task page shows: the task, its case (`instance`, `variables`, `case_data`), its
    documentation, the actions `user` may take (`actions`) and whether they may open its case yet, the
    four-eyes rule holding them back (or None) and the names of everyone who may hold the task."""

    task: TaskRecord
    instance: CaseSummary
    variables: dict[str, Any]
    case_data: list[CaseDatum]
    documentation: str | None
    actions: frozenset[Action]
    may_open_case: bool
    four_eyes: Message | None
    candidates: list[str]

    @property
    def may_claim(self) -> bool:
        return Action.CLAIM in self.actions

    @property
    def may_unclaim(self) -> bool:
        return Action.UNCLAIM in self.actions

    @property
    def may_assign(self) -> bool:
        return Action.ASSIGN in self.actions

    @property
    def may_complete(self) -> bool:
        return Action.COMPLETE in self.actions


def task_detail(ctx: EngineContext, task_id: int, user: str) -> TaskDetail:
    """What the task page shows (`TaskDetail`). Refused (PermissionDenied) when the task is not for `user`."""
    with unit_of_work(ctx, read_only=True) as uow:
        actor = load_actor(uow, user)
        task = _task(uow, task_id)
        hidden = policy.not_visible(actor, task)
        if hidden:
            raise hidden
        case = existing_case(ctx, uow, task.instance_id)
        blocked = _four_eyes(uow, actor, task) if task.status in ACTIVE_TASK_STATUSES else None
        return TaskDetail(
            task=task, instance=case.summary(), variables=case.instance.variables,
            case_data=case_data(case.definition, case.instance.variables),
            documentation=case.definition.elements.get(task.element_id, {}).get("documentation"),
            actions=policy.allowed_actions(actor, task, four_eyes=blocked),
            may_open_case=_may_open_case(uow, actor, case.instance), four_eyes=blocked,
            candidates=[a.name for a in uow.users.active_actors() if policy.is_candidate(a, task)])
