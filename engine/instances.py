"""Start, inspect and retry process instances."""
from __future__ import annotations

import keyword
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.services.context import EngineContext
from engine.deployments import find_definition_id
from engine.errors import Conflict, FieldProblem, InvalidData, NotFound
from engine.execution import advance, begin, load_instance, restore, runnable
from engine.runtime.runner import StepOutcome
from engine.runtime.serializer import json_ready
from engine.store.instance_rows import InstanceRecord
from engine.store.tables import EVENT, TASK
from engine.services.unit_of_work import unit_of_work
from engine.users import load_actor
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
            load_actor(session, user)
        definition = runnable(ctx, session, find_definition_id(session, key, version))
        return instance_summary(begin(ctx, session, definition, variables, business_key, user))


def get_instance(ctx: EngineContext, instance_id: int) -> dict[str, Any]:
    with unit_of_work(ctx, read_only=True) as session:
        instance = _existing(ctx, session, instance_id)
        tasks = session.execute(select(TASK).where(TASK.c.instance_id == instance_id).order_by(TASK.c.id)).mappings()
        events = session.execute(select(EVENT).where(EVENT.c.instance_id == instance_id)
                                 .order_by(EVENT.c.id)).mappings()
        return instance_detail(instance, list(tasks), list(events))


def _existing(ctx: EngineContext, session: Session, instance_id: int) -> InstanceRecord:
    instance = load_instance(ctx, session, instance_id)
    if instance is None:
        raise NotFound(f"instance {instance_id} does not exist")
    return instance


def retry(ctx: EngineContext, instance_id: int, data: dict[str, Any] | None = None,
          user: str | None = None) -> dict[str, Any]:
    """Resume an instance in incident, optionally with corrected variables for the failed step."""
    data = dict(data or {})
    check_variable_names(data)
    with unit_of_work(ctx) as session:
        if user:
            load_actor(session, user)
        instance = _existing(ctx, session, instance_id)
        if instance.status != "incident":
            raise Conflict(f"instance {instance_id} is {instance.status}, not in incident; there is nothing to retry")
        case = restore(ctx, instance)
        # The failed step was put back to READY; corrected variables go to it.
        for task in case.workflow.get_tasks(state=TaskState.READY, manual=False):
            task.data.update(data)
        record(session, "retried", ctx.clock.now(), instance_id=instance.id, actor=user,
               element_id=instance.incident_element, payload={"data": json_ready(data)})
        advance(ctx, session, case, StepOutcome(), user)
        return instance_summary(instance)
