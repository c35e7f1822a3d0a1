"""The same workloads on bare, in-memory SpiffWorkflow: the yardstick for the persisted figures.

Specs are parsed once with SpiffWorkflow's own CamundaParser (the workloads use
plain Python conditions, so bankflow's dialect translation would change nothing);
one script engine is built per run and shared by every instance, as bankflow's
EngineContext shares its own.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from bench.measure import Throughput, run_timed, say
from bench.workload import BenchFailure, HumanCase


@dataclass(frozen=True)
class BareSpecs:
    """A parsed process and the specs its call activities need."""

    spec: Any
    subprocess_specs: dict[str, Any]


def parse(path: Path, key: str) -> BareSpecs:
    """Parse once per run: parsing is a deploy-time cost, not part of running an instance."""
    parser = CamundaParser()
    parser.add_bpmn_file(str(path))
    return BareSpecs(parser.get_spec(key), parser.get_subprocess_specs(key))


def _new_workflow(specs: BareSpecs, script_engine: Any, variables: dict[str, Any]) -> BpmnWorkflow:
    """A fresh instance whose start task carries the input variables, as a started case would."""
    workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, script_engine=script_engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(variables)
    return workflow


def run_straight(specs: BareSpecs, script_engine: Any, variables: dict[str, Any]) -> None:
    """One straight-through instance in memory: what `instances.start` does minus persistence."""
    workflow = _new_workflow(specs, script_engine, variables)
    workflow.do_engine_steps()
    if not workflow.is_completed():
        raise BenchFailure("bare straight-through instance did not complete in one run of engine steps")


def run_human(specs: BareSpecs, script_engine: Any, case: HumanCase) -> None:
    """One human instance in memory: the three tasks worked in order, with no lists, claims or saves."""
    workflow = _new_workflow(specs, script_engine, case.variables)
    workflow.do_engine_steps()
    for step in case.steps:
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if len(ready) != 1 or ready[0].task_spec.bpmn_id != step.element_id:
            raise BenchFailure(f"bare human instance: expected {step.element_id} to be the one ready task, "
                               f"found {[t.task_spec.bpmn_id for t in ready]}")
        ready[0].data.update(step.data)
        ready[0].run()
        workflow.do_engine_steps()
    if not workflow.is_completed():
        raise BenchFailure("bare human instance did not complete after its three user tasks")


def measure_straight(specs: BareSpecs, script_engine: Any, inputs: list[dict[str, Any]], warmup: int) -> Throughput:
    """Warm up first so that imports and first-call costs stay out of the figure."""
    say(f"  bare straight: warm-up {warmup}, then {len(inputs)} timed instances")
    for variables in inputs[:warmup]:
        run_straight(specs, script_engine, variables)
    return run_timed("bare straight", inputs, lambda variables: run_straight(specs, script_engine, variables))


def measure_human(specs: BareSpecs, script_engine: Any, cases: list[HumanCase], warmup: int) -> Throughput:
    """Warm up first so that imports and first-call costs stay out of the figure."""
    say(f"  bare human: warm-up {warmup}, then {len(cases)} timed instances")
    for case in cases[:warmup]:
        run_human(specs, script_engine, case)
    return run_timed("bare human", cases, lambda case: run_human(specs, script_engine, case))


@dataclass(frozen=True)
class SandboxOverhead:
    """Sandboxed / plain time per straight-through instance, or why it could not be measured."""

    ratio: float | None
    reason: str | None = None
    plain: Throughput | None = None
    sandboxed: Throughput | None = None


def _alternating(specs: BareSpecs, plain_engine: Any, sandboxed_engine: Any, inputs: list[dict[str, Any]],
                 block: int) -> tuple[Throughput, Throughput]:
    """Alternate blocks of instances between the engines, so load changes on a shared machine hit both alike."""
    spent = {"plain": 0.0, "sandboxed": 0.0}
    for first in range(0, len(inputs), block):
        for name, engine in (("plain", plain_engine), ("sandboxed", sandboxed_engine)):
            began = time.perf_counter()
            for variables in inputs[first:first + block]:
                run_straight(specs, engine, variables)
            spent[name] += time.perf_counter() - began
    return Throughput(len(inputs), spent["plain"]), Throughput(len(inputs), spent["sandboxed"])


def measure_sandbox_overhead(specs: BareSpecs, inputs: list[dict[str, Any]], warmup: int,
                             block: int = 50) -> SandboxOverhead:
    """Compare bankflow's sandbox with the default PythonScriptEngine, when the sandbox exists yet."""
    try:
        from engine.runtime.sandbox import make_script_engine
    except ImportError as exc:
        return SandboxOverhead(None, f"engine.runtime.sandbox.make_script_engine is not importable ({exc})")
    plain_engine = PythonScriptEngine()
    try:
        sandboxed_engine = make_script_engine()
        for variables in inputs[:warmup]:
            run_straight(specs, sandboxed_engine, variables)
            run_straight(specs, plain_engine, variables)
    except Exception as exc:  # a sandbox still being written may refuse the workload: report, don't crash
        return SandboxOverhead(None, f"the sandboxed engine cannot run the straight-through workload "
                                     f"({type(exc).__name__}: {exc})")
    say(f"  {len(inputs)} instances per engine, alternating in blocks of {block}")
    plain, sandboxed = _alternating(specs, plain_engine, sandboxed_engine, inputs, block)
    say(f"    plain {plain.ms_per_instance:.2f} ms/instance, sandboxed {sandboxed.ms_per_instance:.2f} ms/instance")
    return SandboxOverhead(sandboxed.ms_per_instance / plain.ms_per_instance, None, plain, sandboxed)


@dataclass(frozen=True)
class EvaluatorOverhead:
    """What evaluating in evaluator processes costs over the in-process sandbox (issue #14)."""

    in_process_ms: float | None          # per straight-through instance, sandbox in this process
    isolated_ms: float | None            # per instance, every evaluation in an evaluator process
    evaluations_per_instance: float | None
    us_per_evaluation: float | None      # the difference per evaluation: the round trip's cost
    reason: str | None = None


def measure_evaluator_overhead(specs: BareSpecs, inputs: list[dict[str, Any]], warmup: int,
                               block: int = 50) -> EvaluatorOverhead:
    """The same instances alternately on the in-process sandbox and on the isolated engine."""
    try:
        from engine.runtime.sandbox import IsolatedEnvironment, IsolatedScriptEngine, make_script_engine
        from engine.runtime.sandbox.pool import EvaluatorPool
    except ImportError as exc:
        return EvaluatorOverhead(None, None, None, None, f"the evaluator pool is not importable ({exc})")
    pool = EvaluatorPool(size=1)
    requests = {"count": 0}
    send = pool.request

    def counted(message: Any, limits: Any, evaluations: int = 1) -> Any:
        requests["count"] += 1
        return send(message, limits, evaluations)

    pool.request = counted  # type: ignore[method-assign]
    in_process, isolated = make_script_engine(), IsolatedScriptEngine(IsolatedEnvironment(pool=pool))
    try:
        for variables in inputs[:warmup]:
            run_straight(specs, in_process, variables)
            run_straight(specs, isolated, variables)
        requests["count"] = 0
        say(f"  {len(inputs)} instances per engine, alternating in blocks of {block}")
        plain, remote = _alternating(specs, in_process, isolated, inputs, block)
    finally:
        pool.close()
    per_instance = requests["count"] / len(inputs)
    extra_ms = remote.ms_per_instance - plain.ms_per_instance
    say(f"    in-process {plain.ms_per_instance:.3f} ms/instance, isolated {remote.ms_per_instance:.3f} ms/instance, "
        f"{per_instance:.1f} evaluator requests/instance: {extra_ms * 1000 / per_instance:.0f} us a request")
    return EvaluatorOverhead(plain.ms_per_instance, remote.ms_per_instance, per_instance,
                             extra_ms * 1000 / per_instance if per_instance else None)
