"""Start, inspect, search and retry process instances (cases)."""
from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import Any, Mapping

from engine.bpmn.forms import public_fields, submitted_values, validate
from engine.errors import N_, Code, Conflict, FieldProblem, InvalidData, Listing, PermissionDenied, codes
from engine.policy.cases import may_start
from engine.policy.roles import DESIGNERS, SUPERVISORS
from engine.policy.tasks import may_see_task
from engine.records.comments import CommentRecord
from engine.records.history import ActivityStates
from engine.records.instances import CaseDetail, CaseSummary
from engine.records.tasks import TaskRecord
from engine.records.users import Actor
from engine.runtime.runner import StepOutcome, give_to_failed_step
from engine.runtime.serializer import json_ready
from engine.runtime.specs import RunnableDefinition
from engine.services.case_data import CaseDatum, case_data, element_names
from engine.services.context import EngineContext
from engine.services.deployments import process_source
from engine.services.execution import (
    Case, advance, begin, existing_case, restore, runnable, startable_definition_id, visible_case)
from engine.services.limits import column_length, length_problems
from engine.services.unit_of_work import unit_of_work
from engine.services.users import acting, load_actor, require_role
from engine.services.waiting import waits_of
from engine.statuses import ACTIVE_TASK_STATUSES, INSTANCE_STATUSES, InstanceStatus
from engine.store.models import ProcessInstance
from engine.store.unit_of_work import UnitOfWork

MAX_PAGE_SIZE = 200


@dataclass(frozen=True, kw_only=True)
class StartForm:
    """A process version as its start page shows it: its name and the start event's form."""

    key: str
    version: int
    name: str | None
    form: list[dict[str, Any]]  # the start event's fields, as clients see them (may be empty)
    business_key: str = ""  # what the business key field is filled with
    test_case: bool = False  # a designer's test case of exactly this version


@dataclass(frozen=True, kw_only=True)
class CaseSearch:
    """One page of the cases a user may see, and how many there are in all."""

    cases: list[CaseSummary]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, kw_only=True)
class CasePage:
    """What the case page shows: the case in full, its data in the forms' words, the comments, the activities
    for the diagram, and what the reader may do."""

    case: CaseDetail
    people: tuple[TaskRecord, ...]  # the tasks the case waits on people for (none unless it runs)
    openable: frozenset[int]  # the ids of the case's tasks the reader may open
    case_data: list[CaseDatum]
    element_names: dict[str, str]  # element id -> name, for the history and the incident
    comments: tuple[CommentRecord, ...]
    activities: ActivityStates
    may_retry: bool


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


def start_form(definition: RunnableDefinition) -> list[dict[str, Any]]:
    """The form of the definition's start event (empty when it has none)."""
    forms = [meta.get("form") or [] for meta in definition.elements.values() if meta["type"] == "startEvent"]
    return forms[0] if forms else []


def start(ctx: EngineContext, key: str, variables: dict[str, Any] | None = None, business_key: str | None = None,
          user: str | None = None, version: int | None = None, form: Mapping[str, str] | None = None) -> CaseSummary:
    """Start an instance of the newest active version (or `version`) and run it to its first wait.

    `form` is what was submitted on the web's start page: the start event's fields are taken from it
    and checked against its form first."""
    check_variable_names(variables or {})
    with unit_of_work(ctx) as uow:
        actor = acting(uow, user)
        definition = _startable_by(ctx, uow, actor, key, version)
        return _begin(ctx, uow, actor, definition, dict(variables or {}), business_key, form)


def form_for_test_case(ctx: EngineContext, key: str, version: int, user: str | None = None) -> StartForm:
    """What the designer's test-case page shows for one version of a process: its start form and the
    business key a test case gets. Needs `designer` or `admin` (see `start_test_case`)."""
    with unit_of_work(ctx, read_only=True) as uow:
        definition = _testable(ctx, uow, acting(uow, user), key, version)
        return StartForm(key=definition.key, version=definition.version, name=definition.name,
                         form=public_fields(start_form(definition)), business_key=_test_business_key(key),
                         test_case=True)


def start_test_case(ctx: EngineContext, key: str, version: int, user: str | None = None,
                    business_key: str | None = None, form: Mapping[str, str] | None = None) -> CaseSummary:
    """A designer's test case: an instance of exactly `version` (it must be active), started through
    that version's start form like any case (`form`, as submitted; required fields are required). Needs
    `designer` or `admin`, besides being allowed to start the process."""
    with unit_of_work(ctx) as uow:
        actor = acting(uow, user)
        definition = _testable(ctx, uow, actor, key, version)
        return _begin(ctx, uow, actor, definition, {}, business_key or _test_business_key(key), form or {})


def _test_business_key(key: str) -> str:
    return f"TEST-{key}"[:column_length(ProcessInstance.business_key)]


def _testable(ctx: EngineContext, uow: UnitOfWork, actor: Actor, key: str, version: int) -> RunnableDefinition:
    require_role(actor, *DESIGNERS, to=N_("start test cases"))
    return _startable_by(ctx, uow, actor, key, version)


def _startable_by(ctx: EngineContext, uow: UnitOfWork, actor: Actor, key: str,
                  version: int | None) -> RunnableDefinition:
    """The newest active version of `key` (or `version`, if active), which `actor` must be allowed to start."""
    definition = runnable(ctx, uow, startable_definition_id(uow, key, version))
    if not may_start(actor, definition):
        raise PermissionDenied("%(user)s may not start %(key)s: only %(starters)s may", user=actor.name, key=key,
                               starters=Listing([*definition.starter_groups, *definition.starter_users], "list"))
    return definition


def _begin(ctx: EngineContext, uow: UnitOfWork, actor: Actor, definition: RunnableDefinition,
           variables: dict[str, Any], business_key: str | None, form: Mapping[str, str] | None) -> CaseSummary:
    """Check the business key and the start form's values (every problem at once), then start the case."""
    problems = length_problems(("business_key", business_key, ProcessInstance.business_key))
    if form is not None:
        fields = start_form(definition)
        try:
            variables.update(validate(fields, submitted_values(fields, form)))
        except InvalidData as exc:
            problems += exc.field_problems
    if problems:
        raise InvalidData(problems, summary=N_("cannot start the case"))
    return begin(ctx, uow, definition, variables, business_key, actor.name).summary()


def get_instance(ctx: EngineContext, instance_id: int, user: str | None = None) -> CaseDetail:
    """Status, variables, tasks, the full history of one case (one `user` may see) and what it waits
    for besides people (service jobs, timers, messages)."""
    with unit_of_work(ctx, read_only=True) as uow:
        return _case_detail(ctx, uow, visible_case(ctx, uow, acting(uow, user), instance_id))


def case_overview(ctx: EngineContext, instance_id: int, user: str | None = None) -> CasePage:
    """What the case page shows: the case in full, which of its tasks `user` may open, its data, comments,
    the activities open now and completed (for the diagram), and whether `user` may retry it."""
    with unit_of_work(ctx, read_only=True) as uow:
        actor = acting(uow, user)
        case = visible_case(ctx, uow, actor, instance_id)
        detail = _case_detail(ctx, uow, case)
        running = detail.status == InstanceStatus.RUNNING
        return CasePage(
            case=detail, people=tuple(t for t in detail.tasks if running and t.status in ACTIVE_TASK_STATUSES),
            openable=frozenset(task.id for task in detail.tasks if may_see_task(actor, task)),
            case_data=case_data(case.definition, detail.variables), element_names=element_names(case.definition),
            comments=tuple(uow.comments.of_instance(instance_id)), activities=uow.history.activity_states(instance_id),
            may_retry=detail.status == InstanceStatus.INCIDENT and actor.has_role(*SUPERVISORS))


def _case_detail(ctx: EngineContext, uow: UnitOfWork, case: Case) -> CaseDetail:
    """The one builder of a case in full, for `get_instance` and the case page."""
    instance_id = case.instance.id
    return CaseDetail(**vars(case.summary()), variables=case.instance.variables,
                      tasks=tuple(uow.tasks.of_instance(instance_id)),
                      history=tuple(uow.history.events_of(instance_id)), waiting=waits_of(ctx, uow, case))


def retry(ctx: EngineContext, instance_id: int, data: dict[str, Any] | None = None,
          user: str | None = None) -> CaseSummary:
    """Resume an instance in incident, optionally with corrected variables for the failed step: a JSON
    object of variable names to values, at most as deep and large as any case's data (the runner checks
    them with `check_data` before the step gets them)."""
    data = {} if data is None else data
    check_variable_names(data)
    with unit_of_work(ctx) as uow:
        actor = acting(uow, user)
        require_role(actor, *SUPERVISORS, to=N_("retry cases"))
        case = existing_case(ctx, uow, instance_id)
        if case.instance.status != InstanceStatus.INCIDENT:
            raise Conflict("instance %(id)s is %(status)s, not in incident; there is nothing to retry",
                           id=instance_id, status=Code(case.instance.status))
        restore(ctx, case)
        give_to_failed_step(case.workflow, data)
        uow.history.record("retried", ctx.clock.now(), instance_id=instance_id, actor=actor.name,
                           element_id=case.instance.incident_element, payload={"data": json_ready(data)})
        advance(ctx, uow, case, StepOutcome(), actor.name)
        return case.summary()


def search(ctx: EngineContext, user: str | None = None, business_key: str | None = None,
           process: str | None = None, status: str | None = None, page: int = 1,
           page_size: int = 25) -> CaseSearch:
    """One page of the cases `user` may see, newest first, filtered by business key (part of it),
    process and status."""
    if status is not None and status not in INSTANCE_STATUSES:
        raise InvalidData([FieldProblem("status", "must be one of %(values)s", values=codes(INSTANCE_STATUSES))])
    page, page_size = max(page, 1), min(max(page_size, 1), MAX_PAGE_SIZE)
    with unit_of_work(ctx, read_only=True) as uow:
        actor = acting(uow, user)
        cases, total = uow.instances.search(
            visible_for=None if actor.has_role(*SUPERVISORS) else actor.name, business_key=business_key,
            process=process, status=None if status is None else InstanceStatus(status), limit=page_size,
            offset=(page - 1) * page_size)
    return CaseSearch(cases=cases, total=total, page=page, pages=max(1, -(-total // page_size)))


def case_diagram(ctx: EngineContext, instance_id: int, user: str | None = None) -> bytes:
    """The BPMN file a case's process was deployed from, for drawing its diagram."""
    with unit_of_work(ctx, read_only=True) as uow:
        case = visible_case(ctx, uow, acting(uow, user), instance_id)
        return process_source(uow, case.definition.id, case.definition.key).content


def startable(ctx: EngineContext, user: str) -> list[StartForm]:
    """The newest active version of each process `user` may start, with its start form (may be empty)."""
    with unit_of_work(ctx, read_only=True) as uow:
        actor = load_actor(uow, user)
        found = []
        for stored in uow.definitions.all(latest_only=True, active_only=True):
            definition = runnable(ctx, uow, stored.id)
            if may_start(actor, definition):
                found.append(StartForm(key=definition.key, version=definition.version, name=definition.name,
                                       form=public_fields(start_form(definition))))
        return found
