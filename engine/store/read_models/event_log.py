"""The read model of the XES export (`uow.event_log`): every executed flow node of the cases, with its
case, process and human task, in batches of cases.

Rows are read CASES_PER_BATCH cases at a time (keyset pagination on the instance id: no server-side
cursor, which PostgreSQL's autocommit read sessions cannot hold), so memory holds one batch whatever
the size of the log.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import and_, not_, select
from sqlalchemy.orm import Session

from engine.records.analytics import Execution
from engine.statuses import ActivityState
from engine.store.tables import ACTIVITY, DEFINITION, INSTANCE, TASK

CASES_PER_BATCH = 500


class EventLogReadModel:
    """The executions of the cases of one process (or all), started at or after a time (or all)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def has_process(self, key: str) -> bool:
        """Whether any version of `key` is deployed."""
        return self.session.scalar(select(DEFINITION.c.id).where(DEFINITION.c.key == key).limit(1)) is not None

    def batches(self, key: str | None, since: datetime | None) -> Iterator[list[Execution]]:
        """The executions of CASES_PER_BATCH cases at a time, in instance order, each case's by start."""
        cases = select(INSTANCE.c.id).join(DEFINITION, INSTANCE.c.definition_id == DEFINITION.c.id)
        if key is not None:
            cases = cases.where(DEFINITION.c.key == key)
        if since is not None:
            cases = cases.where(INSTANCE.c.started_at >= since)
        last = 0
        while True:
            ids = self.session.scalars(cases.where(INSTANCE.c.id > last).order_by(INSTANCE.c.id)
                                       .limit(CASES_PER_BATCH)).all()
            if not ids:
                return
            rows = self.session.execute(_event_rows(key, since).where(INSTANCE.c.id >= ids[0],
                                                                      INSTANCE.c.id <= ids[-1]))
            yield [Execution(instance_id=r.instance_id, business_key=r.business_key, status=r.status,
                             definition_key=r.definition_key, definition_version=r.definition_version,
                             activity_id=r.activity_id, element_id=r.element_id, element_type=r.element_type,
                             name=r.name, started_at=r.started_at, ended_at=r.ended_at, state=r.state,
                             task_id=r.task_id, claimed_at=r.claimed_at, assignee=r.assignee,
                             completed_by=r.completed_by) for r in rows]
            last = ids[-1]


def _event_rows(key: str | None, since: datetime | None) -> Any:
    where = [not_(ACTIVITY.c.element_type.like("%Gateway")),
             not_(and_(ACTIVITY.c.state == ActivityState.CANCELLED, ACTIVITY.c.element_type == "boundaryEvent"))]
    if key is not None:
        where.append(DEFINITION.c.key == key)
    if since is not None:
        where.append(INSTANCE.c.started_at >= since)
    return (select(INSTANCE.c.id.label("instance_id"), INSTANCE.c.business_key, INSTANCE.c.status.label("status"),
                   DEFINITION.c.key.label("definition_key"), DEFINITION.c.version.label("definition_version"),
                   ACTIVITY.c.id.label("activity_id"), ACTIVITY.c.element_id, ACTIVITY.c.element_type,
                   ACTIVITY.c.name, ACTIVITY.c.started_at, ACTIVITY.c.ended_at, ACTIVITY.c.state,
                   TASK.c.id.label("task_id"), TASK.c.claimed_at, TASK.c.assignee, TASK.c.completed_by)
            .select_from(ACTIVITY.join(INSTANCE, ACTIVITY.c.instance_id == INSTANCE.c.id)
                         .join(DEFINITION, INSTANCE.c.definition_id == DEFINITION.c.id)
                         .outerjoin(TASK, TASK.c.spiff_task_id == ACTIVITY.c.spiff_task_id))
            .where(*where).order_by(INSTANCE.c.id, ACTIVITY.c.started_at, ACTIVITY.c.id))
