"""Load, run and save one process instance inside a service call's transaction.

This is the one place that restores a workflow, runs engine steps and writes the
results back (state, human tasks, activities, jobs, events, status, SLA), so
every service (start, complete, retry, timers, external jobs) keeps the same
guarantees.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from engine.bpmn.elements import referenced_value
from engine.bpmn.intake import SourceFile, build_specs
from engine.errors import N_, Conflict, Listing, NotFound
from engine.policy.cases import CaseFacts, may_see_case
from engine.records.definitions import runnable_definition
from engine.records.instances import CaseSummary, InstanceRecord, NewInstance
from engine.records.users import Actor
from engine.runtime.runner import StepOutcome, current_variables, new_workflow, run_engine_steps
from engine.runtime.serializer import check_data, json_ready
from engine.runtime.specs import ProcessSpecs, RunnableDefinition
from engine.runtime.waits import NOTHING_OPEN, FlowNode, OpenRows, OpenWork, is_finished, open_rows, open_work
from engine.services.context import EngineContext
from engine.services.write_back import (
    SlaResolver, Step, sla_jobs, sync_activities, sync_external_jobs, sync_human_tasks, sync_timer_jobs)
from engine.sla.due_dates import SlaPlan, plan
from engine.sla.set_targets import SetTargets, effective_target
from engine.statuses import InstanceStatus, SlaStatus
from engine.store.unit_of_work import UnitOfWork


def runnable(ctx: EngineContext, uow: UnitOfWork, definition_id: int) -> RunnableDefinition:
    """A definition version ready to run: read and parsed at most once per process."""

    def build() -> RunnableDefinition:
        stored = uow.definitions.get(definition_id)
        files = uow.definitions.files(stored.source_files)
        spec, subprocess_specs = build_specs([SourceFile(f.name, f.content) for f in files], stored.key)
        return runnable_definition(stored, ProcessSpecs(spec, subprocess_specs))

    return ctx.definitions.get(definition_id, build)


def find_definition_id(uow: UnitOfWork, key: str, version: int | None = None) -> int:
    """The id of the given version of a process, or of its newest active one."""
    definition_id = uow.definitions.id_of(key, version)
    if definition_id is None:
        known = uow.definitions.keys()
        if version is None and key in known:
            raise Conflict("process '%(key)s' has no active version: activate one first "
                           "(`bankflow activate %(key)s VERSION`)", key=key)
        deployed = Listing(known, "list")
        if version is not None and known:
            raise NotFound("version %(version)s of process '%(key)s' is not deployed; deployed processes: "
                           "%(deployed)s", version=version, key=key, deployed=deployed)
        if version is not None:
            raise NotFound("version %(version)s of process '%(key)s' is not deployed; nothing is deployed yet",
                           version=version, key=key)
        if known:
            raise NotFound("process '%(key)s' is not deployed; deployed processes: %(deployed)s", key=key,
                           deployed=deployed)
        raise NotFound("process '%(key)s' is not deployed; nothing is deployed yet", key=key)
    return definition_id


def startable_definition_id(uow: UnitOfWork, key: str, version: int | None = None) -> int:
    """Like `find_definition_id`, refusing a version that was deactivated: it starts no new case."""
    definition_id = find_definition_id(uow, key, version)
    if version is not None and not uow.definitions.is_active(definition_id):
        raise Conflict("version %(version)s of process '%(key)s' is deactivated and starts no new case",
                       version=version, key=key)
    return definition_id


def refresh_calendars(ctx: EngineContext, uow: UnitOfWork, force: bool = False) -> None:
    ctx.calendars.refresh(uow.calendars.all, force=force)


def set_targets_for(ctx: EngineContext, uow: UnitOfWork, definition_id: int) -> SetTargets:
    return ctx.set_targets.get(definition_id, lambda: uow.sla_targets.set_targets_of(definition_id))


@dataclass
class Case:
    """An instance loaded for one service call: its row and its definition version; once restored,
    also its workflow and the rows it had open. `instance` is replaced (never changed) as the call
    goes on, and saved by `advance`."""

    instance: InstanceRecord
    definition: RunnableDefinition
    workflow: Any = None  # the restored BpmnWorkflow; only engine.runtime looks inside
    opened: OpenRows = NOTHING_OPEN

    def summary(self) -> CaseSummary:
        """The case as start and retry results and lists show it."""
        instance, definition = self.instance, self.definition
        return CaseSummary(id=instance.id, definition_key=definition.key, version=definition.version,
                           process_name=definition.name, status=instance.status, business_key=instance.business_key,
                           started_at=instance.started_at, started_by=instance.started_by,
                           ended_at=instance.ended_at, incident_element=instance.incident_element,
                           incident_message=instance.incident_message)


def load_case(ctx: EngineContext, uow: UnitOfWork, instance_id: int, lock: bool = False) -> Case | None:
    """The instance, or None; `lock` also takes its row lock (PostgreSQL) so concurrent callers queue."""
    instance = uow.instances.get(instance_id, lock)
    if instance is None:
        return None
    return Case(instance=instance, definition=runnable(ctx, uow, instance.definition_id))


def existing_case(ctx: EngineContext, uow: UnitOfWork, instance_id: int, lock: bool = False) -> Case:
    case = load_case(ctx, uow, instance_id, lock)
    if case is None:
        raise NotFound("instance %(id)s does not exist", id=instance_id)
    return case


def visible_case(ctx: EngineContext, uow: UnitOfWork, actor: Actor, instance_id: int) -> Case:
    """The case, if `actor` may see it (`may_see_case`); to anyone else a case they may not see does not exist."""
    case = load_case(ctx, uow, instance_id)
    if case is None or not may_see_case(actor, CaseFacts(started_by=case.instance.started_by,
                                                         workers=uow.tasks.workers_of(instance_id))):
        raise NotFound("instance %(id)s does not exist", id=instance_id)
    return case


def restore(ctx: EngineContext, case: Case) -> Case:
    """Restore the case's workflow from its saved state (the spec comes from the definition cache)."""
    case.workflow = ctx.serializer.load(case.instance.state, case.definition.specs)
    case.workflow.script_engine = ctx.script_engine
    case.opened = open_rows(case.workflow)
    return case


def _task_sla_resolver(ctx: EngineContext, uow: UnitOfWork, definition_id: int,
                       now: datetime) -> SlaResolver:
    """Resolves each new task's SLA; set_targets are read once, and only when a task is created."""
    set_targets: SetTargets | None = None

    def resolve(node: FlowNode, meta: dict[str, Any]) -> SlaPlan | None:
        nonlocal set_targets
        if set_targets is None:
            set_targets = set_targets_for(ctx, uow, definition_id)
        props = meta.get("properties") or {}
        duration, calendar = effective_target(set_targets.get(node.element_id), props.get("sla"),
                                              props.get("slaCalendar"))
        return plan(now, duration, calendar, ctx.calendars, due_date=referenced_value(meta.get("due_date"),
                                                                                       node.data))

    return resolve


def _has(elements: dict[str, dict[str, Any]], key: str) -> bool:
    return any(meta.get(key) for meta in elements.values())


def begin(ctx: EngineContext, uow: UnitOfWork, definition: RunnableDefinition, variables: dict[str, Any],
          business_key: str | None, user: str | None) -> Case:
    """Create an instance, run it to its first wait state and insert it with everything it produced."""
    check_data(variables, N_("the start data"))
    refresh_calendars(ctx, uow)
    now = ctx.clock.now()
    workflow = new_workflow(definition.specs, ctx.script_engine, variables)
    sla = _process_sla(ctx, uow, definition, now)
    outcome = run_engine_steps(workflow, budget=ctx.budget)
    work = open_work(workflow)
    instance = uow.instances.insert(NewInstance(
        definition_id=definition.id, started_at=now, started_by=user, business_key=business_key,
        due_at=sla.due_at if sla else None, sla_status=SlaStatus.ON_TRACK if sla else None,
        **_run_columns(ctx, definition, workflow, work, outcome, now)))
    case = Case(instance=instance, definition=definition, workflow=workflow)
    uow.history.record("instance_started", now, instance_id=instance.id, actor=user,
                       payload={"definition_key": definition.key, "version": definition.version,
                                "business_key": business_key})
    _write_back(ctx, uow, case, work, outcome, now, actor=user, is_new=True)
    if sla is not None and case.instance.status != InstanceStatus.COMPLETED:
        uow.jobs.insert(sla_jobs(instance.id, None, sla))
    return case


def advance(ctx: EngineContext, uow: UnitOfWork, case: Case, outcome: StepOutcome, actor: str | None) -> StepOutcome:
    """Run a restored instance's engine steps to the next wait state and write everything back."""
    refresh_calendars(ctx, uow)
    run_engine_steps(case.workflow, outcome, ctx.budget)
    now = ctx.clock.now()
    work = open_work(case.workflow)
    case.instance = replace(case.instance, **_run_columns(ctx, case.definition, case.workflow, work, outcome, now))
    _write_back(ctx, uow, case, work, outcome, now, actor=actor, is_new=False)
    if case.instance.status == InstanceStatus.COMPLETED:
        uow.jobs.delete_waiting(case.instance.id)
    case.instance = uow.instances.save(case.instance)
    return outcome


def _run_columns(ctx: EngineContext, definition: RunnableDefinition, workflow: Any, work: OpenWork,
                 outcome: StepOutcome, now: datetime) -> dict[str, Any]:
    """The instance's columns after an engine run: status, incident, state, variables, next timer."""
    columns: dict[str, Any] = {"state": ctx.serializer.dump(workflow),
                               "variables": json_ready(current_variables(workflow))}
    if outcome.failure is not None:
        columns.update(status=InstanceStatus.INCIDENT, incident_element=outcome.failure.element_id,
                       incident_message=outcome.failure.message)
    else:
        columns.update(incident_element=None, incident_message=None)
        if is_finished(workflow):  # an end event completed it, not merely a task tree too deep to see
            columns.update(status=InstanceStatus.COMPLETED, ended_at=now)
        else:
            columns.update(status=InstanceStatus.RUNNING)
    if _has(definition.elements, "timer"):
        columns["next_due_at"] = min(work.timer_dues().values(), default=None)
    return columns


def _write_back(ctx: EngineContext, uow: UnitOfWork, case: Case, work: OpenWork, outcome: StepOutcome,
                now: datetime, actor: str | None, is_new: bool) -> None:
    """Mirror the run into rows (activities, human tasks, jobs) and record how it ended."""
    instance, elements = case.instance, case.definition.elements
    step = Step(uow=uow, instance_id=instance.id, workflow=case.workflow, now=now, elements=elements,
                opened=case.opened, work=work, is_new=is_new)
    sync_activities(step, outcome.completed_nodes())
    sync_human_tasks(step, _task_sla_resolver(ctx, uow, instance.definition_id, now))
    if _has(elements, "topic"):
        sync_external_jobs(step)
    if _has(elements, "timer"):
        sync_timer_jobs(step)
    if outcome.failure is not None:
        uow.history.record("incident", now, instance_id=instance.id, element_id=outcome.failure.element_id,
                           actor=actor, payload={"message": outcome.failure.message})
    elif instance.status == InstanceStatus.COMPLETED:
        if instance.due_at is not None and breached_on_completion(instance.due_at, instance.sla_status, now):
            case.instance = replace(instance, sla_status=SlaStatus.BREACHED)
            record_breach(uow, now, instance.id, instance.due_at)
        uow.history.record("instance_completed", now, instance_id=instance.id, actor=actor)


def breached_on_completion(due_at: datetime, sla_status: SlaStatus | None, now: datetime) -> bool:
    """Finished after its due time counts as breached, recorded once."""
    return sla_status != SlaStatus.BREACHED and now > due_at


def record_breach(uow: UnitOfWork, now: datetime, instance_id: int, due_at: datetime,
                  task_id: int | None = None, element_id: str | None = None) -> None:
    uow.history.record("sla_breached", now, instance_id=instance_id, task_id=task_id, element_id=element_id,
                       payload={"due_at": due_at.isoformat(), "detected": "at completion"})


def _process_sla(ctx: EngineContext, uow: UnitOfWork, definition: RunnableDefinition,
                 now: datetime) -> SlaPlan | None:
    """The end-to-end SLA of a case started now, or None when its process has no target."""
    duration, calendar = effective_target(set_targets_for(ctx, uow, definition.id).get(None),
                                          definition.sla_target, definition.sla_calendar)
    return plan(now, duration, calendar, ctx.calendars) if duration else None
