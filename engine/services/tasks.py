"""Work lists and the life of a human task: claim, unclaim, assign, complete.

Every action checks who acts: only candidates claim, only the assignee completes,
only managers, admins or the current assignee hand a task to someone else, and
only to a candidate. Refused actions change nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy.orm import Session

from engine.bpmn import forms
from engine.bpmn.elements import split_list
from engine.errors import (N_, Code, Conflict, FieldProblem, GroupName, InvalidData, Listing, Message, NotFound,
                           PermissionDenied, codes)
from engine.runtime.runner import StepOutcome, TaskNotReady, complete_human_task
from engine.runtime.serializer import json_ready
from engine.services.case_data import case_data
from engine.services.context import EngineContext
from engine.services.execution import advance, breached_on_completion, existing_case, record_breach, restore
from engine.services.unit_of_work import unit_of_work
from engine.services.users import load_actor
from engine.store import instance_rows, job_rows, task_rows, user_rows
from engine.store.history_rows import record
from engine.store.task_rows import TASK_STATUSES, TaskRow, read_task, update_task
from engine.store.user_rows import Actor
from engine.views import instance_summary, task_view

SUPERVISOR_ROLES = {"admin", "manager"}
DEFAULT_PAGE_SIZE = 100


def is_candidate(user: Actor, task: TaskRow) -> bool:
    """A task with no candidates is open to all staff; otherwise the user or one of their groups is named."""
    if not task["candidate_users"] and not task["candidate_groups"]:
        return user.has_role("staff", "admin")
    return user.name in task["candidate_users"] or not user.groups.isdisjoint(task["candidate_groups"])


def four_eyes_violation(session: Session, task: TaskRow, user: Actor) -> Message | None:
    """Why `user` may not act on `task` under the four-eyes rule, or None."""
    if not task["four_eyes_with"]:
        return None
    prepared = task_rows.completed_by(session, task["instance_id"], split_list(task["four_eyes_with"]), user.name)
    if prepared is None:
        return None
    return Message("four-eyes rule: %(user)s completed '%(done)s' in this case and may not also act on '%(task)s'",
                   user=user.name, done=prepared, task=task["name"])


def _require_eligible(session: Session, user: Actor, task: TaskRow) -> None:
    if not is_candidate(user, task):
        raise PermissionDenied("%(user)s is not a candidate for task %(id)s (%(offered)s)", user=user.name,
                               id=task["id"], offered=_offered_to(task))
    violation = four_eyes_violation(session, task, user)
    if violation:
        raise PermissionDenied(violation)


@dataclass(frozen=True)
class Candidate:
    """Someone a task can be handed to, with how many tasks they hold now."""

    name: str
    holds: int


def handover_candidates(session: Session, tasks: list[Mapping[str, Any]]) -> dict[int, list[Candidate]]:
    """For each task (its id, instance_id, candidates, four_eyes_with and assignee), the people it can be
    handed to, least busy first: enabled users of the bank (simulated staff never) who are candidates and
    whom the four-eyes rule does not hold back, its holder left out. A fixed number of statements."""
    people = user_rows.active_actors(session)
    holds = task_rows.held_per_user(session)
    done: dict[int, list[tuple[str, str]]] = {}
    for row in task_rows.completions_in(session, sorted({t["instance_id"] for t in tasks if t["four_eyes_with"]})):
        done.setdefault(row.instance_id, []).append((row.element_id, row.completed_by))
    found = {}
    for task in tasks:
        guarded = set(split_list(task["four_eyes_with"])) if task["four_eyes_with"] else set()
        held_back = {who for element, who in done.get(task["instance_id"], []) if element in guarded}
        found[task["id"]] = sorted(
            (Candidate(p.name, holds.get(p.name, 0)) for p in people
             if p.name != task["assignee"] and p.name not in held_back and is_candidate(p, task)),
            key=lambda c: (c.holds, c.name))
    return found


def load_task(session: Session, task_id: int) -> TaskRow:
    """The task, row-locked on PostgreSQL: concurrent actions on one task queue here, so the
    second one sees the first one's result and gets a clear message instead of a lost update."""
    task = read_task(session, task_id, lock=True)
    if task is None:
        raise NotFound("task %(id)s does not exist", id=task_id)
    return task


def _require_active(task: TaskRow) -> None:
    if task["status"] == "completed":
        raise Conflict("task %(id)s was already completed by %(user)s", id=task["id"], user=task["completed_by"])
    if task["status"] == "cancelled":
        raise Conflict("task %(id)s was cancelled (the process moved on without it)", id=task["id"])


def list_tasks(ctx: EngineContext, user: str | None = None, group: str | None = None,
               instance_id: int | None = None, status: str | None = None,
               limit: int = DEFAULT_PAGE_SIZE, offset: int = 0) -> list[dict[str, Any]]:
    """Tasks by status (default: open and claimed), visible to `user`, offered to `group`, of an instance."""
    if status is not None and status not in TASK_STATUSES:
        raise InvalidData([FieldProblem("status", "must be one of %(values)s", values=codes(TASK_STATUSES))])
    params: dict[str, Any] = {"status": status, "limit": limit, "offset": offset, "instance_id": instance_id,
                              "group": group}
    with unit_of_work(ctx, read_only=True) as session:
        staff = False
        if user:
            actor = load_actor(session, user)
            staff = actor.has_role("staff", "admin")
            params |= {"user": actor.name, "groups": sorted(actor.groups) or [""]}
        return [task_view(t) for t in task_rows.work_list(
            session, params, by_status=status is not None, by_instance=instance_id is not None,
            by_group=group is not None, by_user=user is not None, unrestricted_too=staff)]


def claim(ctx: EngineContext, task_id: int, user: str) -> dict[str, Any]:
    with unit_of_work(ctx) as session:
        actor = load_actor(session, user)
        task = load_task(session, task_id)
        _require_active(task)
        if task["status"] == "claimed":
            if task["assignee"] == actor.name:
                return task_view(task)
            raise Conflict("task %(id)s is already claimed by %(user)s", id=task_id, user=task["assignee"])
        _require_eligible(session, actor, task)
        now = ctx.clock.now()
        task = update_task(session, task, status="claimed", assignee=actor.name, claimed_at=now)
        record(session, "task_claimed", now, instance_id=task["instance_id"], task_id=task_id,
               element_id=task["element_id"], actor=actor.name)
        return task_view(task)


def unclaim(ctx: EngineContext, task_id: int, user: str) -> dict[str, Any]:
    with unit_of_work(ctx) as session:
        actor = load_actor(session, user)
        task = load_task(session, task_id)
        _require_active(task)
        if task["status"] != "claimed":
            raise Conflict("task %(id)s is not claimed", id=task_id)
        if task["assignee"] != actor.name and not actor.has_role(*SUPERVISOR_ROLES):
            raise PermissionDenied("only %(user)s or a manager can release task %(id)s", user=task["assignee"],
                                   id=task_id)
        now = ctx.clock.now()
        record(session, "task_unclaimed", now, instance_id=task["instance_id"], task_id=task_id,
               element_id=task["element_id"], actor=actor.name, payload={"from": task["assignee"]})
        return task_view(update_task(session, task, status="open", assignee=None, claimed_at=None))


def assign(ctx: EngineContext, task_id: int, user: str, to: str) -> dict[str, Any]:
    with unit_of_work(ctx) as session:
        actor = load_actor(session, user)
        target = load_actor(session, to)
        task = load_task(session, task_id)
        _require_active(task)
        if not (actor.has_role(*SUPERVISOR_ROLES) or task["assignee"] == actor.name):
            raise PermissionDenied("%(user)s may not assign task %(id)s: only a manager, an admin or the current "
                                   "assignee can", user=actor.name, id=task_id)
        _require_eligible(session, target, task)
        now = ctx.clock.now()
        record(session, "task_assigned", now, instance_id=task["instance_id"], task_id=task_id,
               element_id=task["element_id"], actor=actor.name, payload={"to": target.name})
        return task_view(update_task(session, task, status="claimed", assignee=target.name,
                                     claimed_at=task["claimed_at"] or now))


def complete(ctx: EngineContext, task_id: int, user: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Complete a claimed task with form data and run the process to its next wait state."""
    with unit_of_work(ctx) as session:
        actor = load_actor(session, user)
        task = load_task(session, task_id)
        _require_active(task)
        if task["assignee"] != actor.name:
            if task["assignee"]:
                raise PermissionDenied("%(user)s cannot complete task %(id)s: it is claimed by %(assignee)s",
                                       user=actor.name, id=task_id, assignee=task["assignee"])
            raise PermissionDenied("%(user)s cannot complete task %(id)s: it is not claimed; claim it first",
                                   user=actor.name, id=task_id)
        violation = four_eyes_violation(session, task, actor)
        if violation:
            raise PermissionDenied(violation)
        values = forms.validate(task["form"], data or {})
        case = existing_case(ctx, session, task["instance_id"])
        instance = case.instance
        if instance.status != "running":
            raise Conflict("instance %(id)s is %(status)s; the task cannot be completed now", id=instance.id,
                           status=Code(instance.status))
        restore(ctx, case)
        outcome = StepOutcome()
        try:
            outcome.completed.append(complete_human_task(case.workflow, task["spiff_task_id"], values))
        except TaskNotReady:
            raise Conflict("task %(id)s is no longer waiting in instance %(instance)s", id=task_id,
                           instance=instance.id) from None
        now = ctx.clock.now()
        sla_status = task["sla_status"]
        if breached_on_completion(task["due_at"], sla_status, now):
            sla_status = "breached"
            record_breach(session, now, instance.id, task["due_at"], task_id, task["element_id"])
        if task["due_at"] is not None:  # only tasks with an SLA have checks scheduled
            job_rows.delete_task_jobs(session, [task_id])
        task = update_task(session, task, status="completed", completed_at=now, completed_by=actor.name,
                           data=json_ready(values), sla_status=sla_status)
        record(session, "task_completed", now, instance_id=instance.id, task_id=task_id,
               element_id=task["element_id"], actor=actor.name, payload={"data": task["data"]})
        advance(ctx, session, case, outcome, actor.name)
        return {"task": task_view(task), "instance": instance_summary(instance, case.definition)}


def _offered_to(task: TaskRow) -> str:
    parts = []
    if task["candidate_groups"]:
        parts.append(Message("groups: %(groups)s",
                             groups=Listing([GroupName(g) for g in task["candidate_groups"]], "list")))
    if task["candidate_users"]:
        parts.append(Message("users: %(users)s", users=Listing(task["candidate_users"], "list")))
    return Listing(parts, "problems") if parts else Message("open to all staff")


INBOX_VIEWS = ("mine", "group")
SLA_STATUSES = ("on_track", "at_risk", "breached")


@dataclass(frozen=True)
class InboxList:
    """One list of the inbox: a page of its tasks, soonest due first, and how many there are in all."""

    tasks: list[dict[str, Any]]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
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
    with unit_of_work(ctx, read_only=True) as session:
        actor = load_actor(session, user)
        lists = {}
        for name in INBOX_VIEWS:
            number = page if name == view else 1
            rows, total = task_rows.inbox_page(
                session, mine=name == "mine", user=actor.name, groups=sorted(actor.groups),
                unrestricted_too=actor.has_role("staff", "admin"), process=process, priority=priority,
                sla_status=sla_status, limit=page_size, offset=(number - 1) * page_size)
            lists[name] = InboxList(
                [task_view(r) | {"process_key": r["process_key"], "process_name": r["process_name"],
                                 "business_key": r["business_key"]} for r in rows],
                total, number, max(1, -(-total // page_size)))
    return Inbox(lists["mine"], lists["group"], actor.has_role(*SUPERVISOR_ROLES), bool(actor.groups))


def may_see(actor: Actor, task: TaskRow) -> bool:
    """Managers and admins see every task; others the tasks offered to them, theirs, and those they did."""
    return (actor.has_role(*SUPERVISOR_ROLES) or actor.name in (task["assignee"], task["completed_by"])
            or is_candidate(actor, task))


def may_see_case(session: Session, actor: Actor, instance_id: int) -> bool:
    """Managers and admins see every case; others the cases they started or worked on."""
    return actor.has_role(*SUPERVISOR_ROLES) or instance_rows.can_see(session, instance_id, actor.name)


def next_task_for(ctx: EngineContext, instance_id: int, user: str) -> int | None:
    """The case's task `user` should work on next: one they hold, else one they may claim (four-eyes
    respected), oldest first; None when the case has nothing for them. The web app takes them there
    after they start a case or complete one of its tasks."""
    with unit_of_work(ctx, read_only=True) as session:
        actor = load_actor(session, user)
        waiting = [t for t in task_rows.tasks_of(session, instance_id) if t["status"] in task_rows.ACTIVE_STATUSES]
        for task in sorted(waiting, key=lambda t: (t["assignee"] != actor.name, t["created_at"], t["id"])):
            if task["assignee"] == actor.name:
                return task["id"]
            if (task["status"] == "open" and is_candidate(actor, task)
                    and four_eyes_violation(session, task, actor) is None):
                return task["id"]
        return None


def task_detail(ctx: EngineContext, task_id: int, user: str) -> dict[str, Any]:
    """What the task page shows: the task, its case and variables, its documentation, what `user` may do
    with it (and whether they may open its case yet) and to whom it could be assigned. Refused
    (PermissionDenied) when the task is not for them."""
    with unit_of_work(ctx, read_only=True) as session:
        actor = load_actor(session, user)
        task = read_task(session, task_id)
        if task is None:
            raise NotFound("task %(id)s does not exist", id=task_id)
        if not may_see(actor, task):
            raise PermissionDenied("%(user)s may not see task %(id)s (%(offered)s)", user=actor.name, id=task_id,
                                   offered=_offered_to(task))
        case = existing_case(ctx, session, task["instance_id"])
        active = task["status"] in task_rows.ACTIVE_STATUSES
        colleagues = [a.name for a in user_rows.active_actors(session) if is_candidate(a, task)]
        blocked = four_eyes_violation(session, task, actor) if active else None
        return {
            "task": task_view(task),
            "instance": instance_summary(case.instance, case.definition) | {"process_name": case.definition.name},
            "variables": case.instance.variables,
            "case_data": case_data(case.definition, case.instance.variables),
            "documentation": case.definition.elements.get(task["element_id"], {}).get("documentation"),
            "may_claim": task["status"] == "open" and is_candidate(actor, task) and blocked is None,
            "may_complete": task["status"] == "claimed" and task["assignee"] == actor.name and blocked is None,
            "may_unclaim": task["status"] == "claimed" and (task["assignee"] == actor.name
                                                            or actor.has_role(*SUPERVISOR_ROLES)),
            "may_assign": active and (actor.has_role(*SUPERVISOR_ROLES) or task["assignee"] == actor.name),
            "may_open_case": may_see_case(session, actor, case.instance.id),
            "four_eyes": blocked,
            "candidates": colleagues,
        }
