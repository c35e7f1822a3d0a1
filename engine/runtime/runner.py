"""Drive a SpiffWorkflow workflow to its next wait state, catching failures as incidents.

A failing step (script error, missing variable, no gateway branch, a sandbox limit)
must not lose work: the failing task is put back to READY with the data it had
before it ran, so the saved state is the state before the failing step and
`retry` can run it again.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.errors import N_
from engine.runtime.budget import Budget
from engine.runtime.serializer import check_data
from engine.runtime.sandbox.text import scrub_text
from engine.runtime.specs import ProcessSpecs
from engine.runtime.spiff import BankflowWorkflow, do_engine_steps, force_ready, tasks_in, update_task
from engine.runtime.timer_events import next_due
from engine.runtime.waits import FlowNode, flow_node, is_finished, is_flow_node

MAX_INCIDENT_MESSAGE = 2_000
PENDING_FAILURE = "_bankflow_pending_failure"
PREPARE_AGAIN = "bankflow_prepare_again"


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
    steps: int = 0  # engine steps run in this service call, against its budget

    def completed_nodes(self) -> list[FlowNode]:
        return [flow_node(task) for task in self.completed if is_flow_node(task)]


def new_workflow(specs: ProcessSpecs, script_engine: Any, data: dict[str, Any]) -> BpmnWorkflow:
    workflow = BankflowWorkflow(specs.spec, specs.subprocess_specs, script_engine=script_engine)
    workflow.data.update(data)
    # Start data must be visible to the first tasks, which inherit from the root task.
    workflow.task_tree.data.update(data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow


def run_engine_steps(workflow: BpmnWorkflow, outcome: StepOutcome | None = None,
                     budget: Budget | None = None) -> StepOutcome:
    """Run every READY non-manual task until only human tasks and waits remain, within `budget`.

    This is SpiffWorkflow's `do_engine_steps`, with two differences: it finds READY tasks at any
    depth of the task tree (the library stops looking 1,000 levels down, which a loop reaches
    after a few hundred rounds), and it stops before the task that would exceed the service
    call's budget of steps or time, which is then an incident at that task (nothing of it ran,
    so `retry` runs it with a fresh budget).
    """
    outcome = outcome or StepOutcome()
    budget = budget or _budget_of(workflow)
    deadline = time.monotonic() + budget.max_seconds
    pending = getattr(workflow, PENDING_FAILURE, None)
    if pending is not None:  # a timer that failed while the workflow looked at the time
        delattr(workflow, PENDING_FAILURE)
        outcome.failure = pending
        return outcome

    def run(task: Task) -> None:
        if outcome.steps >= budget.max_steps:
            raise BudgetStop(task, f"the process ran {budget.max_steps:,} steps in one go without reaching a wait "
                                   "(a loop that does not end?); it stopped here and `retry` goes on")
        if time.monotonic() > deadline:
            raise BudgetStop(task, f"the process ran for more than {budget.max_seconds:g} s in one go; it stopped "
                                   "here and `retry` goes on")
        outcome.steps += 1
        task.run()
        # A task that only started (an external service task waits STARTED) is not completed.
        if task.has_state(TaskState.COMPLETED):
            outcome.completed.append(task)

    try:
        for task in _to_prepare_again(workflow):
            del task.internal_data[PREPARE_AGAIN]
            update_task(task)
        do_engine_steps(workflow, run)
    except BudgetStop as stop:
        outcome.failure = stop.failure
    except Exception as exc:  # any failure in a step becomes an incident, never a crash
        outcome.failure = _rewind_failed_task(workflow, exc)
    return outcome


class BudgetStop(Exception):
    """Raised out of the engine loop before the task that would exceed the service call's budget:
    the incident is at that task, nothing of it ran."""

    def __init__(self, task: Task, message: str):
        super().__init__(message)
        self.failure = StepFailure(task.task_spec.bpmn_id or task.task_spec.name, str(task.id), message)


def _to_prepare_again(workflow: BpmnWorkflow) -> list[Task]:
    """Tasks whose preparation failed (a timer whose value was unusable): not run, not waiting."""
    return [task for task in tasks_in(workflow, TaskState.DEFINITE_MASK | TaskState.PREDICTED_MASK)
            if PREPARE_AGAIN in task.internal_data]


def _budget_of(workflow: BpmnWorkflow) -> Budget:
    return getattr(workflow.script_engine, "budget", None) or Budget()


def _rewind_failed_task(workflow: BpmnWorkflow, exc: Exception) -> StepFailure:
    """Put the failed task back to READY. Its data needs no rewinding: a script's changes are
    written back only when the script finishes (see `SandboxedEnvironment`)."""
    raised_at = getattr(exc, "task", None)
    failed = raised_at
    if failed is None or not failed.has_state(TaskState.ERROR):
        failed = next(iter(tasks_in(workflow, TaskState.ERROR)), None)
    if failed is None:
        # Failed while being prepared (a timer's value, a multi-instance cardinality), not run:
        # nothing to rewind; the next engine run or timer check tries it again.
        if raised_at is None:
            return StepFailure(None, None, describe_error(exc))
        if not raised_at.has_state(TaskState.FINISHED_MASK):
            raised_at.internal_data[PREPARE_AGAIN] = True  # saved with the state: `retry` prepares it again
        return StepFailure(raised_at.task_spec.bpmn_id, str(raised_at.id), describe_error(exc))
    force_ready(failed)
    # The incident names the element the error is about (a multi-instance task whose collection is
    # too long fails while its predecessor completes); `retry` runs the rewound task again.
    where = raised_at if raised_at is not None and getattr(raised_at.task_spec, "bpmn_id", None) else failed
    return StepFailure(where.task_spec.bpmn_id, str(failed.id), describe_error(exc))


def describe_error(exc: BaseException) -> str:
    """A one-line message for the incident: the error itself, not the library's wrapping, with
    no memory addresses (`<map object at 0x...>` becomes `<map object>`)."""
    inner = getattr(exc, "error", None) or getattr(exc, "exception", None) or _root_cause(exc)
    text = _text(exc.args[0]) if exc.args else type(exc).__name__
    if inner is not None and _text(inner) and _text(inner) not in text:
        text = f"{text}: {_text(inner)}"
    if text.startswith(_LIMIT_PREFIX):  # the limit's own message says it all
        text = text[len(_LIMIT_PREFIX):]
    line = getattr(exc, "line_number", None)
    if line:
        text = f"{text} (line {line})"
    return scrub_text(" ".join(text.split()))[:MAX_INCIDENT_MESSAGE]


_LIMIT_PREFIX = "ScriptLimitExceeded:"


def _root_cause(exc: BaseException) -> BaseException | None:
    """The error SpiffWorkflow wrapped (`raise WorkflowTaskException(...)` inside `except`)."""
    cause, seen = exc.__cause__ or exc.__context__, 0
    while cause is not None and isinstance(cause, SpiffWorkflowException) and seen < 10:
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    return cause


def _text(value: object) -> str:
    try:
        return str(value)[:MAX_INCIDENT_MESSAGE]
    except Exception:  # noqa: BLE001 - a value that cannot be shown
        return "(cannot be shown)"


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
    check_data(data, N_("the answer"))
    task = _waiting_task(workflow, spiff_task_id, TaskState.STARTED)
    task.data.update(data)
    task.complete()
    return task


def fire_due_timer(workflow: BpmnWorkflow, spiff_task_id: str) -> bool:
    """Let the workflow see the time; True when the timer of this task fired (or was already gone).

    A failure here (a timer whose value turns out unusable) is kept with the workflow and
    reported as the incident of the engine run that follows (`run_engine_steps`)."""
    task = find_task(workflow, spiff_task_id)
    before = next_due(task) if task is not None else None
    try:
        workflow.refresh_timers()
    except Exception as exc:  # noqa: BLE001 - becomes the incident of the next engine run
        setattr(workflow, PENDING_FAILURE, _rewind_failed_task(workflow, exc))
        return False
    return task is not None and (not task.has_state(TaskState.WAITING) or next_due(task) != before)


def give_to_failed_step(workflow: BpmnWorkflow, data: dict[str, Any]) -> None:
    """Corrected variables for a retry go to the step that failed (it was put back to READY)."""
    check_data(data, N_("the retry data"))
    for task in tasks_in(workflow, TaskState.READY, manual=False):
        task.data.update(data)
    for task in _to_prepare_again(workflow):  # it inherits its parent's data when prepared
        task.data.update(data)
        if task.parent is not None:
            task.parent.data.update(data)


def has_completed(workflow: BpmnWorkflow, spiff_task_id: str) -> bool:
    task = find_task(workflow, spiff_task_id)
    return task is not None and task.has_state(TaskState.COMPLETED)


OPEN_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def current_variables(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The process variables as a clerk would see them now: also what the steps of a subprocess under
    way have set, which lives in the subprocess's own scope until it ends (an approver must see the
    response drafted inside it)."""
    if is_finished(workflow):
        return dict(workflow.data)
    latest = workflow.last_task
    variables = dict(latest.data) if latest is not None else dict(workflow.data)
    for sub in workflow.subprocesses.values():  # outer ones first: the innermost scope wins
        for task in sub.tasks.values():
            if task.has_state(OPEN_STATES):
                variables.update(task.data)
    return variables
