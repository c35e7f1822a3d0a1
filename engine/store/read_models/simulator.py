"""The simulator's read model (`uow.simulator`): the work it hands out and the jobs it waits for, read
once per simulated instant, and the tasks its made-up staff still hold when it ends."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.records.analytics import HeldTask, NewTask, WorkInSight
from engine.statuses import JobKind, TaskStatus
from engine.store.tables import DEFINITION, JOB, TASK, USER


class SimulatorReadModel:
    """What one simulation run reads, in the caller's (read-only) transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def last_task_id(self) -> int:
        """The newest task's id (0 without tasks): the run's own tasks come after it."""
        return int(self.session.scalar(select(func.coalesce(func.max(TASK.c.id), 0))) or 0)

    def elements_of(self, keys: list[str]) -> list[dict[str, dict[str, Any]]]:
        """The element metadata of every deployed version of the processes `keys`."""
        return [elements or {} for elements in self.session.scalars(
            select(DEFINITION.c.elements).where(DEFINITION.c.key.in_(keys)))]

    def work_in_sight(self, now: datetime, topics: list[str], after_task_id: int) -> WorkInSight:
        """External jobs of `topics` that a connector may lock at `now`, the next other job due after
        `now`, and the tasks with an id above `after_task_id`, oldest first."""
        external = self.session.scalar(select(func.count()).select_from(JOB).where(
            JOB.c.kind == JobKind.EXTERNAL, JOB.c.topic.in_(topics),
            (JOB.c.locked_until.is_(None)) | (JOB.c.locked_until < now)))
        next_job = self.session.scalar(select(func.min(JOB.c.due_at)).where(
            JOB.c.kind != JobKind.EXTERNAL, JOB.c.due_at > now))
        rows = self.session.execute(
            select(TASK.c.id, TASK.c.instance_id, TASK.c.element_id, TASK.c.priority, TASK.c.created_at,
                   TASK.c.candidate_groups, TASK.c.candidate_users, TASK.c.assignee, TASK.c.status,
                   TASK.c.form)
            .where(TASK.c.id > after_task_id).order_by(TASK.c.id))
        return WorkInSight(external_jobs=int(external or 0), next_job_due=next_job, new_tasks=tuple(
            NewTask(id=r.id, instance_id=r.instance_id, element_id=r.element_id, priority=r.priority,
                    created_at=r.created_at, candidate_groups=tuple(r.candidate_groups or ()),
                    candidate_users=tuple(r.candidate_users or ()), assignee=r.assignee, status=r.status,
                    form=list(r.form or [])) for r in rows))

    def held_by_simulated_staff(self) -> list[HeldTask]:
        """The claimed tasks whose holder is a simulated user, by task id."""
        return [HeldTask(task_id=r.id, assignee=r.assignee) for r in self.session.execute(
            select(TASK.c.id, TASK.c.assignee).select_from(TASK.join(USER, USER.c.name == TASK.c.assignee))
            .where(TASK.c.status == TaskStatus.CLAIMED, USER.c.simulated.is_(True)).order_by(TASK.c.id))]
