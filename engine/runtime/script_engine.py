"""The script engine every workflow runs with.

It evaluates every script, condition, timer expression and decision table in an evaluator
process (`sandbox.isolated`), and carries what bankflow's own task specs read through
`task.workflow.script_engine`: the clock and the business calendars (timer definitions) and the
budget of one service call (multi-instance cardinality).
"""
from __future__ import annotations

from typing import Any, Mapping

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

from engine.clock import Clock
from engine.runtime.budget import Budget, TooManyInstances, check_instance_count
from engine.runtime.sandbox import ScriptLimits
from engine.runtime.sandbox.isolated import IsolatedEnvironment, IsolatedScriptEngine
from engine.sla.calendar_cache import CalendarCache


class BankflowScriptEngine(IsolatedScriptEngine):
    def __init__(self, limits: ScriptLimits, clock: Clock, calendars: CalendarCache, budget: Budget | None = None):
        super().__init__(IsolatedEnvironment(limits))
        self.clock = clock
        self.calendars = calendars
        self.budget = budget or Budget()

    @property
    def limits(self) -> ScriptLimits:
        return self.environment.limits

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        value = super().evaluate(task, expression, external_context)
        spec = task.task_spec
        if isinstance(spec, MultiInstanceTask) and expression == spec.cardinality:
            try:
                check_instance_count(value, self.budget, spec.bpmn_id)
            except TooManyInstances as err:
                raise WorkflowTaskException(str(err), task=task, exception=err) from None
        return value

    def decide(self, task: Any, rules: list[Any], policy: str) -> list[Any]:
        """A decision table's matches for `task`, evaluated in one request (see `runtime.decisions`)."""
        return self.environment.decide(rules, policy, task.data)
