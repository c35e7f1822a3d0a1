"""Load, run and save one process instance inside a service call's transaction.

This is the one place that restores a workflow, runs engine steps and writes the
results back (state, human tasks, activities, jobs, events, status, SLA), so
every service (start, complete, retry, timers, external jobs) keeps the same
guarantees.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.bpmn.intake import SourceFile, build_specs
from engine.context import EngineContext
from engine.runtime.runner import StepOutcome, run_engine_steps
from engine.runtime.serializer import json_ready
from engine.runtime.specs import ProcessSpecs
from engine.runtime.sync import (
    SlaResolver,
    Step,
    sla_jobs,
    sync_activities,
    sync_external_jobs,
    sync_human_tasks,
    sync_timer_jobs,
)
from engine.sla.overrides import Override, effective_target
from engine.sla.targets import plan
from engine.store.models import DeploymentFile, Job, ProcessDefinition, ProcessInstance

SLA_JOB_KINDS = ("sla_at_risk", "sla_breach")


def definition_specs(ctx: EngineContext, session: Session, definition: ProcessDefinition) -> ProcessSpecs:
    """The parsed specs of a definition version, parsed at most once per process."""

    def build() -> ProcessSpecs:
        files = session.scalars(select(DeploymentFile).where(DeploymentFile.id.in_(definition.source_files))).all()
        spec, subprocess_specs = build_specs([SourceFile(f.name, f.content) for f in files], definition.key)
        return ProcessSpecs(spec, subprocess_specs)

    return ctx.specs.get(definition.id, build)


def restore(ctx: EngineContext, session: Session, instance: ProcessInstance) -> BpmnWorkflow:
    specs = definition_specs(ctx, session, instance.definition)
    workflow = ctx.serializer.load(instance.state, specs)
    workflow.script_engine = ctx.script_engine
    return workflow


def current_variables(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The process variables as a clerk would see them now."""
    if workflow.is_completed():
        return dict(workflow.data)
    latest = workflow.last_task
    return dict(latest.data) if latest is not None else dict(workflow.data)


def _task_sla_resolver(ctx: EngineContext, session: Session, instance: ProcessInstance, now: datetime) -> SlaResolver:
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


def advance(
    ctx: EngineContext,
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    outcome: StepOutcome,
    actor: str | None,
    is_new: bool = False,
) -> StepOutcome:
    """Run engine steps to the next wait state and write everything back."""
    ctx.calendars.refresh(session)
    run_engine_steps(workflow, outcome)
    now = ctx.clock.now()
    step = Step(session, instance, workflow, now, instance.definition.elements, is_new)
    sync_activities(step, outcome.completed)
    sync_human_tasks(step, _task_sla_resolver(ctx, session, instance, now))
    if _has(step.elements, "topic"):
        sync_external_jobs(step)
    if _has(step.elements, "timer"):
        sync_timer_jobs(step)
    if outcome.failure is not None:
        instance.status = "incident"
        instance.incident_element = outcome.failure.element_id
        instance.incident_message = outcome.failure.message
        record(session, "incident", now, instance_id=instance.id, element_id=outcome.failure.element_id,
               actor=actor, payload={"message": outcome.failure.message})
    elif workflow.is_completed():
        _finish(session, instance, now, actor)
    else:
        instance.status = "running"
    if outcome.failure is None:
        instance.incident_element = instance.incident_message = None
    instance.state = ctx.serializer.dump(workflow)
    instance.variables = json_ready(current_variables(workflow))
    if instance.status == "completed":
        # Last, so the instance row is written once, with its final state.
        session.execute(delete(Job).where(Job.instance_id == instance.id,
                                          Job.kind.in_(("timer", "external", *SLA_JOB_KINDS))))
    return outcome


def _finish(session: Session, instance: ProcessInstance, now: datetime, actor: str | None) -> None:
    instance.status = "completed"
    instance.ended_at = now
    record_breach_if_late(session, instance, None, now)
    record(session, "instance_completed", now, instance_id=instance.id, actor=actor)


def record_breach_if_late(session: Session, instance: ProcessInstance, task: Any, now: datetime) -> None:
    """At completion: finished after its due time counts as breached, recorded once."""
    subject = task if task is not None else instance
    if subject.due_at is None or subject.sla_status == "breached" or now <= subject.due_at:
        return
    subject.sla_status = "breached"
    record(session, "sla_breached", now, instance_id=instance.id, task_id=getattr(task, "id", None),
           element_id=getattr(task, "element_id", None),
           payload={"due_at": subject.due_at.isoformat(), "detected": "at completion"})


def start_process_sla(ctx: EngineContext, session: Session, instance: ProcessInstance) -> None:
    """Fix the end-to-end due time of a new instance and schedule its checks."""
    definition = instance.definition
    duration, calendar = effective_target(ctx.sla_overrides.get(session, definition.id).get(None),
                                          definition.sla_target, definition.sla_calendar)
    if not duration:
        return
    ctx.calendars.refresh(session)
    sla = plan(instance.started_at, duration, calendar, ctx.calendars)
    instance.due_at, instance.sla_status = sla.due_at, "on_track"
    session.execute(insert(Job.__table__), sla_jobs(instance.id, None, sla))
