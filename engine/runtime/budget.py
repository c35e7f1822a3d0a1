"""What one service call may make the engine do: steps, wall-clock time, multi-instance size.

An uploaded diagram can loop forever (a gateway back to a script), fan out a million
multi-instance tasks or run many slow scripts in a row. Each service call (start, complete, a
timer, retry) therefore runs at most `max_steps` engine steps for at most `max_seconds`; past
either, the case goes into an incident at the next task to run, its state kept, and `retry`
goes on from there with a fresh budget. A multi-instance task may have at most `max_instances`
instances: a literal cardinality above it is refused at deploy, a computed one or a collection
too long is an incident at the task.

Configured with BANKFLOW_MAX_STEPS (default 10,000), BANKFLOW_MAX_CALL_SECONDS (default 20) and
BANKFLOW_MAX_INSTANCES (default 1,000).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the type checker sees the mixin with the methods of the spec it is mixed into
    from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask as _MixedInto
else:
    _MixedInto = object

DEFAULT_MAX_STEPS = 10_000
DEFAULT_MAX_SECONDS = 20.0
DEFAULT_MAX_INSTANCES = 1_000


@dataclass(frozen=True)
class Budget:
    max_steps: int = DEFAULT_MAX_STEPS
    max_seconds: float = DEFAULT_MAX_SECONDS
    max_instances: int = DEFAULT_MAX_INSTANCES

    def __post_init__(self) -> None:
        if self.max_steps <= 0 or self.max_seconds <= 0 or self.max_instances <= 0:
            raise ValueError("budget limits must be positive")

    @classmethod
    def from_env(cls) -> "Budget":
        return cls(max_steps=int(os.environ.get("BANKFLOW_MAX_STEPS", DEFAULT_MAX_STEPS)),
                   max_seconds=float(os.environ.get("BANKFLOW_MAX_CALL_SECONDS", DEFAULT_MAX_SECONDS)),
                   max_instances=int(os.environ.get("BANKFLOW_MAX_INSTANCES", DEFAULT_MAX_INSTANCES)))


class TooManyInstances(ValueError):
    """A multi-instance task would have more instances than the budget allows."""


def check_instance_count(value: Any, budget: Budget, element_id: str | None) -> None:
    """A cardinality (a number, or the collection given as one) within `max_instances`."""
    if isinstance(value, bool):
        return
    count = value if isinstance(value, int) else len(value) if isinstance(value, (list, tuple, dict, str)) else None
    if count is not None and count > budget.max_instances:
        raise TooManyInstances(
            f"multi-instance task '{element_id}' would run {count:,} instances; at most "
            f"{budget.max_instances:,} are allowed (BANKFLOW_MAX_INSTANCES)")


class _CappedInstances(_MixedInto):
    """Mixed into a multi-instance task spec: a collection too long for the budget is an
    incident at the task before any instance is created (a computed cardinality is checked
    where it is evaluated, in `BankflowScriptEngine.evaluate`)."""

    def _check_collection(self, my_task: Any, collection: Any) -> None:
        engine_budget = getattr(my_task.workflow.top_workflow.script_engine, "budget", None) or Budget()
        try:
            check_instance_count(collection, engine_budget, self.bpmn_id)
        except TooManyInstances as err:
            from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

            raise WorkflowTaskException(str(err), task=my_task, exception=err) from None

    def create_children(self, my_task: Any) -> Any:  # parallel instances, all created at once
        if self.data_input is not None and self.data_input.exists(my_task):
            self._check_collection(my_task, self.data_input.get(my_task))
        return super().create_children(my_task)

    def init_remaining_items(self, my_task: Any) -> Any:  # sequential instances over a collection
        remaining = super().init_remaining_items(my_task)
        self._check_collection(my_task, remaining)
        return remaining


_CAPPED: dict[type, type] = {}


def cap_instances(specs: Any) -> None:
    """Give every multi-instance task of `specs` (a process spec and its subprocess specs) the
    budget's cap on instances. The class keeps its name (bankflow reports spec class names)."""
    from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

    for spec in specs:
        for task_spec in spec.task_specs.values():
            kind = type(task_spec)
            if isinstance(task_spec, MultiInstanceTask) and not issubclass(kind, _CappedInstances):
                if kind not in _CAPPED:
                    _CAPPED[kind] = type(kind.__name__, (_CappedInstances, kind), {"__module__": kind.__module__})
                task_spec.__class__ = _CAPPED[kind]
