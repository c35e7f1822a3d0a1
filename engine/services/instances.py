"""Start, inspect and retry process instances."""
from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.errors import N_, Code, Conflict, FieldProblem, InvalidData, Listing, NotFound, PermissionDenied, codes
from engine.runtime.runner import StepOutcome, give_to_failed_step
from engine.runtime.serializer import json_ready
from engine.runtime.specs import RunnableDefinition
from engine.services.case_data import case_data, element_names
from engine.services.context import EngineContext
from engine.services.execution import advance, begin, existing_case, restore, runnable, startable_definition_id
from engine.services.limits import column_length, length_problems
from engine.services.tasks import SUPERVISOR_ROLES, may_see, may_see_case
from engine.services.unit_of_work import unit_of_work
from engine.services.users import OPERATOR, acting, load_actor, require_role
from engine.services.waiting import waits_of
from engine.bpmn.forms import public_fields, validate
from engine.services.deployments import DESIGNER_ROLES, process_source
from engine.store import comment_rows, definition_rows, history_rows, instance_rows, task_rows
from engine.store.instance_rows import InstanceRecord
from engine.store.models import ProcessInstance
from engine.store.history_rows import record
from engine.store.user_rows import Actor
from engine.views import comment_view, instance_detail, instance_summary


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
        raise InvalidData(problems, summary=N_("invalid variables"))


def may_start(actor: Actor, definition: RunnableDefinition) -> bool:
    """Members of the process's starter groups and its starter users, when it names any; else anyone."""
    if actor.name == OPERATOR or not (definition.starter_groups or definition.starter_users):
        return True
    return actor.name in definition.starter_users or not actor.groups.isdisjoint(definition.starter_groups)


def start_form(definition: RunnableDefinition) -> list[dict[str, Any]]:
    """The form of the definition's start event (empty when it has none)."""
    forms = [meta.get("form") or [] for meta in definition.elements.values() if meta["type"] == "startEvent"]
    return forms[0] if forms else []


def start(ctx: EngineContext, key: str, variables: dict[str, Any] | None = None, business_key: str | None = None,
          user: str | None = None, version: int | None = None,
          form_values: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start an instance of the newest active version (or `version`) and run it to its first wait.

    `form_values` (the web's start page) are checked against the start event's form first."""
    check_variable_names(variables or {})
    with unit_of_work(ctx) as session:
        actor = acting(session, user)
        definition = _startable_by(ctx, session, actor, key, version)
        return _begin(ctx, session, actor, definition, dict(variables or {}), business_key, form_values)


def form_for_test_case(ctx: EngineContext, key: str, version: int, user: str | None = None) -> dict[str, Any]:
    """What the designer's test-case page shows for one version of a process: its key, version, name,
    start form and the business key a test case gets. Needs `designer` or `admin` (see `start_test_case`)."""
    with unit_of_work(ctx, read_only=True) as session:
        definition = _testable(ctx, session, acting(session, user), key, version)
        return {"key": definition.key, "version": definition.version, "name": definition.name,
                "form": public_fields(start_form(definition)), "business_key": _test_business_key(key),
                "test_case": True}


def start_test_case(ctx: EngineContext, key: str, version: int, user: str | None = None,
                    business_key: str | None = None, form_values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A designer's test case: an instance of exactly `version` (it must be active), started through
    that version's start form like any case (`form_values`; required fields are required). Needs
    `designer` or `admin`, besides being allowed to start the process."""
    with unit_of_work(ctx) as session:
        actor = acting(session, user)
        definition = _testable(ctx, session, actor, key, version)
        return _begin(ctx, session, actor, definition, {}, business_key or _test_business_key(key),
                      form_values or {})


def _test_business_key(key: str) -> str:
    return f"TEST-{key}"[:column_length(ProcessInstance.business_key)]


def _testable(ctx: EngineContext, session: Session, actor: Actor, key: str, version: int) -> RunnableDefinition:
    require_role(actor, *DESIGNER_ROLES, to=N_("start test cases"))
    return _startable_by(ctx, session, actor, key, version)


def _startable_by(ctx: EngineContext, session: Session, actor: Actor, key: str,
                  version: int | None) -> RunnableDefinition:
    """The newest active version of `key` (or `version`, if active), which `actor` must be allowed to start."""
    definition = runnable(ctx, session, startable_definition_id(session, key, version))
    if not may_start(actor, definition):
        raise PermissionDenied("%(user)s may not start %(key)s: only %(starters)s may", user=actor.name, key=key,
                               starters=Listing([*definition.starter_groups, *definition.starter_users], "list"))
    return definition


def _begin(ctx: EngineContext, session: Session, actor: Actor, definition: RunnableDefinition,
           variables: dict[str, Any], business_key: str | None, form_values: dict[str, Any] | None) -> dict[str, Any]:
    """Check the business key and the start form's values (every problem at once), then start the case."""
    problems = length_problems(("business_key", business_key, ProcessInstance.business_key))
    if form_values is not None:
        try:
            variables.update(validate(start_form(definition), form_values))
        except InvalidData as exc:
            problems += exc.field_problems
    if problems:
        raise InvalidData(problems, summary=N_("cannot start the case"))
    case = begin(ctx, session, definition, variables, business_key, actor.name)
    return instance_summary(case.instance, case.definition)


def get_instance(ctx: EngineContext, instance_id: int, user: str | None = None) -> dict[str, Any]:
    """Status, variables, tasks, the full history of one case (one `user` may see) and what it waits
    for besides people (`waiting`: service jobs, timers, messages)."""
    with unit_of_work(ctx, read_only=True) as session:
        _require_visible(session, acting(session, user), instance_id)
        case = existing_case(ctx, session, instance_id)
        return {**instance_detail(case.instance, case.definition, task_rows.tasks_of(session, instance_id),
                                  history_rows.events_of(session, instance_id)),
                "waiting": waits_of(ctx, session, case)}


def retry(ctx: EngineContext, instance_id: int, data: dict[str, Any] | None = None,
          user: str | None = None) -> dict[str, Any]:
    """Resume an instance in incident, optionally with corrected variables for the failed step: a JSON
    object of variable names to values, at most as deep and large as any case's data (the runner checks
    them with `check_data` before the step gets them)."""
    data = {} if data is None else data
    check_variable_names(data)
    with unit_of_work(ctx) as session:
        actor = acting(session, user)
        require_role(actor, "manager", "admin", to=N_("retry cases"))
        case = existing_case(ctx, session, instance_id)
        if case.instance.status != "incident":
            raise Conflict("instance %(id)s is %(status)s, not in incident; there is nothing to retry",
                           id=instance_id, status=Code(case.instance.status))
        restore(ctx, case)
        give_to_failed_step(case.workflow, data)
        record(session, "retried", ctx.clock.now(), instance_id=instance_id, actor=actor.name,
               element_id=case.instance.incident_element, payload={"data": json_ready(data)})
        advance(ctx, session, case, StepOutcome(), actor.name)
        return instance_summary(case.instance, case.definition)


INSTANCE_STATUSES = ("running", "completed", "incident", "cancelled")


def _require_visible(session: Session, actor: Actor, instance_id: int) -> None:
    """Staff see the cases they started or worked on; to anyone else a case they may not see does not exist."""
    if not may_see_case(session, actor, instance_id):
        raise NotFound("instance %(id)s does not exist", id=instance_id)


def search(ctx: EngineContext, user: str | None = None, business_key: str | None = None,
           process: str | None = None, status: str | None = None, page: int = 1,
           page_size: int = 25) -> dict[str, Any]:
    """One page of the cases `user` may see, newest first, filtered by business key (part of it),
    process and status."""
    if status is not None and status not in INSTANCE_STATUSES:
        raise InvalidData([FieldProblem("status", "must be one of %(values)s", values=codes(INSTANCE_STATUSES))])
    page, page_size = max(page, 1), min(max(page_size, 1), 200)
    with unit_of_work(ctx, read_only=True) as session:
        actor = acting(session, user)
        rows, total = instance_rows.search_instances(
            session, visible_for=None if actor.has_role(*SUPERVISOR_ROLES) else actor.name,
            business_key=business_key, process=process, status=status, limit=page_size,
            offset=(page - 1) * page_size)
    cases = [instance_summary(InstanceRecord(**{k: v for k, v in r.items()
                                                if k not in ("process_key", "process_name", "version")}),
                              DefinitionKey(r["process_key"], r["version"])) | {"process_name": r["process_name"]}
             for r in rows]
    return {"cases": cases, "total": total, "page": page, "pages": max(1, -(-total // page_size))}


@dataclass(frozen=True)
class DefinitionKey:
    key: str
    version: int


def case_overview(ctx: EngineContext, instance_id: int, user: str | None = None) -> dict[str, Any]:
    """What the case page shows: the case with its tasks (each with whether `user` may open it) and history,
    comments, the activities open now and completed (for the diagram), and whether `user` may retry it."""
    with unit_of_work(ctx, read_only=True) as session:
        actor = acting(session, user)
        _require_visible(session, actor, instance_id)
        case = existing_case(ctx, session, instance_id)
        current, completed = history_rows.activity_states(session, instance_id)
        task_list = task_rows.tasks_of(session, instance_id)
        detail = instance_detail(case.instance, case.definition, task_list,
                                 history_rows.events_of(session, instance_id))
        return {
            **detail,
            "tasks": [view | {"may_open": may_see(actor, task)} for view, task in zip(detail["tasks"], task_list)],
            "process_name": case.definition.name,
            "comments": [comment_view(c) for c in comment_rows.comments_of(session, instance_id)],
            "activities": {"current": current, "completed": completed},
            "may_retry": case.instance.status == "incident" and actor.has_role(*SUPERVISOR_ROLES),
            "waiting": waits_of(ctx, session, case),
            "case_data": case_data(case.definition, case.instance.variables),
            "element_names": element_names(case.definition),
        }


def case_diagram(ctx: EngineContext, instance_id: int, user: str | None = None) -> bytes:
    """The BPMN file a case's process was deployed from, for drawing its diagram."""
    with unit_of_work(ctx, read_only=True) as session:
        actor = acting(session, user)
        _require_visible(session, actor, instance_id)
        case = existing_case(ctx, session, instance_id)
        return process_source(session, case.definition.id, case.definition.key).content


def startable(ctx: EngineContext, user: str) -> list[dict[str, Any]]:
    """The newest active version of each process `user` may start, with its start form (may be empty)."""
    with unit_of_work(ctx, read_only=True) as session:
        actor = load_actor(session, user)
        found = []
        for row in definition_rows.list_definitions(session, latest_only=True, active_only=True):
            definition = runnable(ctx, session, row.id)
            if may_start(actor, definition):
                found.append({"key": definition.key, "version": definition.version, "name": definition.name,
                              "form": public_fields(start_form(definition))})
        return found
