"""Load, run and save one process instance inside a service call's transaction.

This is the one place that restores a workflow, runs engine steps and writes the
results back (state, human tasks, activities, jobs, events, status, SLA), so
every service (start, complete, retry, timers, external jobs) keeps the same
guarantees.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn.elements import referenced_value
from engine.bpmn.intake import SourceFile, build_specs
from engine.errors import N_, Conflict, Listing, NotFound
from engine.runtime.runner import StepOutcome, current_variables, new_workflow, run_engine_steps
from engine.runtime.serializer import check_data, json_ready
from engine.runtime.specs import ProcessSpecs, RunnableDefinition
from engine.runtime.waits import NOTHING_OPEN, FlowNode, OpenRows, OpenWork, is_finished, open_rows, open_work
from engine.services.context import EngineContext
from engine.services.write_back import (
    Step, sla_jobs, sync_activities, sync_external_jobs, sync_human_tasks, sync_timer_jobs)
from engine.sla.due_dates import SlaPlan, plan
from engine.sla.target_overrides import Overrides, effective_target
from engine.store import calendar_rows, definition_rows, job_rows, sla_override_rows
from engine.store.history_rows import record
from engine.store.instance_rows import InstanceRecord, insert_instance, read_instance, save_instance


def runnable(ctx: EngineContext, session: Session, definition_id: int) -> RunnableDefinition:
    """A definition version ready to run: read and parsed at most once per process."""

    def build() -> RunnableDefinition:
        row = definition_rows.definition_row(session, definition_id)
        files = definition_rows.files_by_id(session, row.source_files)
        spec, subprocess_specs = build_specs([SourceFile(f.name, f.content) for f in files], row.key)
        return RunnableDefinition(row.id, row.key, row.version, row.name, row.sla_target, row.sla_calendar,
                                  row.elements, ProcessSpecs(spec, subprocess_specs),
                                  tuple(row.starter_groups), tuple(row.starter_users))

    return ctx.definitions.get(definition_id, build)


def find_definition_id(session: Session, key: str, version: int | None = None) -> int:
    """The id of the given version of a process, or of its newest active one."""
    definition_id = definition_rows.definition_id_of(session, key, version)
    if definition_id is None:
        known = definition_rows.deployed_keys(session)
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


def startable_definition_id(session: Session, key: str, version: int | None = None) -> int:
    """Like `find_definition_id`, refusing a version that was deactivated: it starts no new case."""
    definition_id = find_definition_id(session, key, version)
    if version is not None and not definition_rows.is_active(session, definition_id):
        raise Conflict("version %(version)s of process '%(key)s' is deactivated and starts no new case",
                       version=version, key=key)
    return definition_id


def refresh_calendars(ctx: EngineContext, session: Session, force: bool = False) -> None:
    ctx.calendars.refresh(lambda: calendar_rows.all_calendars(session), force=force)


def overrides_for(ctx: EngineContext, session: Session, definition_id: int) -> Overrides:
    return ctx.sla_overrides.get(definition_id, lambda: sla_override_rows.overrides_of(session, definition_id))


@dataclass
class Case:
    """An instance loaded for one service call: its row and its definition version; once restored,
    also its workflow and the rows it had open."""

    instance: InstanceRecord
    definition: RunnableDefinition
    workflow: Any = None  # the restored BpmnWorkflow; only engine.runtime looks inside
    opened: OpenRows = NOTHING_OPEN


def load_case(ctx: EngineContext, session: Session, instance_id: int, lock: bool = False) -> Case | None:
    """The instance, or None; `lock` also takes its row lock (PostgreSQL) so concurrent callers queue."""
    instance = read_instance(session, instance_id, lock)
    if instance is None:
        return None
    return Case(instance, runnable(ctx, session, instance.definition_id))


def existing_case(ctx: EngineContext, session: Session, instance_id: int, lock: bool = False) -> Case:
    case = load_case(ctx, session, instance_id, lock)
    if case is None:
        raise NotFound("instance %(id)s does not exist", id=instance_id)
    return case


def restore(ctx: EngineContext, case: Case) -> Case:
    """Restore the case's workflow from its saved state (the spec comes from the definition cache)."""
    case.workflow = ctx.serializer.load(case.instance.state, case.definition.specs)
    case.workflow.script_engine = ctx.script_engine
    case.opened = open_rows(case.workflow)
    return case


def _task_sla_resolver(ctx: EngineContext, session: Session, definition_id: int, now: datetime):
    """Resolves each new task's SLA; overrides are read once, and only when a task is created."""
    overrides: Overrides | None = None

    def resolve(node: FlowNode, meta: dict[str, Any]) -> SlaPlan | None:
        nonlocal overrides
        if overrides is None:
            overrides = overrides_for(ctx, session, definition_id)
        props = meta.get("properties") or {}
        duration, calendar = effective_target(overrides.get(node.element_id), props.get("sla"),
                                              props.get("slaCalendar"))
        return plan(now, duration, calendar, ctx.calendars, due_date=referenced_value(meta.get("due_date"),
                                                                                       node.data))

    return resolve


def _has(elements: dict[str, dict[str, Any]], key: str) -> bool:
    return any(meta.get(key) for meta in elements.values())


def begin(ctx: EngineContext, session: Session, definition: RunnableDefinition, variables: dict[str, Any],
          business_key: str | None, user: str | None) -> Case:
    """Create an instance, run it to its first wait state and insert it with everything it produced."""
    check_data(variables, N_("the start data"))
    refresh_calendars(ctx, session)
    now = ctx.clock.now()
    workflow = new_workflow(definition.specs, ctx.script_engine, variables)
    instance = InstanceRecord(definition_id=definition.id, status="running", started_at=now, started_by=user,
                              business_key=business_key, variables=json_ready(variables))
    case = Case(instance, definition, workflow)
    sla = _process_sla(ctx, session, definition, now)
    if sla is not None:
        instance.due_at, instance.sla_status = sla.due_at, "on_track"
    outcome = run_engine_steps(workflow, budget=ctx.budget)
    work = open_work(workflow)
    _conclude(ctx, case, work, outcome, now)
    insert_instance(session, instance)
    record(session, "instance_started", now, instance_id=instance.id, actor=user,
           payload={"definition_key": definition.key, "version": definition.version, "business_key": business_key})
    _write_back(ctx, session, case, work, outcome, now, actor=user, is_new=True)
    if sla is not None and instance.status != "completed":
        job_rows.insert_jobs(session, sla_jobs(instance.id, None, sla))
    return case


def advance(ctx: EngineContext, session: Session, case: Case, outcome: StepOutcome, actor: str | None) -> StepOutcome:
    """Run a restored instance's engine steps to the next wait state and write everything back."""
    refresh_calendars(ctx, session)
    run_engine_steps(case.workflow, outcome, ctx.budget)
    now = ctx.clock.now()
    work = open_work(case.workflow)
    _conclude(ctx, case, work, outcome, now)
    _write_back(ctx, session, case, work, outcome, now, actor=actor, is_new=False)
    if case.instance.status == "completed":
        job_rows.delete_waiting_jobs(session, case.instance.id)
    save_instance(session, case.instance)
    return outcome


def _conclude(ctx: EngineContext, case: Case, work: OpenWork, outcome: StepOutcome, now: datetime) -> None:
    """The instance's columns after an engine run: status, incident, state, variables, next timer."""
    instance, workflow = case.instance, case.workflow
    if outcome.failure is not None:
        instance.status = "incident"
        instance.incident_element = outcome.failure.element_id
        instance.incident_message = outcome.failure.message
    else:
        instance.incident_element = instance.incident_message = None
        if is_finished(workflow):  # an end event completed it, not merely a task tree too deep to see
            instance.status, instance.ended_at = "completed", now
        else:
            instance.status = "running"
    instance.state = ctx.serializer.dump(workflow)
    instance.variables = json_ready(current_variables(workflow))
    if _has(case.definition.elements, "timer"):
        instance.next_due_at = min(work.timer_dues().values(), default=None)


def _write_back(ctx: EngineContext, session: Session, case: Case, work: OpenWork, outcome: StepOutcome,
                now: datetime, actor: str | None, is_new: bool) -> None:
    """Mirror the run into rows (activities, human tasks, jobs) and record how it ended."""
    instance, elements = case.instance, case.definition.elements
    step = Step(session, instance, case.workflow, now, elements, case.opened, work, is_new)
    sync_activities(step, outcome.completed_nodes())
    sync_human_tasks(step, _task_sla_resolver(ctx, session, instance.definition_id, now))
    if _has(elements, "topic"):
        sync_external_jobs(step)
    if _has(elements, "timer"):
        sync_timer_jobs(step)
    if outcome.failure is not None:
        record(session, "incident", now, instance_id=instance.id, element_id=outcome.failure.element_id,
               actor=actor, payload={"message": outcome.failure.message})
    elif instance.status == "completed":
        if breached_on_completion(instance.due_at, instance.sla_status, now):
            instance.sla_status = "breached"
            record_breach(session, now, instance.id, instance.due_at)
        record(session, "instance_completed", now, instance_id=instance.id, actor=actor)


def breached_on_completion(due_at: datetime | None, sla_status: str | None, now: datetime) -> bool:
    """Finished after its due time counts as breached, recorded once."""
    return due_at is not None and sla_status != "breached" and now > due_at


def record_breach(session: Session, now: datetime, instance_id: int, due_at: datetime,
                  task_id: int | None = None, element_id: str | None = None) -> None:
    record(session, "sla_breached", now, instance_id=instance_id, task_id=task_id, element_id=element_id,
           payload={"due_at": due_at.isoformat(), "detected": "at completion"})


def _process_sla(ctx: EngineContext, session: Session, definition: RunnableDefinition,
                 now: datetime) -> SlaPlan | None:
    """The end-to-end SLA of a case started now, or None when its process has no target."""
    duration, calendar = effective_target(overrides_for(ctx, session, definition.id).get(None),
                                          definition.sla_target, definition.sla_calendar)
    return plan(now, duration, calendar, ctx.calendars) if duration else None
