"""Mirror an engine run into rows: activities, human tasks, jobs and their events.

Only the open rows of one instance are touched (never its whole history), and
which ones are open is known from the workflow as it was restored, so a call
costs the same number of statements however long the case has been running.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from engine.bpmn.elements import referenced_value
from engine.records.history import NewActivity
from engine.records.jobs import JobDue, NewJob
from engine.records.tasks import NewTask, TaskRecord
from engine.runtime.runner import has_completed
from engine.runtime.serializer import json_ready
from engine.runtime.waits import FlowNode, OpenRows, OpenWork
from engine.services.limits import length_problems
from engine.sla.due_dates import SlaPlan
from engine.statuses import ActivityState, JobKind, SlaStatus, TaskStatus
from engine.store.models import HumanTask
from engine.store.unit_of_work import UnitOfWork

DEFAULT_PRIORITY = 50
SlaResolver = Callable[[FlowNode, dict[str, Any]], SlaPlan | None]


@dataclass(frozen=True)
class Step:
    """One engine run of one instance, as the write-back sees it."""

    uow: UnitOfWork
    instance_id: int
    workflow: Any  # the restored workflow; only runtime functions look inside
    now: datetime
    elements: dict[str, dict[str, Any]]
    opened: OpenRows  # the rows the instance had open before this run
    work: OpenWork  # what the workflow waits for after this run
    is_new: bool  # a new instance has no rows to read yet


def sync_activities(step: Step, completed: list[FlowNode]) -> None:
    """Open a row when a node starts waiting or becomes a human task; close it when it ends."""
    open_ids = step.opened.activities
    new_rows: dict[str, NewActivity] = {}
    finished: list[str] = []
    for node in completed:
        if node.spiff_id in open_ids:
            finished.append(node.spiff_id)
        else:
            new_rows[node.spiff_id] = _activity(step, node, ended=True)
    active = step.work.active
    for spiff_id, node in active.items():
        if spiff_id not in open_ids and spiff_id not in new_rows:
            new_rows[spiff_id] = _activity(step, node, ended=False)
    cancelled = [spiff_id for spiff_id in open_ids - set(finished) if spiff_id not in active]
    step.uow.history.close_activities(step.instance_id, {ActivityState.COMPLETED: finished,
                                                         ActivityState.CANCELLED: cancelled}, step.now)
    step.uow.history.insert_activities(list(new_rows.values()))


def _activity(step: Step, node: FlowNode, ended: bool) -> NewActivity:
    return NewActivity(instance_id=step.instance_id, spiff_task_id=node.spiff_id, element_id=node.element_id,
                       element_type=step.elements.get(node.element_id, {}).get("type") or node.spec_type,
                       name=node.name, started_at=step.now, ended_at=step.now if ended else None,
                       state=ActivityState.COMPLETED if ended else ActivityState.ACTIVE)


def sync_human_tasks(step: Step, sla_for: SlaResolver) -> list[TaskRecord]:
    """Create rows for new ready user tasks, cancel rows whose task went away; return new rows."""
    ready = step.work.human
    known = step.opened.tasks
    # Not ready any more and not completed (a completed task's row was closed by whoever completed it).
    gone = [spiff_id for spiff_id in known if spiff_id not in ready and not has_completed(step.workflow, spiff_id)]
    if gone:
        _cancel(step, gone)
    plans: dict[str, SlaPlan | None] = {}
    new = []
    for spiff_id, node in ready.items():
        if spiff_id in known:
            continue
        meta = step.elements.get(node.element_id, {})
        plans[spiff_id] = sla_for(node, meta)
        new.append(new_human_task(step.instance_id, node, meta, step.now, plans[spiff_id]))
    if not new:
        return []
    created = step.uow.tasks.insert(new)
    history = step.uow.history
    for task in created:
        history.record("task_created", step.now, instance_id=step.instance_id, task_id=task.id,
                       element_id=task.element_id, payload={"candidate_groups": list(task.candidate_groups),
                                                            "candidate_users": list(task.candidate_users)})
        if task.assignee:
            history.record("task_assigned", step.now, instance_id=step.instance_id, task_id=task.id,
                           element_id=task.element_id, payload={"to": task.assignee})
    step.uow.jobs.insert([job for task in created if (sla := plans[task.spiff_task_id]) is not None
                          for job in sla_jobs(step.instance_id, task.id, sla)])
    return created


def _cancel(step: Step, spiff_ids: list[str]) -> None:
    """Tasks the process moved on without: cancelled, with their SLA checks dropped."""
    tasks = step.uow.tasks.active_among(step.instance_id, spiff_ids)
    if not tasks:
        return
    step.uow.tasks.cancel([task.id for task in tasks])
    # only tasks with a due time have SLA checks
    step.uow.jobs.delete_of_tasks([task.id for task in tasks if task.due_at is not None])
    for task in tasks:
        step.uow.history.record("task_cancelled", step.now, instance_id=step.instance_id, task_id=task.id,
                                element_id=task.element_id)


def sla_jobs(instance_id: int, task_id: int | None, sla: SlaPlan) -> list[NewJob]:
    """The worker's two checks for one SLA: turning at risk, and the breach."""
    return [NewJob(kind=kind, instance_id=instance_id, task_id=task_id, due_at=due)
            for kind, due in ((JobKind.SLA_AT_RISK, sla.at_risk_at), (JobKind.SLA_BREACH, sla.due_at))]


def new_human_task(instance_id: int, node: FlowNode, meta: dict[str, Any], now: datetime,
                   sla: SlaPlan | None) -> NewTask:
    """A work item for one ready user task; the lane names the group unless the task names candidates.
    An assignee taken from a variable (`${approver}`) that is longer than any user name can be names no
    one: the task is left open to its candidates."""
    groups = tuple(meta.get("candidate_groups") or ())
    users = tuple(meta.get("candidate_users") or ())
    lane = meta.get("lane") or node.lane
    if not groups and not users and lane:
        groups = (lane,)
    assignee = referenced_value(meta.get("assignee"), node.data)
    assignee = str(assignee) if assignee else None
    if assignee is not None and length_problems(("assignee", assignee, HumanTask.assignee)):
        assignee = None
    priority = meta.get("priority")
    return NewTask(
        instance_id=instance_id,
        spiff_task_id=node.spiff_id,
        element_id=node.element_id,
        name=node.name or node.element_id,
        lane=lane,
        candidate_groups=groups,
        candidate_users=users,
        assignee=assignee,
        status=TaskStatus.CLAIMED if assignee else TaskStatus.OPEN,
        priority=int(priority) if priority and str(priority).strip().lstrip("-").isdigit() else DEFAULT_PRIORITY,
        created_at=now,
        claimed_at=now if assignee else None,
        completed_at=None,
        completed_by=None,
        form=meta.get("form") or [],
        data=None,
        four_eyes_with=(meta.get("properties") or {}).get("fourEyes"),
        due_at=sla.due_at if sla else None,
        sla_status=SlaStatus.ON_TRACK if sla else None,
        sla_calendar=sla.calendar if sla else None,
    )


def _jobs_of(step: Step, kind: JobKind) -> dict[str, JobDue]:
    """An instance's jobs of one kind by SpiffWorkflow task id (none to read for a new instance)."""
    return {} if step.is_new else step.uow.jobs.due_of(step.instance_id, kind)


def _job(step: Step, kind: JobKind, node: FlowNode, due_at: datetime, topic: str | None = None,
         payload: dict[str, Any] | None = None) -> NewJob:
    return NewJob(kind=kind, instance_id=step.instance_id, spiff_task_id=node.spiff_id, element_id=node.element_id,
                  topic=topic, due_at=due_at, payload=payload or {})


def sync_external_jobs(step: Step) -> None:
    """One `external` job per service task the workflow waits on; jobs whose task went away are dropped."""
    waiting = {spiff_id: node for spiff_id, node in step.work.active.items()
               if node.started and step.elements.get(node.element_id, {}).get("topic")}
    existing = _jobs_of(step, JobKind.EXTERNAL)
    step.uow.jobs.delete([job.id for spiff_id, job in existing.items() if spiff_id not in waiting])
    step.uow.jobs.insert([
        _job(step, JobKind.EXTERNAL, node, step.now, topic=step.elements[node.element_id]["topic"],
             payload=json_ready(node.data))
        for spiff_id, node in waiting.items() if spiff_id not in existing])


def sync_timer_jobs(step: Step) -> None:
    """One `timer` job per waiting timer event, due when the timer is; the worker fires it."""
    dues = step.work.timer_dues()
    existing = _jobs_of(step, JobKind.TIMER)
    step.uow.jobs.delete([job.id for spiff_id, job in existing.items() if spiff_id not in dues])
    step.uow.jobs.reschedule({job.id: dues[spiff_id] for spiff_id, job in existing.items()
                              if spiff_id in dues and job.due_at != dues[spiff_id]})
    step.uow.jobs.insert([_job(step, JobKind.TIMER, step.work.active[spiff_id], when)
                          for spiff_id, when in dues.items() if spiff_id not in existing])
