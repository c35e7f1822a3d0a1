"""Fewer round trips to the evaluator processes: a run of script tasks, and the conditions of
the gateway after it, evaluated in one request.

A round trip to an evaluator costs tens of microseconds on an idle machine and a few hundred on a
busy one, mostly waking processes; a straight-through case runs several scripts and conditions in
a row. When the engine asks for a script task whose successors are more script tasks in a plain
sequence (one way out, one way in, no boundary event, no multi-instance), ending perhaps at an
exclusive or inclusive gateway, the whole run is sent at once (`IsolatedEnvironment.run_chain`):
the evaluator runs the scripts in order on its copy of the data, then evaluates the gateway's
conditions on the result. The answers are kept with the workflow for the tasks ahead; each is
used only if the task's data is exactly what the evaluator started that step from, so the
outcome is the same as asking one at a time (scripts and conditions change nothing but the data
they return). An error is raised at the step it belongs to. If the evaluator dies or overruns
during such a request, the step is asked again on its own, so the incident names the right one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask

MAX_CHAIN = 16
_ATTRIBUTE = "_bankflow_prefetched"


@dataclass
class Prefetched:
    data: dict[str, Any]      # the task data the evaluator started this step from
    answer: tuple[Any, ...]   # the reply for this step: ("ok", ...) or ("error", ...)


def _store(task: Any) -> dict[tuple[str, str, str], Prefetched]:
    workflow = task.workflow.top_workflow
    store = getattr(workflow, _ATTRIBUTE, None)
    if store is None:
        store = {}
        setattr(workflow, _ATTRIBUTE, store)
    return store


def take(task: Any, kind: str, text: str) -> Prefetched | None:
    """The kept answer for this step of this task, if its data is what the answer assumed."""
    store = getattr(task.workflow.top_workflow, _ATTRIBUTE, None)
    if not store:
        return None
    found = store.pop((task.task_spec.name, kind, text), None)
    if found is None or found.data != task.data:
        return None
    return found


def _is_plain_script(spec: Any) -> bool:
    return isinstance(spec, ScriptTask) and not isinstance(spec, LoopTask) and len(spec.inputs) == 1


def plan(task: Any) -> tuple[list[tuple[Any, str]], tuple[Any, list[str]] | None]:
    """The script tasks from `task` on in a plain sequence, and the gateway after them with its
    conditions (or None)."""
    spec = task.task_spec
    scripts = [(spec, spec.script)]
    while len(scripts) < MAX_CHAIN and len(spec.outputs) == 1 and _is_plain_script(spec.outputs[0]):
        spec = spec.outputs[0]
        scripts.append((spec, spec.script))
    gateway = None
    if len(spec.outputs) == 1 and isinstance(spec.outputs[0], (ExclusiveGateway, InclusiveGateway)) \
            and len(spec.outputs[0].inputs) == 1:
        conditions = [condition.args[0] for condition, _ in spec.outputs[0].cond_task_specs
                      if condition is not None and isinstance(condition.args[0], str)]
        if conditions:
            gateway = (spec.outputs[0], conditions)
    return scripts, gateway


def keep(task: Any, scripts: list[tuple[Any, str]], gateway: tuple[Any, list[str]] | None,
         answers: list[tuple[Any, ...]], condition_answers: list[tuple[Any, ...]]) -> None:
    """Keep the answers for the steps after the first (the caller applies that one now)."""
    store = _store(task)
    data = dict(task.data)
    for index, ((spec, script), answer) in enumerate(zip(scripts, answers)):
        if index:
            store[(spec.name, "script", script)] = Prefetched(dict(data), answer)
        if answer[0] != "ok":
            return
        updates, removed = answer[2], answer[3]
        data.update(updates)
        for name in removed:
            data.pop(name, None)
    if gateway is not None and len(answers) == len(scripts):
        spec, conditions = gateway
        for condition, answer in zip(conditions, condition_answers):
            store[(spec.name, "condition", condition)] = Prefetched(dict(data), answer)
