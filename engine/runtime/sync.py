"""Mirror a workflow's tasks into `human_task` and `activity` rows after each engine run.

Only the open rows of one instance are read (never its whole history), so a call
costs the same number of statements however long the case has been running.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from engine.audit import record
from engine.runtime.runner import OpenWork, find_task, is_flow_node, open_work
from engine.runtime.serializer import json_ready
from engine.runtime.timers import next_due
from engine.sla.targets import SlaPlan
from engine.store.instance_rows import InstanceRecord
from engine.store.job_rows import delete_jobs, delete_task_jobs, insert_jobs, reschedule_jobs
from engine.store.tables import ACTIVITY, JOB, TASK
from engine.store.task_rows import TaskRow, cancel_tasks, insert_tasks

OPEN_TASK_STATES = ("open", "claimed")
DEFAULT_PRIORITY = 50


@dataclass(frozen=True)
class Step:
    """One engine run of one instance, as the sync functions see it."""

    session: Session
    instance: InstanceRecord
    workflow: BpmnWorkflow
    now: datetime
    elements: dict[str, dict[str, Any]]
    opened: OpenRows  # the rows the instance had open before this run
    work: OpenWork  # what the workflow waits for after this run
    is_new: bool  # a new instance has no rows to read yet


@dataclass(frozen=True)
class OpenRows:
    """The SpiffWorkflow task ids with an open activity row and an open human task row."""

    activities: frozenset[str]
    tasks: frozenset[str]


NOTHING_OPEN = OpenRows(frozenset(), frozenset())


def open_rows(workflow: BpmnWorkflow) -> OpenRows:
    """The rows a restored workflow has open, without reading them.

    Every write-back leaves exactly one open activity row per active flow node and
    one open task row per ready user task, and saves the workflow in the same
    transaction, so the saved workflow says which rows are open.
    """
    work = open_work(workflow)
    return OpenRows(frozenset(work.active), frozenset(work.human))


def sync_activities(step: Step, completed: list[Task]) -> None:
    """Open a row when a node starts waiting or becomes a human task; close it when it ends.

    Activity rows are only ever written here, never read back: which ones are open
    is known from the workflow as it was restored (`open_rows`).
    """
    open_ids = step.opened.activities
    new_rows: dict[str, dict[str, Any]] = {}
    finished: list[str] = []
    for task in completed:
        if not is_flow_node(task):
            continue
        if str(task.id) in open_ids:
            finished.append(str(task.id))
        else:
            new_rows[str(task.id)] = _activity(step, task, ended=True)
    active = step.work.active
    for spiff_id, task in active.items():
        if spiff_id not in open_ids and spiff_id not in new_rows:
            new_rows[spiff_id] = _activity(step, task, ended=False)
    cancelled = [spiff_id for spiff_id in open_ids - set(finished) if spiff_id not in active]
    for state, ids in (("completed", finished), ("cancelled", cancelled)):
        if ids:
            step.session.execute(_CLOSE_ACTIVITIES, [
                {"_instance_id": step.instance.id, "_spiff_id": spiff_id, "_ended_at": step.now, "_state": state}
                for spiff_id in ids])
    if new_rows:
        step.session.execute(_INSERT_ACTIVITIES, list(new_rows.values()))


# Built once: building a statement costs more than running it on SQLite. One row per
# parameter set rather than `IN (...)`: an expanding IN is re-rendered on every call.
_CLOSE_ACTIVITIES = (update(ACTIVITY).where(ACTIVITY.c.instance_id == bindparam("_instance_id"),
                                            ACTIVITY.c.spiff_task_id == bindparam("_spiff_id"),
                                            ACTIVITY.c.ended_at.is_(None))
                     .values(ended_at=bindparam("_ended_at"), state=bindparam("_state")))
_INSERT_ACTIVITIES = insert(ACTIVITY)


def _activity(step: Step, task: Task, ended: bool) -> dict[str, Any]:
    element_id = task.task_spec.bpmn_id
    meta = step.elements.get(element_id, {})
    return {
        "instance_id": step.instance.id,
        "spiff_task_id": str(task.id),
        "element_id": element_id,
        "element_type": meta.get("type") or type(task.task_spec).__name__,
        "name": task.task_spec.bpmn_name,
        "started_at": step.now,
        "ended_at": step.now if ended else None,
        "state": "completed" if ended else "active",
    }


SlaResolver = Callable[[Task, dict[str, Any]], SlaPlan | None]


def sync_human_tasks(step: Step, sla_for: SlaResolver) -> list[TaskRow]:
    """Create rows for new ready user tasks, cancel rows whose task went away; return new rows."""
    ready = step.work.human
    known = step.opened.tasks
    # Not ready any more and not completed (a completed task's row was closed by whoever completed it).
    gone = [spiff_id for spiff_id in known if spiff_id not in ready and not _completed(step.workflow, spiff_id)]
    if gone:
        _cancel(step, gone)
    plans: dict[str, SlaPlan | None] = {}
    rows = []
    for spiff_id, task in ready.items():
        if spiff_id in known:
            continue
        meta = step.elements.get(task.task_spec.bpmn_id, {})
        plans[spiff_id] = sla_for(task, meta)
        rows.append(new_human_task(step.instance.id, task, meta, step.now, plans[spiff_id]))
    if not rows:
        return []
    created = insert_tasks(step.session, rows)
    for row in created:
        record(step.session, "task_created", step.now, instance_id=step.instance.id, task_id=row["id"],
               element_id=row["element_id"], payload={"candidate_groups": row["candidate_groups"],
                                                      "candidate_users": row["candidate_users"]})
        if row["assignee"]:
            record(step.session, "task_assigned", step.now, instance_id=step.instance.id, task_id=row["id"],
                   element_id=row["element_id"], payload={"to": row["assignee"]})
    jobs = [job for row in created if plans[row["spiff_task_id"]] is not None
            for job in sla_jobs(step.instance.id, row["id"], plans[row["spiff_task_id"]])]
    insert_jobs(step.session, jobs)
    return created


def _completed(workflow: BpmnWorkflow, spiff_id: str) -> bool:
    task = find_task(workflow, spiff_id)
    return task is not None and task.has_state(TaskState.COMPLETED)


_OPEN_TASKS = select(TASK.c.id, TASK.c.element_id, TASK.c.due_at).where(
    TASK.c.instance_id == bindparam("instance_id"), TASK.c.spiff_task_id.in_(bindparam("ids", expanding=True)),
    TASK.c.status.in_(OPEN_TASK_STATES))


def _cancel(step: Step, spiff_ids: list[str]) -> None:
    """Tasks the process moved on without: cancelled, with their SLA checks dropped."""
    rows = step.session.execute(_OPEN_TASKS, {"instance_id": step.instance.id, "ids": spiff_ids}).all()
    if not rows:
        return
    cancel_tasks(step.session, [row.id for row in rows])
    delete_task_jobs(step.session, [row.id for row in rows if row.due_at is not None])  # only those have checks
    for row in rows:
        record(step.session, "task_cancelled", step.now, instance_id=step.instance.id, task_id=row.id,
               element_id=row.element_id)


def sla_jobs(instance_id: int, task_id: int | None, sla: SlaPlan) -> list[dict[str, Any]]:
    """The worker's two checks for one SLA (rows for a Core insert): turning at risk, and the breach."""
    return [{"kind": kind, "instance_id": instance_id, "task_id": task_id, "due_at": due, "attempts": 0,
             "payload": {}} for kind, due in (("sla_at_risk", sla.at_risk_at), ("sla_breach", sla.due_at))]


def resolve_assignee(expression: str | None, data: dict[str, Any]) -> str | None:
    """A literal user name, or `${variable}` naming a variable that holds one."""
    if not expression:
        return None
    text = expression.strip()
    if text.startswith(("${", "#{")) and text.endswith("}"):
        value = data.get(text[2:-1].strip())
        return str(value) if value else None
    return text


def new_human_task(instance_id: int, task: Task, meta: dict[str, Any], now: datetime,
                   sla: SlaPlan | None) -> TaskRow:
    """A work item for one ready user task; the lane names the group unless the task names candidates."""
    groups = list(meta.get("candidate_groups") or [])
    users = list(meta.get("candidate_users") or [])
    lane = meta.get("lane") or getattr(task.task_spec, "lane", None)
    if not groups and not users and lane:
        groups = [lane]
    assignee = resolve_assignee(meta.get("assignee"), task.data)
    priority = meta.get("priority")
    return {
        "instance_id": instance_id,
        "spiff_task_id": str(task.id),
        "element_id": task.task_spec.bpmn_id,
        "name": task.task_spec.bpmn_name or task.task_spec.bpmn_id,
        "lane": lane,
        "candidate_groups": groups,
        "candidate_users": users,
        "assignee": assignee,
        "status": "claimed" if assignee else "open",
        "priority": int(priority) if priority and str(priority).strip().lstrip("-").isdigit() else DEFAULT_PRIORITY,
        "created_at": now,
        "claimed_at": now if assignee else None,
        "completed_at": None,
        "completed_by": None,
        "form": meta.get("form") or [],
        "data": None,
        "four_eyes_with": (meta.get("properties") or {}).get("fourEyes"),
        "due_at": sla.due_at if sla else None,
        "sla_status": "on_track" if sla else None,
        "sla_target": sla.target if sla else None,
        "sla_calendar": sla.calendar if sla else None,
        "lock_version": 1,
    }


def _jobs_of(step: Step, kind: str) -> dict[str, Any]:
    """An instance's jobs of one kind by SpiffWorkflow task id (none to read for a new instance)."""
    if step.is_new:
        return {}
    return {row.spiff_task_id: row for row in step.session.execute(
        _JOBS_OF, {"instance_id": step.instance.id, "kind": kind})}


_JOBS_OF = select(JOB.c.id, JOB.c.spiff_task_id, JOB.c.due_at).where(
    JOB.c.instance_id == bindparam("instance_id"), JOB.c.kind == bindparam("kind"))


def _job(step: Step, kind: str, task: Task, due_at: datetime, topic: str | None = None,
         payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"kind": kind, "instance_id": step.instance.id, "task_id": None, "spiff_task_id": str(task.id),
            "element_id": task.task_spec.bpmn_id, "topic": topic, "due_at": due_at, "attempts": 0,
            "payload": payload or {}}


def sync_external_jobs(step: Step) -> None:
    """One `external` job per service task the workflow waits on; jobs whose task went away are dropped."""
    waiting = {spiff_id: task for spiff_id, task in step.work.active.items()
               if task.has_state(TaskState.STARTED) and step.elements.get(task.task_spec.bpmn_id, {}).get("topic")}
    existing = _jobs_of(step, "external")
    delete_jobs(step.session, [job.id for spiff_id, job in existing.items() if spiff_id not in waiting])
    insert_jobs(step.session, [
        _job(step, "external", task, step.now, topic=step.elements[task.task_spec.bpmn_id]["topic"],
             payload=json_ready(task.data))
        for spiff_id, task in waiting.items() if spiff_id not in existing])


def timer_dues(work: OpenWork) -> dict[str, tuple[Task, datetime]]:
    """The waiting timer events and when each is due, by SpiffWorkflow task id."""
    dues = {spiff_id: (task, next_due(task)) for spiff_id, task in work.active.items()}
    return {spiff_id: (task, when) for spiff_id, (task, when) in dues.items() if when is not None}


def sync_timer_jobs(step: Step) -> None:
    """One `timer` job per waiting timer event, due when the timer is; the worker fires it."""
    dues = timer_dues(step.work)
    existing = _jobs_of(step, "timer")
    delete_jobs(step.session, [job.id for spiff_id, job in existing.items() if spiff_id not in dues])
    reschedule_jobs(step.session, {job.id: dues[spiff_id][1] for spiff_id, job in existing.items()
                                   if spiff_id in dues and job.due_at != dues[spiff_id][1]})
    insert_jobs(step.session, [_job(step, "timer", task, when)
                               for spiff_id, (task, when) in dues.items() if spiff_id not in existing])
