"""Checks run after every test that used an engine context.

The engine does not read back which activity and task rows of a case are open:
it knows them from the saved workflow (`engine.runtime.waits.open_rows`). That is
only sound if every write-back keeps the rows and the workflow in step, so after
each test every case is restored and compared with its rows.
"""
from __future__ import annotations

from sqlalchemy import select

from engine.services.context import EngineContext
from engine.services.execution import load_case, restore
from engine.store.tables import ACTIVITY, INSTANCE, TASK
from engine.services.unit_of_work import unit_of_work


def rows_mirror_workflows(ctx: EngineContext) -> list[str]:
    """One line per case whose open rows differ from what its workflow says is open."""
    mismatches = []
    with unit_of_work(ctx, read_only=True) as uow:
        session = uow.session
        for instance_id in session.scalars(select(INSTANCE.c.id).order_by(INSTANCE.c.id)):
            case = restore(ctx, load_case(ctx, uow, instance_id))
            opened, instance = case.opened, case.instance
            activities = set(session.scalars(select(ACTIVITY.c.spiff_task_id).where(
                ACTIVITY.c.instance_id == instance_id, ACTIVITY.c.ended_at.is_(None))))
            open_tasks = set(session.scalars(select(TASK.c.spiff_task_id).where(
                TASK.c.instance_id == instance_id, TASK.c.status.in_(("open", "claimed")))))
            if activities != opened.activities or open_tasks != opened.tasks:
                mismatches.append(f"instance {instance_id} ({instance.status}): activity rows {sorted(activities)} "
                                  f"vs workflow {sorted(opened.activities)}; task rows {sorted(open_tasks)} "
                                  f"vs workflow {sorted(opened.tasks)}")
    return mismatches
