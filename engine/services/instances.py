"""Start, inspect and retry process instances."""
from __future__ import annotations

import keyword
from typing import Any

from engine.errors import Conflict, FieldProblem, InvalidData, PermissionDenied
from engine.runtime.runner import StepOutcome, give_to_failed_step
from engine.runtime.serializer import json_ready
from engine.runtime.specs import RunnableDefinition
from engine.services.context import EngineContext
from engine.services.execution import advance, begin, existing_case, restore, runnable, startable_definition_id
from engine.services.unit_of_work import unit_of_work
from engine.services.users import OPERATOR, acting, require_role
from engine.store import history_rows, task_rows
from engine.store.history_rows import record
from engine.store.user_rows import Actor
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


def may_start(actor: Actor, definition: RunnableDefinition) -> bool:
    """Members of the process's starter groups and its starter users, when it names any; else anyone."""
    if actor.name == OPERATOR or not (definition.starter_groups or definition.starter_users):
        return True
    return actor.name in definition.starter_users or not actor.groups.isdisjoint(definition.starter_groups)


def start(ctx: EngineContext, key: str, variables: dict[str, Any] | None = None, business_key: str | None = None,
          user: str | None = None, version: int | None = None) -> dict[str, Any]:
    """Start an instance of the newest active version (or `version`) and run it to its first wait."""
    variables = dict(variables or {})
    check_variable_names(variables)
    with unit_of_work(ctx) as session:
        actor = acting(session, user)
        definition = runnable(ctx, session, startable_definition_id(session, key, version))
        if not may_start(actor, definition):
            starters = ", ".join([*definition.starter_groups, *definition.starter_users])
            raise PermissionDenied(f"{actor.name} may not start {key}: only {starters} may")
        case = begin(ctx, session, definition, variables, business_key, actor.name)
        return instance_summary(case.instance, case.definition)


def get_instance(ctx: EngineContext, instance_id: int) -> dict[str, Any]:
    """Status, variables, tasks and the full history of one case."""
    with unit_of_work(ctx, read_only=True) as session:
        case = existing_case(ctx, session, instance_id)
        return instance_detail(case.instance, case.definition, task_rows.tasks_of(session, instance_id),
                               history_rows.events_of(session, instance_id))


def retry(ctx: EngineContext, instance_id: int, data: dict[str, Any] | None = None,
          user: str | None = None) -> dict[str, Any]:
    """Resume an instance in incident, optionally with corrected variables for the failed step."""
    data = dict(data or {})
    check_variable_names(data)
    with unit_of_work(ctx) as session:
        actor = acting(session, user)
        require_role(actor, "manager", "admin", to="retry cases")
        case = existing_case(ctx, session, instance_id)
        if case.instance.status != "incident":
            raise Conflict(f"instance {instance_id} is {case.instance.status}, not in incident; "
                           "there is nothing to retry")
        restore(ctx, case)
        give_to_failed_step(case.workflow, data)
        record(session, "retried", ctx.clock.now(), instance_id=instance_id, actor=actor.name,
               element_id=case.instance.incident_element, payload={"data": json_ready(data)})
        advance(ctx, session, case, StepOutcome(), actor.name)
        return instance_summary(case.instance, case.definition)
