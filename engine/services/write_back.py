"""Mirror an engine run into rows: activities, human tasks, jobs and their events.

Only the open rows of one instance are touched (never its whole history), and
which ones are open is known from the workflow as it was restored, so a call
costs the same number of statements however long the case has been running.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy.orm import Session

from engine.bpmn.elements import referenced_value
from engine.runtime.runner import has_completed
from engine.runtime.serializer import json_ready
from engine.runtime.waits import FlowNode, OpenRows, OpenWork
from engine.services.limits import length_problems
from engine.sla.due_dates import SlaPlan
from engine.store import history_rows, job_rows, task_rows
from engine.store.history_rows import record
from engine.store.instance_rows import InstanceRecord
from engine.store.tables import TASK
from engine.store.task_rows import TaskRow

DEFAULT_PRIORITY = 50
SlaResolver = Callable[[FlowNode, dict[str, Any]], SlaPlan | None]


@dataclass(frozen=True)
class Step:
    """One engine run of one instance, as the write-back sees it."""

    session: Session
    instance: InstanceRecord
    workflow: Any  # the restored workflow; only runtime functions look inside
    now: datetime
    elements: dict[str, dict[str, Any]]
    opened: OpenRows  # the rows the instance had open before this run
    work: OpenWork  # what the workflow waits for after this run
    is_new: bool  # a new instance has no rows to read yet


def sync_activities(step: Step, completed: list[FlowNode]) -> None:
    """Open a row when a node starts waiting or becomes a human task; close it when it ends."""
    open_ids = step.opened.activities
    new_rows: dict[str, dict[str, Any]] = {}
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
    history_rows.close_activities(step.session, step.instance.id, {"completed": finished, "cancelled": cancelled},
                                  step.now)
    history_rows.insert_activities(step.session, list(new_rows.values()))


def _activity(step: Step, node: FlowNode, ended: bool) -> dict[str, Any]:
    return {
        "instance_id": step.instance.id,
        "spiff_task_id": node.spiff_id,
        "element_id": node.element_id,
        "element_type": step.elements.get(node.element_id, {}).get("type") or node.spec_type,
        "name": node.name,
        "started_at": step.now,
        "ended_at": step.now if ended else None,
        "state": "completed" if ended else "active",
    }


def sync_human_tasks(step: Step, sla_for: SlaResolver) -> list[TaskRow]:
    """Create rows for new ready user tasks, cancel rows whose task went away; return new rows."""
    ready = step.work.human
    known = step.opened.tasks
    # Not ready any more and not completed (a completed task's row was closed by whoever completed it).
    gone = [spiff_id for spiff_id in known if spiff_id not in ready and not has_completed(step.workflow, spiff_id)]
    if gone:
        _cancel(step, gone)
    plans: dict[str, SlaPlan | None] = {}
    rows = []
    for spiff_id, node in ready.items():
        if spiff_id in known:
            continue
        meta = step.elements.get(node.element_id, {})
        plans[spiff_id] = sla_for(node, meta)
        rows.append(new_human_task(step.instance.id, node, meta, step.now, plans[spiff_id]))
    if not rows:
        return []
    created = task_rows.insert_tasks(step.session, rows)
    for row in created:
        record(step.session, "task_created", step.now, instance_id=step.instance.id, task_id=row["id"],
               element_id=row["element_id"], payload={"candidate_groups": row["candidate_groups"],
                                                      "candidate_users": row["candidate_users"]})
        if row["assignee"]:
            record(step.session, "task_assigned", step.now, instance_id=step.instance.id, task_id=row["id"],
                   element_id=row["element_id"], payload={"to": row["assignee"]})
    job_rows.insert_jobs(step.session, [job for row in created if plans[row["spiff_task_id"]] is not None
                                        for job in sla_jobs(step.instance.id, row["id"],
                                                            plans[row["spiff_task_id"]])])
    return created


def _cancel(step: Step, spiff_ids: list[str]) -> None:
    """Tasks the process moved on without: cancelled, with their SLA checks dropped."""
    rows = task_rows.active_among(step.session, step.instance.id, spiff_ids)
    if not rows:
        return
    task_rows.cancel_tasks(step.session, [row.id for row in rows])
    job_rows.delete_task_jobs(step.session, [row.id for row in rows if row.due_at is not None])  # only those have checks
    for row in rows:
        record(step.session, "task_cancelled", step.now, instance_id=step.instance.id, task_id=row.id,
               element_id=row.element_id)


def sla_jobs(instance_id: int, task_id: int | None, sla: SlaPlan) -> list[dict[str, Any]]:
    """The worker's two checks for one SLA (rows for a Core insert): turning at risk, and the breach."""
    return [{"kind": kind, "instance_id": instance_id, "task_id": task_id, "due_at": due, "attempts": 0,
             "payload": {}} for kind, due in (("sla_at_risk", sla.at_risk_at), ("sla_breach", sla.due_at))]


def new_human_task(instance_id: int, node: FlowNode, meta: dict[str, Any], now: datetime,
                   sla: SlaPlan | None) -> TaskRow:
    """A work item for one ready user task; the lane names the group unless the task names candidates.
    An assignee taken from a variable (`${approver}`) that is longer than any user name can be names no
    one: the task is left open to its candidates."""
    groups = list(meta.get("candidate_groups") or [])
    users = list(meta.get("candidate_users") or [])
    lane = meta.get("lane") or node.lane
    if not groups and not users and lane:
        groups = [lane]
    assignee = referenced_value(meta.get("assignee"), node.data)
    assignee = str(assignee) if assignee else None
    if assignee is not None and length_problems(("assignee", assignee, TASK.c.assignee)):
        assignee = None
    priority = meta.get("priority")
    return TaskRow(
        instance_id=instance_id,
        spiff_task_id=node.spiff_id,
        element_id=node.element_id,
        name=node.name or node.element_id,
        lane=lane,
        candidate_groups=groups,
        candidate_users=users,
        assignee=assignee,
        status="claimed" if assignee else "open",
        priority=int(priority) if priority and str(priority).strip().lstrip("-").isdigit() else DEFAULT_PRIORITY,
        created_at=now,
        claimed_at=now if assignee else None,
        completed_at=None,
        completed_by=None,
        form=meta.get("form") or [],
        data=None,
        four_eyes_with=(meta.get("properties") or {}).get("fourEyes"),
        due_at=sla.due_at if sla else None,
        sla_status="on_track" if sla else None,
        sla_calendar=sla.calendar if sla else None,
        lock_version=1,
    )


def _jobs_of(step: Step, kind: str) -> dict[str, Any]:
    """An instance's jobs of one kind by SpiffWorkflow task id (none to read for a new instance)."""
    return {} if step.is_new else job_rows.jobs_of(step.session, step.instance.id, kind)


def _job(step: Step, kind: str, node: FlowNode, due_at: datetime, topic: str | None = None,
         payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"kind": kind, "instance_id": step.instance.id, "task_id": None, "spiff_task_id": node.spiff_id,
            "element_id": node.element_id, "topic": topic, "due_at": due_at, "attempts": 0,
            "payload": payload or {}}


def sync_external_jobs(step: Step) -> None:
    """One `external` job per service task the workflow waits on; jobs whose task went away are dropped."""
    waiting = {spiff_id: node for spiff_id, node in step.work.active.items()
               if node.started and step.elements.get(node.element_id, {}).get("topic")}
    existing = _jobs_of(step, "external")
    job_rows.delete_jobs(step.session, [job.id for spiff_id, job in existing.items() if spiff_id not in waiting])
    job_rows.insert_jobs(step.session, [
        _job(step, "external", node, step.now, topic=step.elements[node.element_id]["topic"],
             payload=json_ready(node.data))
        for spiff_id, node in waiting.items() if spiff_id not in existing])


def sync_timer_jobs(step: Step) -> None:
    """One `timer` job per waiting timer event, due when the timer is; the worker fires it."""
    dues = step.work.timer_dues()
    existing = _jobs_of(step, "timer")
    job_rows.delete_jobs(step.session, [job.id for spiff_id, job in existing.items() if spiff_id not in dues])
    job_rows.reschedule_jobs(step.session, {job.id: dues[spiff_id] for spiff_id, job in existing.items()
                                            if spiff_id in dues and job.due_at != dues[spiff_id]})
    job_rows.insert_jobs(step.session, [_job(step, "timer", step.work.active[spiff_id], when)
                                        for spiff_id, when in dues.items() if spiff_id not in existing])
