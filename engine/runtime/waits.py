"""What a workflow waits for, found in one pass over its tasks, as plain descriptions.

The service layer mirrors these into rows (human tasks, activities, jobs) without
touching SpiffWorkflow objects itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.runtime.spiff import tasks_in, within_library_depth
from engine.runtime.timer_events import next_due

# SpiffWorkflow's event definition classes, by what a page calls the event a case waits for.
_EVENT_KINDS = (("TimerEventDefinition", "timer"), ("MessageEventDefinition", "message"),
                ("SignalEventDefinition", "signal"), ("ConditionalEventDefinition", "condition"),
                ("ErrorEventDefinition", "error"), ("EscalationEventDefinition", "escalation"))


@dataclass(frozen=True)
class FlowNode:
    """A workflow task that stands for a BPMN element."""

    spiff_id: str
    element_id: str
    name: str | None
    spec_type: str  # SpiffWorkflow's spec class, for elements the deploy metadata does not describe
    lane: str | None
    data: dict[str, Any]  # the task's data, not a copy: read it, never change it
    due_at: datetime | None = None  # a waiting timer's due time
    started: bool = False  # started and waiting for an answer (an external service task)


@dataclass(frozen=True)
class OpenWork:
    """What a workflow waits for, each keyed by SpiffWorkflow task id."""

    human: dict[str, FlowNode]  # user tasks ready for a person
    active: dict[str, FlowNode]  # flow nodes ready for a person or waiting: timers, messages, service calls

    def timer_dues(self) -> dict[str, datetime]:
        return {spiff_id: node.due_at for spiff_id, node in self.active.items() if node.due_at is not None}


@dataclass(frozen=True)
class OpenRows:
    """The SpiffWorkflow task ids with an open activity row and an open human task row."""

    activities: frozenset[str]
    tasks: frozenset[str]


NOTHING_OPEN = OpenRows(frozenset(), frozenset())


def is_finished(workflow: BpmnWorkflow) -> bool:
    """True when the workflow completed: the library says so and no task is left unfinished,
    also beyond the depth where the library stops looking."""
    if not workflow.is_completed():
        return False
    return within_library_depth(workflow) or not tasks_in(workflow, TaskState.NOT_FINISHED_MASK)


def is_flow_node(task: Task) -> bool:
    """True for tasks that stand for a BPMN element, not SpiffWorkflow's own control tasks."""
    return getattr(task.task_spec, "bpmn_id", None) is not None


def flow_node(task: Task) -> FlowNode:
    spec = task.task_spec
    return FlowNode(str(task.id), spec.bpmn_id, spec.bpmn_name, type(spec).__name__, getattr(spec, "lane", None),
                    task.data, next_due(task), task.has_state(TaskState.STARTED))


def open_work(workflow: BpmnWorkflow) -> OpenWork:
    human: dict[str, FlowNode] = {}
    active: dict[str, FlowNode] = {}
    for task in tasks_in(workflow, TaskState.READY | TaskState.WAITING | TaskState.STARTED):
        if task.has_state(TaskState.READY) and not task.task_spec.manual:
            continue  # the engine runs it; nobody waits for it
        if not is_flow_node(task):
            continue
        node = flow_node(task)
        if task.has_state(TaskState.READY):
            human[node.spiff_id] = node
        active[node.spiff_id] = node
    return OpenWork(human, active)


def open_rows(workflow: BpmnWorkflow) -> OpenRows:
    """The rows a restored workflow has open, without reading them.

    Every write-back leaves exactly one open activity row per active flow node and
    one open task row per ready user task, and saves the workflow in the same
    transaction, so the saved workflow says which rows are open.
    """
    work = open_work(workflow)
    return OpenRows(frozenset(work.active), frozenset(work.human))


@dataclass(frozen=True)
class CatchEvent:
    """A catching event or receive task of a definition: what it waits for (`kind`: timer, message,
    signal, condition, error, escalation or other), the message's or signal's name, and for a boundary
    event the element id of the activity it sits on."""

    kind: str
    event_name: str | None
    attached_to: str | None


def _event_kind(definition: Any) -> str:
    classes = {cls.__name__ for cls in type(definition).__mro__}
    return next((kind for name, kind in _EVENT_KINDS if name in classes), "other")


def catch_events(specs: Any) -> dict[str, CatchEvent]:
    """Every catching event and receive task of a definition's process and its subprocesses
    (`specs`: its ProcessSpecs), by element id; read from the specs, nothing runs."""
    found: dict[str, CatchEvent] = {}
    for process in (specs.spec, *specs.subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if definition is None or bpmn_id is None or not hasattr(task_spec, "catches"):
                continue
            attached_to = None
            if type(task_spec).__name__ == "BoundaryEvent" and task_spec.inputs:
                attached_to = next((getattr(o, "bpmn_id", None) for o in task_spec.inputs[0].outputs
                                    if o is not task_spec and getattr(o, "bpmn_id", None)), None)
            found[bpmn_id] = CatchEvent(_event_kind(definition), getattr(definition, "name", None), attached_to)
    return found
