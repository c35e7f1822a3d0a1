"""External service tasks answered by connectors, and the four-eyes rule."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.services import deployments, external_tasks, instances, tasks
from engine.connectors import ConnectorRegistry, default_registry
from engine.errors import Conflict, PermissionDenied
from engine.store.tables import ACTIVITY
from engine.services.unit_of_work import unit_of_work
from engine.services.worker import run_connectors


@pytest.fixture
def kyc(ctx, staff, fixture_path):
    """kyc_account, with ann and ben (clerks) to prepare and approve and mia (a manager) to assign."""
    deployments.deploy(ctx, deployments.read_sources([fixture_path("kyc_four_eyes.bpmn")]))
    return ctx


def prepare(ctx, customer_name: str) -> int:
    case = instances.start(ctx, "kyc_account", user="ann")
    [task] = tasks.list_tasks(ctx, instance_id=case.id)
    tasks.claim(ctx, task.id, "ann")
    tasks.complete(ctx, task.id, "ann", {"customer_name": customer_name})
    return case.id


def test_service_task_waits_for_a_job_and_the_connector_answers(kyc):
    ctx = kyc
    case_id = prepare(ctx, "Grace Hopper")
    assert tasks.list_tasks(ctx, instance_id=case_id) == []
    assert run_connectors(ctx, default_registry(), "w1") == {"completed": 1, "failed": 0}
    [approve] = tasks.list_tasks(ctx, instance_id=case_id)
    assert approve.element_id == "approve"
    tasks.claim(ctx, approve.id, "ben")
    tasks.complete(ctx, approve.id, "ben", {"approved": True})
    assert run_connectors(ctx, default_registry(), "w1")["completed"] == 1
    detail = instances.get_instance(ctx, case_id)
    assert detail.status == "completed"
    assert detail.variables["aml_hit"] is False and detail.variables["account_number"].startswith("62")
    assert [e.actor for e in detail.history if e.type == "service_completed"] == ["w1", "w1"]


def test_a_waiting_service_task_is_an_open_activity_until_its_job_completes(kyc, clock):
    ctx = kyc
    case_id = prepare(ctx, "Grace Hopper")

    def aml_activity():
        with unit_of_work(ctx, read_only=True) as uow:
            return uow.session.execute(select(ACTIVITY.c.state, ACTIVITY.c.ended_at).where(
                ACTIVITY.c.instance_id == case_id, ACTIVITY.c.element_id == "aml")).one()

    assert aml_activity() == ("active", None)
    clock.advance(timedelta(minutes=3))
    run_connectors(ctx, default_registry(), "w1")
    assert aml_activity() == ("completed", clock.now())


def test_sanctions_hit_ends_the_case(kyc):
    ctx = kyc
    case_id = prepare(ctx, "Ivan Sanctioned")
    run_connectors(ctx, default_registry(), "w1")
    detail = instances.get_instance(ctx, case_id)
    assert detail.status == "completed" and detail.variables["aml_hit"] is True


def test_four_eyes_preparer_cannot_approve(kyc):
    ctx = kyc
    case_id = prepare(ctx, "Grace Hopper")
    run_connectors(ctx, default_registry(), "w1")
    [approve] = tasks.list_tasks(ctx, instance_id=case_id)
    with pytest.raises(PermissionDenied, match="four-eyes rule: ann completed 'Prepare application'"):
        tasks.claim(ctx, approve.id, "ann")
    with pytest.raises(PermissionDenied, match="four-eyes"):
        tasks.assign(ctx, approve.id, "mia", "ann")
    tasks.assign(ctx, approve.id, "mia", "ben")
    assert tasks.complete(ctx, approve.id, "ben", {"approved": True}).instance.status == "running"


def test_jobs_are_locked_per_worker(kyc, clock):
    ctx = kyc
    prepare(ctx, "Grace Hopper")
    [job] = external_tasks.fetch_and_lock(ctx, "w1", ["aml_screening"])
    assert job.payload["customer_name"] == "Grace Hopper"
    assert external_tasks.fetch_and_lock(ctx, "w2", ["aml_screening"]) == []
    with pytest.raises(Conflict, match="not locked by w2"):
        external_tasks.complete_job(ctx, job.id, "w2", {"aml_hit": False})
    clock.advance(timedelta(minutes=6))
    [again] = external_tasks.fetch_and_lock(ctx, "w2", ["aml_screening"])
    assert again.id == job.id
    external_tasks.complete_job(ctx, job.id, "w2", {"aml_hit": False})


def test_failing_connector_retries_then_raises_an_incident(kyc, clock):
    ctx = kyc
    case_id = prepare(ctx, "Grace Hopper")
    registry = ConnectorRegistry()

    def broken(variables):
        raise RuntimeError("screening service unavailable")

    registry.register("aml_screening", broken)
    for _ in range(3):
        run_connectors(ctx, registry, "w1")
        clock.advance(timedelta(minutes=2))
    detail = instances.get_instance(ctx, case_id)
    assert detail.status == "incident"
    assert (detail.incident_element, detail.incident_message) == (
        "aml", "aml_screening failed: screening service unavailable")
    instances.retry(ctx, case_id)
    assert run_connectors(ctx, default_registry(), "w1")["completed"] == 1
    assert [t.element_id for t in tasks.list_tasks(ctx, instance_id=case_id)] == ["approve"]
