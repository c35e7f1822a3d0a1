"""The guarded writes behind every service call: a row changed since it was read is never overwritten.

Each test reads a row, lets another transaction change it, then tries to write the
stale copy: the write is refused as a Conflict and the other change stays.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from engine.services import deployments, instances, tasks
from engine.errors import Conflict
from engine.services.unit_of_work import unit_of_work


@pytest.fixture
def case(ctx, staff, fixture_path):
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]))
    started = instances.start(ctx, "loan_review", user="olga")
    [task] = tasks.list_tasks(ctx, instance_id=started.id)
    return started.id, task.id


def test_a_stale_task_row_is_not_written(ctx, case):
    _, task_id = case
    with unit_of_work(ctx, read_only=True) as uow:
        stale = uow.tasks.get(task_id)
    tasks.claim(ctx, task_id, "olga")
    with pytest.raises(Conflict, match="changed by someone else"):
        with unit_of_work(ctx) as uow:
            uow.tasks.save(replace(stale, status="claimed", assignee="oleg"))
    assert tasks.list_tasks(ctx, instance_id=case[0])[0].assignee == "olga"


def test_a_stale_instance_row_is_not_written(ctx, case):
    instance_id, task_id = case
    with unit_of_work(ctx, read_only=True) as uow:
        stale = uow.instances.get(instance_id)
    tasks.claim(ctx, task_id, "olga")
    tasks.complete(ctx, task_id, "olga", {"amount": 5000, "score": 720})  # moves the case on: a new lock_version
    with pytest.raises(Conflict, match="changed by someone else"):
        with unit_of_work(ctx) as uow:
            uow.instances.save(replace(stale, status="incident", variables={"overwritten": True}))
    detail = instances.get_instance(ctx, instance_id)
    assert detail.status == "completed" and "overwritten" not in detail.variables


def test_a_fresh_write_moves_the_version_on(ctx, case):
    instance_id, task_id = case
    with unit_of_work(ctx) as uow:
        task = uow.tasks.save(replace(uow.tasks.get(task_id), assignee="olga"))
        before = uow.instances.get(instance_id).lock_version
        instance = uow.instances.save(uow.instances.get(instance_id))
    assert task.lock_version == 2 and instance.lock_version == before + 1
    with unit_of_work(ctx, read_only=True) as uow:
        assert uow.tasks.get(task_id).lock_version == 2
        assert uow.instances.get(instance_id).lock_version == before + 1
