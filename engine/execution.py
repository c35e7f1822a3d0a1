"""Load, run and save one process instance inside a service call's transaction.

This is the one place that restores a workflow, runs engine steps and writes the
results back (state, human tasks, activities, events, status), so every service
(start, complete, retry, timers) keeps the same guarantees.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.bpmn.intake import SourceFile, build_specs
from engine.context import EngineContext
from engine.runtime.runner import StepOutcome, run_engine_steps
from engine.runtime.specs import ProcessSpecs
from engine.runtime.sync import sync_activities, sync_external_jobs, sync_human_tasks
from engine.store.models import DeploymentFile, ProcessDefinition, ProcessInstance


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
    run_engine_steps(workflow, outcome)
    now = ctx.clock.now()
    elements = instance.definition.elements
    sync_activities(session, instance, workflow, outcome.completed, now, elements, is_new)
    sync_human_tasks(session, instance, workflow, now, elements, is_new)
    sync_external_jobs(session, instance, workflow, now, elements, is_new)
    if outcome.failure is not None:
        instance.status = "incident"
        instance.incident_element = outcome.failure.element_id
        instance.incident_message = outcome.failure.message
        record(session, "incident", now, instance_id=instance.id, element_id=outcome.failure.element_id,
               actor=actor, payload={"message": outcome.failure.message})
    elif workflow.is_completed():
        instance.status = "completed"
        instance.ended_at = now
        record(session, "instance_completed", now, instance_id=instance.id, actor=actor)
    else:
        instance.status = "running"
    if outcome.failure is None:
        instance.incident_element = instance.incident_message = None
    instance.state = ctx.serializer.dump(workflow)
    instance.variables = ctx.serializer.data_to_json(current_variables(workflow))
    return outcome
