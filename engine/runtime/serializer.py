"""Workflow state without its spec.

SpiffWorkflow's serializer writes the whole spec into every saved state; bankflow
keeps specs once per definition version (see `engine.runtime.specs`) and stores
only the task tree and data, which makes each save several times smaller and
faster. Task data may hold Decimal, date, time and timedelta values (forms and
scripts produce them).
"""
from __future__ import annotations

import json
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter, WorkflowConverter
from SpiffWorkflow.task import Task
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from engine.runtime.specs import ProcessSpecs


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Converts a top-level workflow without its specs; restoring takes them from the caller."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], specs: ProcessSpecs | None = None) -> BpmnWorkflow:
        if specs is None:
            raise ValueError("restoring a workflow needs its process specs")
        workflow = self.target_class(specs.spec, specs.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class TypedDataTaskConverter(TaskConverter):
    """SpiffWorkflow stores each task's data as a delta against its parent but restores the
    delta through the registry without converting it on the way out; convert it, so dates
    and Decimals from forms survive a save."""

    def to_dict(self, task: Task) -> dict[str, Any]:
        dct = super().to_dict(task)
        dct["data"] = self.registry.convert(dct["data"])
        if dct["delta"]:
            dct["delta"]["updates"] = self.registry.convert(dct["delta"]["updates"])
        return dct


def _registry():
    registry = BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(time, lambda v: {"value": v.isoformat()}, lambda v: time.fromisoformat(v["value"]))
    SpecFreeWorkflowConverter(BpmnWorkflow, registry)
    TypedDataTaskConverter(Task, registry)
    return registry


class StateSerializer:
    """Dumps and loads workflow state as JSON-ready dicts."""

    def __init__(self) -> None:
        self._serializer = BpmnWorkflowSerializer(_registry())

    def dump(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = self._serializer.to_dict(workflow)
        dct[BpmnWorkflowSerializer.VERSION_KEY] = VERSION
        return dct

    def load(self, state: dict[str, Any], specs: ProcessSpecs) -> BpmnWorkflow:
        # from_dict pops keys off the top-level and subprocess dicts (never deeper), so
        # shallow copies of those keep the caller's state intact.
        dct = dict(state)
        dct["subprocesses"] = {k: dict(v) for k, v in state.get("subprocesses", {}).items()}
        self._serializer.migrate(dct)
        return self._serializer.from_dict(dct, specs=specs)


def json_ready(data: dict[str, Any]) -> dict[str, Any]:
    """Task or workflow data as plain JSON values (Decimal and dates as strings)."""
    return json.loads(json.dumps(data, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"PT{value.total_seconds():g}S"  # ISO 8601
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
