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

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.bpmn.intake import SourceFile, build_specs
from engine.services.context import EngineContext
from engine.runtime.runner import OpenWork, StepOutcome, new_workflow, open_work, run_engine_steps
from engine.runtime.serializer import json_ready
from engine.runtime.specs import ProcessSpecs, RunnableDefinition
from engine.runtime.sync import (
    NOTHING_OPEN,
    OpenRows,
    SlaResolver,
    Step,
    open_rows,
    sla_jobs,
    sync_activities,
    sync_external_jobs,
    sync_human_tasks,
    sync_timer_jobs,
    timer_dues,
)
from engine.sla.overrides import Override, effective_target
from engine.sla.targets import SlaPlan, plan
from engine.store.instance_rows import InstanceRecord, insert_instance, read_instance, save_instance
from engine.store.job_rows import delete_waiting_jobs, insert_jobs
from engine.store.models import DeploymentFile
from engine.store.tables import DEFINITION


def runnable(ctx: EngineContext, session: Session, definition_id: int) -> RunnableDefinition:
    """A definition version ready to run: read and parsed at most once per process."""

    def build() -> RunnableDefinition:
        row = session.execute(select(DEFINITION).where(DEFINITION.c.id == definition_id)).one()
        files = session.execute(select(DeploymentFile.name, DeploymentFile.content)
                                .where(DeploymentFile.id.in_(row.source_files))).all()
        spec, subprocess_specs = build_specs([SourceFile(f.name, f.content) for f in files], row.key)
        return RunnableDefinition(row.id, row.key, row.version, row.name, row.sla_target, row.sla_calendar,
                                  row.elements, ProcessSpecs(spec, subprocess_specs))

    return ctx.definitions.get(definition_id, build)


def load_instance(ctx: EngineContext, session: Session, instance_id: int, lock: bool = False) -> InstanceRecord | None:
    return read_instance(session, instance_id, lambda definition_id: runnable(ctx, session, definition_id), lock)


@dataclass
class Case:
    """A running instance restored for one service call: its row, its workflow, and the rows it had open."""

    instance: InstanceRecord
    workflow: BpmnWorkflow
    opened: OpenRows


def restore(ctx: EngineContext, instance: InstanceRecord) -> Case:
    workflow = ctx.serializer.load(instance.state, instance.definition.specs)
    workflow.script_engine = ctx.script_engine
    return Case(instance, workflow, open_rows(workflow))


def current_variables(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The process variables as a clerk would see them now."""
    if workflow.is_completed():
        return dict(workflow.data)
    latest = workflow.last_task
    return dict(latest.data) if latest is not None else dict(workflow.data)


def _task_sla_resolver(ctx: EngineContext, session: Session, instance: InstanceRecord, now: datetime) -> SlaResolver:
    """Resolves each new task's SLA; overrides are read once, and only when a task is created."""
    overrides: dict[str | None, Override] | None = None

    def resolve(task: Task, meta: dict[str, Any]):
        nonlocal overrides
        if overrides is None:
            overrides = ctx.sla_overrides.get(session, instance.definition_id)
        props = meta.get("properties") or {}
        duration, calendar = effective_target(overrides.get(task.task_spec.bpmn_id), props.get("sla"),
                                              props.get("slaCalendar"))
        return plan(now, duration, calendar, ctx.calendars, due_date=meta.get("due_date"), data=task.data)

    return resolve


def _has(elements: dict[str, dict[str, Any]], key: str) -> bool:
    return any(meta.get(key) for meta in elements.values())


def begin(ctx: EngineContext, session: Session, definition: RunnableDefinition, variables: dict[str, Any],
          business_key: str | None, user: str | None) -> InstanceRecord:
    """Create an instance, run it to its first wait state and insert it with everything it produced."""
    ctx.calendars.refresh(session)
    now = ctx.clock.now()
    workflow = new_workflow(definition.specs, ctx.script_engine, variables)
    instance = InstanceRecord(definition=definition, status="running", started_at=now, started_by=user,
                              business_key=business_key, variables=json_ready(variables))
    sla = _process_sla(ctx, session, definition, now)
    if sla is not None:
        instance.due_at, instance.sla_status = sla.due_at, "on_track"
    outcome = run_engine_steps(workflow)
    work = open_work(workflow)
    _conclude(ctx, instance, workflow, work, outcome, now)
    insert_instance(session, instance)
    record(session, "instance_started", now, instance_id=instance.id, actor=user,
           payload={"definition_key": definition.key, "version": definition.version, "business_key": business_key})
    _write_back(ctx, session, instance, workflow, work, outcome, now, actor=user, opened=NOTHING_OPEN, is_new=True)
    if sla is not None and instance.status != "completed":
        insert_jobs(session, sla_jobs(instance.id, None, sla))
    return instance


def advance(ctx: EngineContext, session: Session, case: Case, outcome: StepOutcome, actor: str | None) -> StepOutcome:
    """Run a restored instance's engine steps to the next wait state and write everything back."""
    instance, workflow = case.instance, case.workflow
    ctx.calendars.refresh(session)
    run_engine_steps(workflow, outcome)
    now = ctx.clock.now()
    work = open_work(workflow)
    _conclude(ctx, instance, workflow, work, outcome, now)
    _write_back(ctx, session, instance, workflow, work, outcome, now, actor=actor, opened=case.opened, is_new=False)
    if instance.status == "completed":
        delete_waiting_jobs(session, instance.id)
    save_instance(session, instance)
    return outcome


def _conclude(ctx: EngineContext, instance: InstanceRecord, workflow: BpmnWorkflow, work: OpenWork,
              outcome: StepOutcome, now: datetime) -> None:
    """The instance's columns after an engine run: status, incident, state, variables, next timer."""
    if outcome.failure is not None:
        instance.status = "incident"
        instance.incident_element = outcome.failure.element_id
        instance.incident_message = outcome.failure.message
    else:
        instance.incident_element = instance.incident_message = None
        if workflow.is_completed():
            instance.status, instance.ended_at = "completed", now
        else:
            instance.status = "running"
    instance.state = ctx.serializer.dump(workflow)
    instance.variables = json_ready(current_variables(workflow))
    if _has(instance.definition.elements, "timer"):
        instance.next_due_at = min((when for _, when in timer_dues(work).values()), default=None)


def _write_back(ctx: EngineContext, session: Session, instance: InstanceRecord, workflow: BpmnWorkflow,
                work: OpenWork, outcome: StepOutcome, now: datetime, actor: str | None, opened: OpenRows,
                is_new: bool) -> None:
    """Mirror the run into rows (activities, human tasks, jobs) and record how it ended."""
    step = Step(session, instance, workflow, now, instance.definition.elements, opened, work, is_new)
    sync_activities(step, outcome.completed)
    sync_human_tasks(step, _task_sla_resolver(ctx, session, instance, now))
    if _has(step.elements, "topic"):
        sync_external_jobs(step)
    if _has(step.elements, "timer"):
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
    duration, calendar = effective_target(ctx.sla_overrides.get(session, definition.id).get(None),
                                          definition.sla_target, definition.sla_calendar)
    return plan(now, duration, calendar, ctx.calendars) if duration else None
