"""Workflow state without its spec.

SpiffWorkflow's serializer writes the whole spec into every saved state; bankflow
keeps specs once per definition version (see `engine.runtime.specs`) and stores
only the task tree and data, which makes each save several times smaller and
faster. Task data may hold Decimal, date, time and timedelta values (forms and
scripts produce them).
"""
from __future__ import annotations

import json
import math
from datetime import date, time, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter, BpmnWorkflowConverter, TaskConverter, WorkflowConverter)
from SpiffWorkflow.task import Task
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from engine.errors import N_, FieldProblem, InvalidData, Message
from engine.runtime.sandbox.sizes import MAX_TEXT, data_problem, logical_size
from engine.runtime.specs import ProcessSpecs
from engine.runtime.spiff import BankflowSubWorkflow, BankflowWorkflow


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


ESCAPED_DICT = "bankflow.dict"


class StateError(ValueError):
    """Data that cannot be saved exactly; the message says what and why."""


class ExactRegistry(DefaultRegistry):
    """SpiffWorkflow's registry, made exact for data.

    The library marks converted objects with a `typename` key, so a dictionary of task data
    that has a `typename` key of its own would come back as an object (or fail every later
    restore); here such a dictionary is saved wrapped (`{"typename": "bankflow.dict", "items":
    ...}`) and comes back as the same dictionary. Tuples of any kind (named tuples such as
    `Decimal.as_tuple()` too) are saved as the lists a restore gives back anyway; timedeltas keep
    their microseconds; what JSON cannot hold exactly (a set, a key that is not text, a number
    that is not finite, an object of another type, nesting deeper than MAX_DEPTH) is a
    StateError naming the path, not a TypeError or RecursionError at the save.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register(timedelta, lambda v: {"days": v.days, "seconds": v.seconds, "microseconds": v.microseconds},
                      lambda v: timedelta(**v))

    def convert(self, obj: Any, _depth: int = 0, _path: str = "", **kwargs: Any) -> Any:
        kind = type(obj)
        if kind in _PRIMITIVES:
            if kind is float and not math.isfinite(obj):
                raise StateError(f"{_where(_path)}the number {obj} is not finite and cannot be saved")
            return obj
        typename = self.typenames.get(kind)
        if typename is not None:
            if kind is Decimal and not obj.is_finite():
                raise StateError(f"{_where(_path)}the number Decimal('{obj}') is not finite and cannot be saved")
            return self.convert_to_dict[typename](obj, **kwargs)
        if _depth >= MAX_DEPTH:
            raise StateError(f"{_where(_path)}the data is nested more than {MAX_DEPTH} levels deep")
        if isinstance(obj, dict):
            converted = {}
            for key, value in obj.items():
                if not isinstance(key, str):
                    raise StateError(f"{_where(_path)}the dictionary key {_short(key)} is not text")
                if callable(value) or isinstance(value, ModuleType):
                    continue  # as the library's `clean`: functions never become data
                converted[key] = self.convert(value, _depth + 1, f"{_path}.{key}" if _path else key)
            if "typename" in converted:
                return {"typename": ESCAPED_DICT, "items": converted}
            return converted
        if isinstance(obj, (list, tuple)):
            return [self.convert(item, _depth + 1, f"{_path}[{index}]") for index, item in enumerate(obj)]
        for base in (bool, int, float, str):
            if isinstance(obj, base):
                return self.convert(base(obj), _depth, _path)
        raise StateError(f"{_where(_path)}a {kind.__name__} cannot be saved (task data holds text, numbers, "
                         "Decimal, dates, times, durations, lists and text-keyed dictionaries)")

    def restore(self, val: Any, _depth: int = 0, **kwargs: Any) -> Any:
        kind = type(val)
        if kind in _PRIMITIVES:
            return val
        if _depth >= MAX_DEPTH + 2:
            raise StateError(f"the saved data is nested more than {MAX_DEPTH} levels deep")
        if kind is dict:
            typename = val.get("typename")
            if typename is None:
                return {key: self.restore(value, _depth + 1) for key, value in val.items()}
            if typename == ESCAPED_DICT and isinstance(val.get("items"), dict):
                return {key: self.restore(value, _depth + 1) for key, value in val["items"].items()}
            from_dict = self.convert_from_dict.get(typename) if isinstance(typename, str) else None
            if from_dict is None:  # saved before data was escaped: a dictionary of the data
                return {key: self.restore(value, _depth + 1) for key, value in val.items()}
            dct = dict(val)
            del dct["typename"]
            return from_dict(dct, **kwargs)
        if kind is list:
            return [self.restore(item, _depth + 1) for item in val]
        return super().restore(val, **kwargs)


MAX_DEPTH = 100 + 2   # task data nests at most 100 levels (sandbox.sizes.MAX_NESTING) below its variables
_PRIMITIVES = frozenset({str, int, bool, type(None), float})


def _where(path: str) -> str:
    return f"'{path[:200]}': " if path else ""


def _short(value: Any) -> str:
    text = repr(value) if type(value) in _PRIMITIVES else f"of type {type(value).__name__}"
    return text[:100]


def _registry() -> ExactRegistry:
    registry = BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG, registry=ExactRegistry())
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(time, lambda v: {"value": v.isoformat()}, lambda v: time.fromisoformat(v["value"]))
    SpecFreeWorkflowConverter(BankflowWorkflow, registry, typename="BpmnWorkflow")
    BpmnSubWorkflowConverter(BankflowSubWorkflow, registry, typename="BpmnSubWorkflow")
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
    """Task or workflow data as plain JSON values (Decimal and dates as strings), for display."""
    try:
        return json.loads(json.dumps(data, default=_json_default))
    except (TypeError, ValueError, RecursionError) as exc:
        raise StateError(f"the variables cannot be shown as JSON ({type(exc).__name__})") from None


def check_data(data: Any, what: str = N_("data")) -> None:
    """Refuse, with InvalidData, variables a save would not keep exactly (see `ExactRegistry`):
    they must be a text-keyed object of text, numbers, dates, lists and objects, nested at most
    100 levels and at most 10 million characters and items in all."""
    if not isinstance(data, dict):
        raise InvalidData([FieldProblem(what, "must be an object of variable names to values")])
    problem = data_problem(data)
    if problem is None and logical_size(data, MAX_TEXT) > MAX_TEXT:
        problem = f"more than {MAX_TEXT:,} characters and items"
    if problem is not None:
        raise InvalidData([FieldProblem(what, "holds %(problem)s, which cannot be kept in a case", problem=problem)],
                          summary=Message("%(what)s cannot be stored", what=Message(what)))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"PT{value.total_seconds():g}S"  # ISO 8601
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
