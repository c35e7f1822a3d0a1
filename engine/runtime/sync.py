"""Mirror a workflow's tasks into `human_task` and `activity` rows after each engine run.

Only the open rows of one instance are read (never its whole history), so a call
costs the same number of statements however long the case has been running.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.runtime.runner import is_flow_node, ready_human_tasks, waiting_tasks
from engine.runtime.serializer import json_ready
from engine.runtime.timers import next_due
from engine.sla.targets import SlaPlan
from engine.store.models import Activity, HumanTask, Job, ProcessInstance, TaskCandidate

OPEN_TASK_STATES = ("open", "claimed")
DEFAULT_PRIORITY = 50


def sync_activities(
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    completed: list[Task],
    now: datetime,
    elements: dict[str, dict[str, Any]],
    is_new: bool,
) -> None:
    """Open a row when a node starts waiting or becomes a human task; close it when it ends."""
    open_rows: dict[str, Activity] = {}
    if not is_new:
        open_rows = {
            row.spiff_task_id: row
            for row in session.scalars(
                select(Activity).where(Activity.instance_id == instance.id, Activity.ended_at.is_(None)))
        }
    new_rows: dict[str, Activity] = {}
    for task in completed:
        if not is_flow_node(task):
            continue
        row = open_rows.pop(str(task.id), None)
        if row is not None:
            row.ended_at, row.state = now, "completed"
        else:
            new_rows[str(task.id)] = _activity(instance, task, now, elements, ended=True)
    active = {str(t.id): t for t in [*ready_human_tasks(workflow), *waiting_tasks(workflow)] if is_flow_node(t)}
    for spiff_id, task in active.items():
        if spiff_id not in open_rows and spiff_id not in new_rows:
            new_rows[spiff_id] = _activity(instance, task, now, elements, ended=False)
    for spiff_id, row in open_rows.items():
        if spiff_id not in active:
            row.ended_at, row.state = now, "cancelled"
    session.add_all(new_rows.values())


def _activity(instance: ProcessInstance, task: Task, now: datetime,
              elements: dict[str, dict[str, Any]], ended: bool) -> Activity:
    element_id = task.task_spec.bpmn_id
    meta = elements.get(element_id, {})
    return Activity(
        instance_id=instance.id,
        spiff_task_id=str(task.id),
        element_id=element_id,
        element_type=meta.get("type") or type(task.task_spec).__name__,
        name=task.task_spec.bpmn_name,
        started_at=now,
        ended_at=now if ended else None,
        state="completed" if ended else "active",
    )


SlaResolver = Callable[[Task, dict[str, Any]], SlaPlan | None]


def sync_human_tasks(
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    now: datetime,
    elements: dict[str, dict[str, Any]],
    is_new: bool,
    sla_for: SlaResolver,
) -> list[HumanTask]:
    """Create rows for new ready user tasks, cancel rows whose task went away; return new rows."""
    ready = {str(t.id): t for t in ready_human_tasks(workflow)}
    known: set[str] = set()
    if not is_new:
        for row in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status.in_(OPEN_TASK_STATES))
        ):
            known.add(row.spiff_task_id)
            if row.spiff_task_id not in ready:
                row.status = "cancelled"
                session.execute(delete(Job).where(Job.task_id == row.id))
                record(session, "task_cancelled", now, instance_id=instance.id, task_id=row.id,
                       element_id=row.element_id)
    plans: dict[str, SlaPlan | None] = {}
    created = []
    for spiff_id, task in ready.items():
        if spiff_id in known:
            continue
        meta = elements.get(task.task_spec.bpmn_id, {})
        plans[spiff_id] = sla_for(task, meta)
        created.append(new_human_task(instance, task, meta, now, plans[spiff_id]))
    session.add_all(created)
    if created:
        session.flush()
    for row in created:
        record(session, "task_created", now, instance_id=instance.id, task_id=row.id, element_id=row.element_id,
               payload={"candidate_groups": row.candidate_groups, "candidate_users": row.candidate_users})
        if row.assignee:
            record(session, "task_assigned", now, instance_id=instance.id, task_id=row.id,
                   element_id=row.element_id, payload={"to": row.assignee})
        sla = plans[row.spiff_task_id]
        if sla is not None:
            session.add_all(sla_jobs(instance.id, row.id, sla))
    return created


def sla_jobs(instance_id: int, task_id: int | None, sla: SlaPlan) -> list[Job]:
    """The worker's two checks for one SLA: turning at risk, and the breach itself."""
    return [Job(kind="sla_at_risk", instance_id=instance_id, task_id=task_id, due_at=sla.at_risk_at),
            Job(kind="sla_breach", instance_id=instance_id, task_id=task_id, due_at=sla.due_at)]


def resolve_assignee(expression: str | None, data: dict[str, Any]) -> str | None:
    """A literal user name, or `${variable}` naming a variable that holds one."""
    if not expression:
        return None
    text = expression.strip()
    if text.startswith(("${", "#{")) and text.endswith("}"):
        value = data.get(text[2:-1].strip())
        return str(value) if value else None
    return text


def new_human_task(instance: ProcessInstance, task: Task, meta: dict[str, Any], now: datetime,
                   sla: SlaPlan | None) -> HumanTask:
    """A work item for one ready user task; the lane names the group unless the task names candidates."""
    groups = list(meta.get("candidate_groups") or [])
    users = list(meta.get("candidate_users") or [])
    lane = meta.get("lane") or getattr(task.task_spec, "lane", None)
    if not groups and not users and lane:
        groups = [lane]
    assignee = resolve_assignee(meta.get("assignee"), task.data)
    priority = meta.get("priority")
    row = HumanTask(
        instance_id=instance.id,
        spiff_task_id=str(task.id),
        element_id=task.task_spec.bpmn_id,
        name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
        lane=lane,
        candidate_groups=groups,
        candidate_users=users,
        assignee=assignee,
        status="claimed" if assignee else "open",
        priority=int(priority) if priority and str(priority).strip().lstrip("-").isdigit() else DEFAULT_PRIORITY,
        created_at=now,
        claimed_at=now if assignee else None,
        form=meta.get("form") or [],
        four_eyes_with=(meta.get("properties") or {}).get("fourEyes"),
        due_at=sla.due_at if sla else None,
        sla_status="on_track" if sla else None,
        sla_target=sla.target if sla else None,
        sla_calendar=sla.calendar if sla else None,
    )
    row.candidates = [TaskCandidate(kind="group", name=g) for g in groups] + [
        TaskCandidate(kind="user", name=u) for u in users]
    return row


def _jobs_of(session: Session, instance: ProcessInstance, kind: str, is_new: bool) -> dict[str, Job]:
    """An instance's jobs of one kind by SpiffWorkflow task id (none to read for a new instance)."""
    if is_new:
        return {}
    return {job.spiff_task_id: job for job in session.scalars(
        select(Job).where(Job.instance_id == instance.id, Job.kind == kind))}


def sync_external_jobs(
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    now: datetime,
    elements: dict[str, dict[str, Any]],
    is_new: bool,
) -> None:
    """One `external` job per service task the workflow waits on; jobs whose task went away are dropped."""
    if not any(meta.get("topic") for meta in elements.values()):
        return
    waiting = {
        str(t.id): t for t in workflow.get_tasks(state=TaskState.STARTED)
        if is_flow_node(t) and elements.get(t.task_spec.bpmn_id, {}).get("topic")
    }
    existing = _jobs_of(session, instance, "external", is_new)
    for spiff_id, job in existing.items():
        if spiff_id not in waiting:
            session.delete(job)
    for spiff_id, task in waiting.items():
        if spiff_id not in existing:
            element_id = task.task_spec.bpmn_id
            session.add(Job(kind="external", instance_id=instance.id, spiff_task_id=spiff_id, element_id=element_id,
                            topic=elements[element_id]["topic"], due_at=now, payload=json_ready(task.data)))


def sync_timer_jobs(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, is_new: bool) -> None:
    """One `timer` job per waiting timer event, due when the timer is; the worker fires it."""
    due = {str(t.id): (t, next_due(t)) for t in workflow.get_tasks(state=TaskState.WAITING)}
    due = {spiff_id: pair for spiff_id, pair in due.items() if pair[1] is not None}
    existing = _jobs_of(session, instance, "timer", is_new)
    for spiff_id, job in existing.items():
        if spiff_id not in due:
            session.delete(job)
        elif job.due_at != due[spiff_id][1]:
            job.due_at, job.locked_by, job.locked_until = due[spiff_id][1], None, None
    for spiff_id, (task, when) in due.items():
        if spiff_id not in existing:
            session.add(Job(kind="timer", instance_id=instance.id, spiff_task_id=spiff_id,
                            element_id=task.task_spec.bpmn_id, due_at=when))
