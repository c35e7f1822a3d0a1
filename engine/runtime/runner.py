"""Drive a SpiffWorkflow workflow to its next wait state, catching failures as incidents.

A failing step (script error, missing variable, no gateway branch, a sandbox limit)
must not lose work: the failing task is put back to READY with the data it had
before it ran, so the saved state is the state before the failing step and
`retry` can run it again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.runtime.specs import ProcessSpecs
from engine.runtime.timer_events import next_due
from engine.runtime.waits import FlowNode, flow_node, is_flow_node


@dataclass(frozen=True)
class StepFailure:
    """Why the engine stopped: where, and a message for the incident."""

    element_id: str | None
    spiff_task_id: str | None
    message: str


@dataclass
class StepOutcome:
    """What one service call's engine run did: the tasks it completed, and why it stopped early."""

    completed: list[Task] = field(default_factory=list)
    failure: StepFailure | None = None

    def completed_nodes(self) -> list[FlowNode]:
        return [flow_node(task) for task in self.completed if is_flow_node(task)]


def new_workflow(specs: ProcessSpecs, script_engine: Any, data: dict[str, Any]) -> BpmnWorkflow:
    workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, script_engine=script_engine)
    workflow.data.update(data)
    # Start data must be visible to the first tasks, which inherit from the root task.
    workflow.task_tree.data.update(data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow


def run_engine_steps(workflow: BpmnWorkflow, outcome: StepOutcome | None = None) -> StepOutcome:
    """Run every READY non-manual task until only human tasks and waits remain."""
    outcome = outcome or StepOutcome()

    def after(task: Task) -> None:
        # Called after every run, also for a task that only started (an external service task waits STARTED).
        if task.has_state(TaskState.COMPLETED):
            outcome.completed.append(task)

    try:
        workflow.do_engine_steps(did_complete_task=after)
    except Exception as exc:  # any failure in a step becomes an incident, never a crash
        outcome.failure = _rewind_failed_task(workflow, exc)
    return outcome


def _rewind_failed_task(workflow: BpmnWorkflow, exc: Exception) -> StepFailure:
    """Put the failed task back to READY. Its data needs no rewinding: the sandbox writes a
    script's changes back only when the script finishes (see `SandboxedEnvironment`)."""
    failed = getattr(exc, "task", None)
    if failed is None or not failed.has_state(TaskState.ERROR):
        failed = next(iter(workflow.get_tasks(state=TaskState.ERROR)), None)
    if failed is None:
        return StepFailure(None, None, describe_error(exc))
    failed._set_state(TaskState.READY)
    return StepFailure(failed.task_spec.bpmn_id, str(failed.id), describe_error(exc))


def describe_error(exc: Exception) -> str:
    """A one-line message for the incident: the error itself, not the library's wrapping."""
    inner = getattr(exc, "error", None) or getattr(exc, "exception", None)
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    if inner is not None and str(inner) and str(inner) not in text:
        text = f"{text}: {inner}"
    line = getattr(exc, "line_number", None)
    if line:
        text = f"{text} (line {line})"
    return " ".join(text.split())


class TaskNotReady(Exception):
    """The workflow no longer waits for this task (it moved on, or the state is stale)."""


def find_task(workflow: BpmnWorkflow, spiff_task_id: str) -> Task | None:
    """The workflow's task with this id, or None when the workflow no longer has it."""
    try:
        return workflow.get_task_from_id(UUID(spiff_task_id))
    except TaskNotFoundException:
        return None


def _waiting_task(workflow: BpmnWorkflow, spiff_task_id: str, state: TaskState) -> Task:
    task = find_task(workflow, spiff_task_id)
    if task is None or not task.has_state(state):
        raise TaskNotReady(spiff_task_id)
    return task


def complete_human_task(workflow: BpmnWorkflow, spiff_task_id: str, data: dict[str, Any]) -> Task:
    """Run a ready user task with the submitted form values."""
    task = _waiting_task(workflow, spiff_task_id, TaskState.READY)
    task.data.update(data)
    task.run()
    return task


def complete_service_task(workflow: BpmnWorkflow, spiff_task_id: str, data: dict[str, Any]) -> Task:
    """Finish a service task that waits for an external answer, with the answer's variables."""
    task = _waiting_task(workflow, spiff_task_id, TaskState.STARTED)
    task.data.update(data)
    task.complete()
    return task


def fire_due_timer(workflow: BpmnWorkflow, spiff_task_id: str) -> bool:
    """Let the workflow see the time; True when the timer of this task fired (or was already gone)."""
    task = find_task(workflow, spiff_task_id)
    before = next_due(task) if task is not None else None
    workflow.refresh_timers()
    return task is not None and (not task.has_state(TaskState.WAITING) or next_due(task) != before)


def give_to_failed_step(workflow: BpmnWorkflow, data: dict[str, Any]) -> None:
    """Corrected variables for a retry go to the step that failed (it was put back to READY)."""
    for task in workflow.get_tasks(state=TaskState.READY, manual=False):
        task.data.update(data)


def has_completed(workflow: BpmnWorkflow, spiff_task_id: str) -> bool:
    task = find_task(workflow, spiff_task_id)
    return task is not None and task.has_state(TaskState.COMPLETED)


def current_variables(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The process variables as a clerk would see them now."""
    if workflow.is_completed():
        return dict(workflow.data)
    latest = workflow.last_task
    return dict(latest.data) if latest is not None else dict(workflow.data)
