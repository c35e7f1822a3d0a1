"""Start, inspect and retry process instances."""
from __future__ import annotations

import keyword
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.context import EngineContext
from engine.deployments import find_definition
from engine.errors import Conflict, FieldProblem, InvalidData, NotFound
from engine.execution import advance, definition_specs, restore, start_process_sla
from engine.runtime.runner import StepOutcome, new_workflow
from engine.runtime.serializer import json_ready
from engine.store.models import Event, HumanTask, ProcessDefinition, ProcessInstance
from engine.unit_of_work import unit_of_work
from engine.users import load_user
from engine.views import instance_detail, instance_summary


def check_variable_names(variables: dict[str, Any]) -> None:
    """Variables become names in scripts and conditions, so they must be usable there."""
    if not isinstance(variables, dict):
        raise InvalidData([FieldProblem("data", "must be a JSON object of variable names to values")])
    problems = [
        FieldProblem(name, "is not a valid variable name (letters, digits and _, not starting with _ or a digit)")
        for name in variables
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_") or keyword.iskeyword(name)
    ]
    if problems:
        raise InvalidData(problems, summary="invalid variables")


def start(ctx: EngineContext, key: str, variables: dict[str, Any] | None = None, business_key: str | None = None,
          user: str | None = None, version: int | None = None) -> dict[str, Any]:
    """Start an instance of the newest active version (or `version`) and run it to its first wait."""
    variables = dict(variables or {})
    check_variable_names(variables)
    with unit_of_work(ctx) as session:
        if user:
            load_user(session, user)
        instance = start_in_session(ctx, session, find_definition(session, key, version), variables,
                                    business_key, user)
        return instance_summary(instance)


def start_in_session(ctx: EngineContext, session: Session, definition: ProcessDefinition,
                     variables: dict[str, Any], business_key: str | None, user: str | None) -> ProcessInstance:
    """Create an instance inside the caller's transaction (used by `start` and by timer starts)."""
    workflow = new_workflow(definition_specs(ctx, session, definition), ctx.script_engine, variables)
    now = ctx.clock.now()
    instance = ProcessInstance(
        definition=definition, business_key=business_key, status="running", started_at=now,
        started_by=user, state={}, variables=json_ready(variables))
    session.add(instance)
    session.flush()
    record(session, "instance_started", now, instance_id=instance.id, actor=user,
           payload={"definition_key": definition.key, "version": definition.version,
                    "business_key": business_key})
    start_process_sla(ctx, session, instance)
    advance(ctx, session, instance, workflow, StepOutcome(), user, is_new=True)
    session.flush()
    return instance


def get_instance(ctx: EngineContext, instance_id: int) -> dict[str, Any]:
    with unit_of_work(ctx, read_only=True) as session:
        instance = session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound(f"instance {instance_id} does not exist")
        tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                .order_by(HumanTask.id)).all()
        events = session.scalars(select(Event).where(Event.instance_id == instance_id).order_by(Event.id)).all()
        return instance_detail(instance, list(tasks), list(events))


def retry(ctx: EngineContext, instance_id: int, data: dict[str, Any] | None = None,
          user: str | None = None) -> dict[str, Any]:
    """Resume an instance in incident, optionally with corrected variables for the failed step."""
    data = dict(data or {})
    check_variable_names(data)
    with unit_of_work(ctx) as session:
        if user:
            load_user(session, user)
        instance = session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound(f"instance {instance_id} does not exist")
        if instance.status != "incident":
            raise Conflict(f"instance {instance_id} is {instance.status}, not in incident; there is nothing to retry")
        workflow = restore(ctx, session, instance)
        # The failed step was put back to READY; corrected variables go to it.
        for task in workflow.get_tasks(state=TaskState.READY, manual=False):
            task.data.update(data)
        record(session, "retried", ctx.clock.now(), instance_id=instance.id, actor=user,
               element_id=instance.incident_element, payload={"data": json_ready(data)})
        advance(ctx, session, instance, workflow, StepOutcome(), user)
        session.flush()
        return instance_summary(instance)
