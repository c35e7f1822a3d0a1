"""The guarded writes behind every service call: a row changed since it was read is never overwritten.

Each test reads a row, lets another transaction change it, then tries to write the
stale copy: the write is refused as a Conflict and the other change stays.
"""
from __future__ import annotations

import pytest

from engine.services import deployments, instances, tasks
from engine.errors import Conflict
from engine.store.instance_rows import read_instance
from engine.store.instance_rows import save_instance
from engine.store.task_rows import read_task, update_task
from engine.services.unit_of_work import unit_of_work


@pytest.fixture
def case(ctx, staff, fixture_path):
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]))
    started = instances.start(ctx, "loan_review", user="olga")
    [task] = tasks.list_tasks(ctx, instance_id=started["id"])
    return started["id"], task["id"]


def test_a_stale_task_row_is_not_written(ctx, case):
    _, task_id = case
    with unit_of_work(ctx, read_only=True) as session:
        stale = read_task(session, task_id)
    tasks.claim(ctx, task_id, "olga")
    with pytest.raises(Conflict, match="changed by someone else"):
        with unit_of_work(ctx) as session:
            update_task(session, stale, status="claimed", assignee="oleg")
    assert tasks.list_tasks(ctx, instance_id=case[0])[0]["assignee"] == "olga"


def test_a_stale_instance_row_is_not_written(ctx, case):
    instance_id, task_id = case
    with unit_of_work(ctx, read_only=True) as session:
        stale = read_instance(session, instance_id)
    tasks.claim(ctx, task_id, "olga")
    tasks.complete(ctx, task_id, "olga", {"amount": 5000, "score": 720})  # moves the case on: a new lock_version
    stale.status, stale.variables = "incident", {"overwritten": True}
    with pytest.raises(Conflict, match="changed by someone else"):
        with unit_of_work(ctx) as session:
            save_instance(session, stale)
    detail = instances.get_instance(ctx, instance_id)
    assert detail["status"] == "completed" and "overwritten" not in detail["variables"]


def test_a_fresh_write_moves_the_version_on(ctx, case):
    instance_id, task_id = case
    with unit_of_work(ctx) as session:
        task = update_task(session, read_task(session, task_id), priority=90)
        instance = read_instance(session, instance_id)
        before = instance.lock_version
        save_instance(session, instance)
    assert task["lock_version"] == 2 and instance.lock_version == before + 1
    with unit_of_work(ctx, read_only=True) as session:
        assert read_task(session, task_id)["lock_version"] == 2
        assert read_instance(session, instance_id).lock_version == before + 1
