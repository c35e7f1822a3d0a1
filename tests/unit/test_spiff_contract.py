"""Contract tests: the SpiffWorkflow behaviours bankflow relies on, pinned on the installed release.

Each test runs a small BPMN process through `engine.runtime.spiff` (the one module that touches
SpiffWorkflow's internals) and the runtime around it, with bankflow's parser, script engine and
serializer, and no database. Its docstring names the adapter function or the library behaviour it
pins: after an upgrade of SpiffWorkflow, a failure here says what changed. The last tests check that
nothing in engine/ outside the adapter uses a private SpiffWorkflow name.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
import SpiffWorkflow
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine.bpmn.intake import SourceFile, build_specs
from engine.clock import ManualClock
from engine.runtime import spiff
from engine.runtime.budget import Budget
from engine.runtime.runner import (
    StepOutcome, TaskNotReady, complete_human_task, complete_service_task, current_variables, fire_due_timer,
    give_to_failed_step, new_workflow, run_engine_steps)
from engine.runtime.sandbox import ScriptLimits
from engine.runtime.script_engine import BankflowScriptEngine
from engine.runtime.serializer import StateSerializer
from engine.runtime.specs import ProcessSpecs
from engine.runtime.timer_events import next_due
from engine.runtime.waits import is_finished, open_work
from engine.sla.calendar_cache import CalendarCache

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "engine" / "runtime" / "spiff.py"

_DEFINITIONS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://bankflow.test">
{processes}
</bpmn:definitions>"""


def _process(body: str, key: str = "p") -> str:
    return f'<bpmn:process id="{key}" isExecutable="true">{body}</bpmn:process>'


def _flows(*pairs: str) -> str:
    """Sequence flows written `source>target` (or `source>target:condition`)."""
    out = []
    for index, pair in enumerate(pairs):
        source, _, rest = pair.partition(">")
        target, _, condition = rest.partition(":")
        expression = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
                      '</bpmn:conditionExpression>') if condition else ""
        out.append(f'<bpmn:sequenceFlow id="f{index}_{source}_{target}" sourceRef="{source}" '
                   f'targetRef="{target}">{expression}</bpmn:sequenceFlow>')
    return "".join(out)


def _specs(*processes: str, key: str = "p", dmn: str | None = None) -> ProcessSpecs:
    sources = [SourceFile("contract.bpmn", _DEFINITIONS.format(processes="".join(processes)).encode())]
    if dmn is not None:
        sources.append(SourceFile("contract.dmn", dmn.encode()))
    spec, subprocess_specs = build_specs(sources, key)
    return ProcessSpecs(spec, subprocess_specs)


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def script_engine(clock: ManualClock) -> BankflowScriptEngine:
    return BankflowScriptEngine(ScriptLimits(), clock, CalendarCache())


def _start(specs: ProcessSpecs, script_engine: Any, **data: Any) -> tuple[BpmnWorkflow, StepOutcome]:
    workflow = new_workflow(specs, script_engine, data)
    return workflow, run_engine_steps(workflow)


def _only(workflow: BpmnWorkflow, element_id: str, state: int = TaskState.ANY_MASK) -> Task:
    found = [task for task in spiff.tasks_in(workflow, state) if task.task_spec.bpmn_id == element_id]
    assert len(found) == 1, (element_id, found)
    return found[0]


def _completed(workflow: BpmnWorkflow) -> set[str]:
    return {task.task_spec.bpmn_id for task in spiff.tasks_in(workflow, TaskState.COMPLETED) if task.task_spec.bpmn_id}


USER_TASK = _process('<bpmn:startEvent id="start"/><bpmn:userTask id="review"/>'
                     '<bpmn:scriptTask id="after"><bpmn:script>doubled = amount * 2</bpmn:script></bpmn:scriptTask>'
                     '<bpmn:endEvent id="end"/>' + _flows("start>review", "review>after", "after>end"))


def test_user_task_waits_ready_and_completes_with_data(script_engine: Any) -> None:
    """A user task is manual: the step loop (`spiff.engine_round`) leaves it READY, `open_work` offers
    it, and `complete_human_task` runs it with the form's values, which the next steps see."""
    workflow, outcome = _start(_specs(USER_TASK), script_engine, applicant="Ann")
    assert outcome.failure is None
    review = _only(workflow, "review")
    assert review.has_state(TaskState.READY) and review.task_spec.manual
    assert list(open_work(workflow).human) == [str(review.id)]
    assert review.data["applicant"] == "Ann"
    complete_human_task(workflow, str(review.id), {"amount": Decimal("2.50")})
    assert review.has_state(TaskState.COMPLETED)
    run_engine_steps(workflow)
    assert is_finished(workflow)
    assert workflow.data["doubled"] == Decimal("5.00") and workflow.data["applicant"] == "Ann"
    with pytest.raises(TaskNotReady):
        complete_human_task(workflow, str(review.id), {})


def test_script_task_result_is_in_the_data(script_engine: Any) -> None:
    """`spiff.do_engine_steps` runs script tasks (not manual) to the end; what a script sets is in the
    task data, and in the workflow's data when it ends."""
    specs = _specs(_process('<bpmn:startEvent id="start"/>'
                            '<bpmn:scriptTask id="add"><bpmn:script>total = a + b</bpmn:script></bpmn:scriptTask>'
                            '<bpmn:endEvent id="end"/>' + _flows("start>add", "add>end")))
    workflow, outcome = _start(specs, script_engine, a=2, b=3)
    assert outcome.failure is None and outcome.steps > 0
    assert is_finished(workflow) and workflow.data["total"] == 5
    assert "add" in [node.element_id for node in outcome.completed_nodes()]


GATEWAY = _process('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="route" default="f1_route_low"/>'
                   '<bpmn:endEvent id="high"/><bpmn:endEvent id="low"/>'
                   + _flows("start>route", "route>low", "route>high:amount &gt; 100"))


@pytest.mark.parametrize(("amount", "end"), [(500, "high"), (50, "low")])
def test_exclusive_gateway_takes_its_default_flow(script_engine: Any, amount: int, end: str) -> None:
    """An exclusive gateway takes the flow whose condition holds, else its default flow."""
    workflow, outcome = _start(_specs(GATEWAY), script_engine, amount=amount)
    assert outcome.failure is None and is_finished(workflow)
    assert end in _completed(workflow) and ({"high", "low"} - {end}).isdisjoint(_completed(workflow))


PARALLEL = _process('<bpmn:startEvent id="start"/><bpmn:parallelGateway id="fork"/>'
                    '<bpmn:userTask id="left"/><bpmn:userTask id="right"/><bpmn:parallelGateway id="join"/>'
                    '<bpmn:scriptTask id="after"><bpmn:script>both = True</bpmn:script></bpmn:scriptTask>'
                    '<bpmn:endEvent id="end"/>'
                    + _flows("start>fork", "fork>left", "fork>right", "left>join", "right>join", "join>after",
                             "after>end"))


def test_parallel_join_waits_for_both_branches(script_engine: Any) -> None:
    """A parallel join waits (WAITING) until both branches arrive: `BankflowWorkflow.update_waiting_tasks`
    (`spiff._update_waiting_tasks`, through `spiff.update_task`) updates it after each task completes."""
    workflow, _ = _start(_specs(PARALLEL), script_engine)
    left, right = _only(workflow, "left"), _only(workflow, "right")
    assert left.has_state(TaskState.READY) and right.has_state(TaskState.READY)
    complete_human_task(workflow, str(left.id), {"left": 1})
    run_engine_steps(workflow)
    assert _only(workflow, "join", TaskState.WAITING)
    assert "after" not in _completed(workflow)
    complete_human_task(workflow, str(right.id), {"right": 2})
    run_engine_steps(workflow)
    assert is_finished(workflow) and workflow.data["both"] is True
    assert workflow.data["left"] == 1 and workflow.data["right"] == 2


def test_the_library_updates_waiting_tasks_through_bankflows_classes(script_engine: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`BankflowWorkflow` and `BankflowSubWorkflow` replace the library's walk over WAITING tasks by
    overriding `update_waiting_tasks`, which the library calls after every task completes
    (`Workflow._task_completed_notify`); the subprocess is of bankflow's class (`create_subprocess`)."""
    callers: list[type] = []
    for cls in (spiff.BankflowWorkflow, spiff.BankflowSubWorkflow):
        original = vars(cls)["update_waiting_tasks"]

        def spy(self: Any, original: Any = original) -> None:
            callers.append(type(self))
            original(self)

        monkeypatch.setattr(cls, "update_waiting_tasks", spy)
    _start(_specs(CALLER, CHILD), script_engine)
    assert set(callers) == {spiff.BankflowWorkflow, spiff.BankflowSubWorkflow}


TIMER = _process('<bpmn:startEvent id="start"/>'
                 '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
                 '<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>'
                 '</bpmn:intermediateCatchEvent><bpmn:userTask id="review"/><bpmn:endEvent id="end"/>'
                 + _flows("start>wait", "wait>review", "review>end"))


def test_timer_keeps_its_due_time_in_the_task_and_fires_on_the_clock(script_engine: Any, clock: ManualClock) -> None:
    """A duration timer waits (WAITING), its due time kept as an ISO text in the task's internal data
    (`spiff.timer_value`, the library's `event_value`); it fires when the workflow looks at a clock at
    or past it (`fire_due_timer` -> `refresh_timers` -> `FiresOnce.has_fired` -> `spiff.mark_fired`,
    the library's `event_fired`), and the next engine run moves on."""
    workflow, _ = _start(_specs(TIMER), script_engine)
    wait = _only(workflow, "wait", TaskState.WAITING)
    due = clock.now() + timedelta(hours=1)
    assert spiff.timer_value(wait) == due.isoformat()
    assert next_due(wait) == due and open_work(workflow).timer_dues() == {str(wait.id): due}
    assert [(event.name, event.value) for event in workflow.waiting_events()] == [("wait", due.isoformat())]
    assert not spiff.has_fired(wait)
    clock.advance(minutes=59)
    assert not fire_due_timer(workflow, str(wait.id))
    assert wait.has_state(TaskState.WAITING)
    clock.advance(minutes=1)
    assert fire_due_timer(workflow, str(wait.id))
    run_engine_steps(workflow)
    assert wait.has_state(TaskState.COMPLETED)
    assert _only(workflow, "review").has_state(TaskState.READY)


def _boundary(cancel: bool, definition: str) -> str:
    return _process(
        '<bpmn:startEvent id="start"/><bpmn:userTask id="review"/><bpmn:endEvent id="end"/>'
        f'<bpmn:boundaryEvent id="timer" attachedToRef="review" cancelActivity="{str(cancel).lower()}">'
        f'<bpmn:timerEventDefinition>{definition}</bpmn:timerEventDefinition></bpmn:boundaryEvent>'
        '<bpmn:scriptTask id="remind"><bpmn:script>reminders = reminders + 1</bpmn:script></bpmn:scriptTask>'
        '<bpmn:endEvent id="reminded"/>'
        + _flows("start>review", "review>end", "timer>remind", "remind>reminded"))


def test_interrupting_boundary_timer_cancels_the_task(script_engine: Any, clock: ManualClock) -> None:
    """An interrupting boundary timer, when due, cancels the task it sits on and takes its own path."""
    workflow, _ = _start(_specs(_boundary(True, "<bpmn:timeDuration>PT30M</bpmn:timeDuration>")), script_engine,
                         reminders=0)
    review, timer = _only(workflow, "review"), _only(workflow, "timer", TaskState.WAITING)
    clock.advance(minutes=30)
    assert fire_due_timer(workflow, str(timer.id))
    run_engine_steps(workflow)
    assert review.has_state(TaskState.CANCELLED)
    assert is_finished(workflow) and workflow.data["reminders"] == 1


def test_non_interrupting_cycle_timer_fires_each_period(script_engine: Any, clock: ManualClock) -> None:
    """A non-interrupting cycle timer on a user task: each occurrence runs its path while the task stays
    READY. `ClockedCycleTimer.cycle_complete` keeps `{"cycles", "next", "duration"}` as the timer's value
    (`spiff.timer_value`) and the library's `CycleTimerEventDefinition.update_task` adds the branch; after
    the last occurrence the event is over (`spiff.mark_fired`) and the timer's task completes."""
    workflow, _ = _start(_specs(_boundary(False, "<bpmn:timeCycle>R2/PT10M</bpmn:timeCycle>")), script_engine,
                         reminders=0)
    review, timer = _only(workflow, "review"), _only(workflow, "timer", TaskState.WAITING)
    assert spiff.timer_value(timer) == {"cycles": 2, "next": (clock.now() + timedelta(minutes=10)).isoformat(),
                                        "duration": "PT10M"}
    clock.advance(minutes=9)
    assert not fire_due_timer(workflow, str(timer.id))
    clock.advance(minutes=1)
    assert fire_due_timer(workflow, str(timer.id))
    outcome = run_engine_steps(workflow)
    assert [node.element_id for node in outcome.completed_nodes()] == ["remind", "reminded"]
    assert review.has_state(TaskState.READY) and timer.has_state(TaskState.WAITING)
    assert spiff.timer_value(timer) == {"cycles": 1, "next": (clock.now() + timedelta(minutes=10)).isoformat(),
                                        "duration": "PT10M"}
    clock.advance(minutes=10)
    assert fire_due_timer(workflow, str(timer.id))
    outcome = run_engine_steps(workflow)
    assert [node.element_id for node in outcome.completed_nodes()] == ["remind", "reminded", "timer"]
    assert review.has_state(TaskState.READY) and spiff.timer_value(timer)["cycles"] == 0
    complete_human_task(workflow, str(review.id), {})
    run_engine_steps(workflow)
    assert is_finished(workflow)


CHILD_BODY = ('<bpmn:startEvent id="child_start"/><bpmn:userTask id="draft"/>'
              '<bpmn:scriptTask id="sign"><bpmn:script>signed = draft_text + "!"</bpmn:script></bpmn:scriptTask>'
              '<bpmn:endEvent id="child_end"/>' + _flows("child_start>draft", "draft>sign", "sign>child_end"))
CHILD = _process(CHILD_BODY, key="child")
CALLER = _process('<bpmn:startEvent id="start"/><bpmn:callActivity id="call" calledElement="child"/>'
                  '<bpmn:userTask id="approve"/><bpmn:endEvent id="end"/>'
                  + _flows("start>call", "call>approve", "approve>end"))
EMBEDDED = _process(f'<bpmn:startEvent id="start"/><bpmn:subProcess id="call">{CHILD_BODY}</bpmn:subProcess>'
                    '<bpmn:userTask id="approve"/><bpmn:endEvent id="end"/>'
                    + _flows("start>call", "call>approve", "approve>end"))


@pytest.mark.parametrize("processes", [(CALLER, CHILD), (EMBEDDED,)], ids=["call_activity", "subprocess"])
def test_subprocess_is_created_run_and_finished(script_engine: Any, processes: tuple[str, ...]) -> None:
    """A call activity or embedded subprocess gets a `BankflowSubWorkflow` (`BankflowWorkflow.create_subprocess`);
    its tasks are found and run (`spiff.tasks_in`, `spiff.engine_round`), what its steps set is visible
    while it runs (`current_variables`), and when it ends its task in the parent completes
    (`spiff.update_task` on the subprocess's task) with the data copied back."""
    workflow, _ = _start(_specs(*processes), script_engine, applicant="Ann")
    assert isinstance(workflow, spiff.BankflowWorkflow)
    (sub,) = workflow.subprocesses.values()
    assert isinstance(sub, spiff.BankflowSubWorkflow) and sub.parent_task_id == _only(workflow, "call").id
    draft = _only(workflow, "draft", TaskState.READY)
    assert draft.workflow is sub and draft.data["applicant"] == "Ann"
    complete_human_task(workflow, str(draft.id), {"draft_text": "Dear Ann"})
    assert current_variables(workflow)["draft_text"] == "Dear Ann"
    run_engine_steps(workflow)
    assert _only(workflow, "call").has_state(TaskState.COMPLETED)
    approve = _only(workflow, "approve", TaskState.READY)
    assert approve.data["signed"] == "Dear Ann!"
    complete_human_task(workflow, str(approve.id), {})
    run_engine_steps(workflow)
    assert is_finished(workflow)


def test_serialized_state_survives_a_round_trip(script_engine: Any, clock: ManualClock) -> None:
    """`StateSerializer` saves the task tree without the specs (`SpecFreeWorkflowConverter`) and with typed
    data (`TypedDataTaskConverter`, `ExactRegistry`); the restored workflow is bankflow's class, with the
    same waiting tasks, timer values, subprocesses and data, and runs on from there."""
    timer_and_call = _process('<bpmn:startEvent id="start"/><bpmn:parallelGateway id="fork"/>'
                              '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
                              '<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>'
                              '</bpmn:intermediateCatchEvent><bpmn:endEvent id="timed"/>'
                              '<bpmn:callActivity id="call" calledElement="child"/><bpmn:endEvent id="end"/>'
                              + _flows("start>fork", "fork>wait", "wait>timed", "fork>call", "call>end"))
    specs = _specs(timer_and_call, CHILD)
    data = {"amount": Decimal("1234.50"), "born": date(1990, 5, 17), "pause": timedelta(hours=2, microseconds=5),
            "nested": {"typename": "mine", "items": [1, "two"]}}
    workflow, _ = _start(specs, script_engine, **data)
    serializer = StateSerializer()
    state = json.loads(json.dumps(serializer.dump(workflow)))
    assert "spec" not in state and "subprocess_specs" not in state
    waiting = _only(workflow, "wait")
    assert state["tasks"][str(waiting.id)]["internal_data"] == {"event_value": spiff.timer_value(waiting)}
    restored = serializer.load(state, specs)
    restored.script_engine = script_engine  # as the services do: the state holds no engine
    assert isinstance(restored, spiff.BankflowWorkflow)
    assert all(isinstance(sub, spiff.BankflowSubWorkflow) for sub in restored.subprocesses.values())
    assert open_work(restored).active.keys() == open_work(workflow).active.keys()
    wait = _only(restored, "wait", TaskState.WAITING)
    assert spiff.timer_value(wait) == spiff.timer_value(_only(workflow, "wait"))
    draft = _only(restored, "draft", TaskState.READY)
    assert {key: draft.data[key] for key in data} == data
    assert type(draft.data["amount"]) is Decimal and type(draft.data["born"]) is date
    complete_human_task(restored, str(draft.id), {"draft_text": "ok"})
    clock.advance(hours=1)
    assert fire_due_timer(restored, str(wait.id))
    assert run_engine_steps(restored).failure is None
    assert is_finished(restored) and _only(restored, "call").data["signed"] == "ok!"


FAILING = _process('<bpmn:startEvent id="start"/>'
                   '<bpmn:scriptTask id="divide"><bpmn:script>share = total / parts</bpmn:script></bpmn:scriptTask>'
                   '<bpmn:endEvent id="end"/>' + _flows("start>divide", "divide>end"))


def test_failed_script_is_put_back_ready_and_retried_with_new_data(script_engine: Any) -> None:
    """A failing script leaves its task in ERROR, which the runner puts back to READY with its data
    (`spiff.force_ready`: the public state setter refuses to go back); `give_to_failed_step` gives it
    corrected data and the next engine run goes on."""
    workflow, outcome = _start(_specs(FAILING), script_engine, total=10, parts=0)
    assert outcome.failure is not None and outcome.failure.element_id == "divide"
    assert "division by zero" in outcome.failure.message
    divide = _only(workflow, "divide")
    assert divide.has_state(TaskState.READY) and outcome.failure.spiff_task_id == str(divide.id)
    assert "share" not in divide.data
    give_to_failed_step(workflow, {"parts": 4})
    outcome = run_engine_steps(workflow)
    assert outcome.failure is None and is_finished(workflow) and workflow.data["share"] == 2.5


def test_library_refuses_a_backward_state_change() -> None:
    """Why `spiff.force_ready` uses `Task._set_state`: the public `Task.state` setter refuses ERROR -> READY.
    If a release allows it, the adapter can use the public setter."""
    specs = _specs(USER_TASK)
    workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs)
    task = workflow.get_next_task(state=TaskState.READY)
    task.error()
    with pytest.raises(WorkflowException):
        task.state = TaskState.READY
    spiff.force_ready(task)
    assert task.has_state(TaskState.READY)


TIMER_FROM_DATA = _process('<bpmn:startEvent id="start"/>'
                           '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
                           '<bpmn:timeDuration>pause</bpmn:timeDuration></bpmn:timerEventDefinition>'
                           '</bpmn:intermediateCatchEvent><bpmn:endEvent id="end"/>' + _flows("start>wait", "wait>end"))


def test_timer_with_an_unusable_value_is_prepared_again(script_engine: Any, clock: ManualClock) -> None:
    """A timer whose expression gives an unusable value fails while it is prepared (the library's
    `_update` of the task, not its run): the incident names the timer, and after `give_to_failed_step`
    the next engine run prepares it again (`spiff.update_task`) and it waits for its due time."""
    workflow, outcome = _start(_specs(TIMER_FROM_DATA), script_engine, pause="soon")
    assert outcome.failure is not None and outcome.failure.element_id == "wait"
    assert "the timer's value cannot be used" in outcome.failure.message
    give_to_failed_step(workflow, {"pause": "PT2H"})
    outcome = run_engine_steps(workflow)
    assert outcome.failure is None
    wait = _only(workflow, "wait", TaskState.WAITING)
    assert next_due(wait) == clock.now() + timedelta(hours=2)


SERVICE = _process('<bpmn:startEvent id="start"/>'
                   '<bpmn:serviceTask id="call" camunda:type="external" camunda:topic="crm"/>'
                   '<bpmn:endEvent id="end"/>' + _flows("start>call", "call>end"))


def test_external_service_task_waits_started(script_engine: Any) -> None:
    """A service task without an implementation returns None from its run, so the library leaves it
    STARTED (not completed): it waits for an external answer, which `complete_service_task` gives."""
    workflow, outcome = _start(_specs(SERVICE), script_engine)
    call = _only(workflow, "call", TaskState.STARTED)
    assert call not in outcome.completed
    assert open_work(workflow).active[str(call.id)].started
    complete_service_task(workflow, str(call.id), {"score": 7})
    run_engine_steps(workflow)
    assert is_finished(workflow) and workflow.data["score"] == 7


MULTI = _process('<bpmn:startEvent id="start"/><bpmn:userTask id="check"><bpmn:multiInstanceLoopCharacteristics '
                 'camunda:collection="items" camunda:elementVariable="item"/></bpmn:userTask>'
                 '<bpmn:userTask id="count"><bpmn:multiInstanceLoopCharacteristics isSequential="true">'
                 '<bpmn:loopCardinality>n</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'
                 '</bpmn:userTask><bpmn:endEvent id="end"/>' + _flows("start>check", "check>count", "count>end"))


def test_multi_instance_counts_are_capped(clock: ManualClock) -> None:
    """Multi-instance tasks: the library asks `MultiInstanceTask.create_children` (parallel, over a
    collection) before creating instances, which `budget.cap_instances` hooks, and evaluates a
    cardinality through `script_engine.evaluate` with the spec's `cardinality` text, which
    `BankflowScriptEngine.evaluate` checks."""
    engine = BankflowScriptEngine(ScriptLimits(), clock, CalendarCache(), Budget(max_instances=3))
    specs = _specs(MULTI)
    workflow, outcome = _start(specs, engine, items=[1, 2, 3, 4], n=2)
    assert outcome.failure is not None and "would run 4 instances" in outcome.failure.message
    assert outcome.failure.element_id == "check"
    workflow, outcome = _start(specs, engine, items=[1, 2], n=5)
    assert outcome.failure is None
    for task in [t for t in spiff.tasks_in(workflow, TaskState.READY) if t.task_spec.manual]:
        complete_human_task(workflow, str(task.id), {})
    outcome = run_engine_steps(workflow)
    assert outcome.failure is not None and "would run 5 instances" in outcome.failure.message


DMN = """<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn" name="risk"
    namespace="http://bankflow.test">
  <decision id="risk" name="Risk"><decisionTable id="table" hitPolicy="FIRST">
    <input id="in" label="Score"><inputExpression id="in_e" typeRef="integer"><text>score</text></inputExpression>
    </input><output id="out" label="Risk" name="risk.level" typeRef="string"/>
    <rule id="r1"><inputEntry id="r1i"><text>&lt; 500</text></inputEntry><outputEntry id="r1o"><text>"high"</text>
    </outputEntry></rule>
    <rule id="r2"><inputEntry id="r2i"><text>-</text></inputEntry><outputEntry id="r2o"><text>"low"</text>
    </outputEntry></rule>
  </decisionTable></decision>
</definitions>"""
RULES = _process('<bpmn:startEvent id="start"/><bpmn:businessRuleTask id="rate" camunda:decisionRef="risk"/>'
                 '<bpmn:endEvent id="end"/>' + _flows("start>rate", "rate>end"))


@pytest.mark.parametrize(("score", "level"), [(420, "high"), (700, "low")])
def test_decision_table_result_is_in_the_data(script_engine: Any, score: int, level: str) -> None:
    """A business rule task asks its engine (`BankflowDMNEngine`, made by the parser's `get_engine`) for
    `result(task)` and merges it into the task data; dotted output names nest."""
    workflow, outcome = _start(_specs(RULES, dmn=DMN), script_engine, score=score)
    assert outcome.failure is None and is_finished(workflow)
    assert workflow.data["risk"] == {"level": level}


def _loop(rounds: int) -> str:
    return _process('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="again"/>'
                    '<bpmn:scriptTask id="step"><bpmn:script>i = i + 1</bpmn:script></bpmn:scriptTask>'
                    '<bpmn:exclusiveGateway id="more" default="f3_more_done"/>'
                    '<bpmn:userTask id="done"/><bpmn:endEvent id="end"/>'
                    + _flows("start>again", "again>step", f"more>again:i &lt; {rounds}", "more>done", "done>end",
                             "step>more"))


def test_tasks_are_found_below_the_library_depth(script_engine: Any) -> None:
    """The library's iterator stops 1,000 levels down (`TaskIterator`'s `max_depth`), so a loop of a few
    hundred rounds hides its next task from `get_tasks`; `spiff.tasks_in` finds it, the step loop runs
    the loop through (`spiff.engine_round`), and `is_finished` is not fooled."""
    assert inspect.signature(TaskIterator.__init__).parameters["max_depth"].default == 1000
    workflow, outcome = _start(_specs(_loop(400)), script_engine, i=0)
    assert outcome.failure is None and not spiff.within_library_depth(workflow)
    assert workflow.get_tasks(state=TaskState.READY) == []
    done = _only(workflow, "done", TaskState.READY)
    assert done.data["i"] == 400 and done.depth > 1000
    assert not is_finished(workflow)
    complete_human_task(workflow, str(done.id), {})
    run_engine_steps(workflow)
    assert is_finished(workflow)


def test_step_budget_stops_before_a_task_and_goes_on(script_engine: Any) -> None:
    """The step loop (`spiff.do_engine_steps` with the runner's `run`) stops before the task that would
    exceed the budget, which is the incident; the next run goes on from there."""
    workflow = new_workflow(_specs(_loop(20)), script_engine, {"i": 0})
    outcome = run_engine_steps(workflow, budget=Budget(max_steps=10))
    assert outcome.failure is not None and outcome.steps == 10 and "10 steps" in outcome.failure.message
    stopped = spiff.tasks_in(workflow, TaskState.READY, manual=False)
    assert [str(task.id) for task in stopped] == [outcome.failure.spiff_task_id]
    assert run_engine_steps(workflow).failure is None
    assert _only(workflow, "done", TaskState.READY).data["i"] == 20


def test_walk_matches_the_library_order(script_engine: Any, clock: ManualClock) -> None:
    """`spiff.walk` yields exactly what the library's depth-first iterators yield, in the same order
    (`BpmnWorkflow.get_tasks` into subprocesses, `TaskIterator` within one workflow), also where the
    library does not look below a task (the completed branch of a cycle timer that still waits)."""
    workflow, _ = _start(_specs(PARALLEL), script_engine)
    sub_workflow, _ = _start(_specs(CALLER, CHILD), script_engine)
    cycle_workflow, _ = _start(_specs(_boundary(False, "<bpmn:timeCycle>R3/PT10M</bpmn:timeCycle>")), script_engine,
                               reminders=0)
    clock.advance(minutes=10)
    assert fire_due_timer(cycle_workflow, str(_only(cycle_workflow, "timer").id))
    run_engine_steps(cycle_workflow)
    for case in (workflow, sub_workflow, cycle_workflow):
        for state in (TaskState.READY, TaskState.WAITING, TaskState.COMPLETED, TaskState.FUTURE,
                      TaskState.NOT_FINISHED_MASK, TaskState.PREDICTED_MASK, TaskState.ANY_MASK):
            assert list(spiff.walk(case, state)) == case.get_tasks(state=state), state
            assert list(spiff.walk(case, state, into_subprocesses=False)) == list(
                TaskIterator(case.task_tree, state=state)), state


# --- nothing outside the adapter touches SpiffWorkflow's private names --------------------------------


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _library_private_names() -> set[str]:
    """Every private method and attribute name SpiffWorkflow defines."""
    names: set[str] = set()
    for path in Path(SpiffWorkflow.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(node.name):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _private(node.attr):
                names.add(node.attr)
    return names


def _engine_modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / "engine").rglob("*.py")):
        if path != ADAPTER and "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def _own_names(tree: ast.Module) -> set[str]:
    """The private names a module defines itself (its functions, methods and attributes)."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            own.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
    return own


def _private_uses(tree: ast.Module, library: set[str]) -> Iterator[tuple[int, str]]:
    """Where a module uses a SpiffWorkflow private name: `x._name` (a module's own `self._name` is its
    own), `getattr(x, "_name")`, or an import of a private SpiffWorkflow name or module."""
    own = _own_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in library:
            is_self = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if not (is_self and node.attr in own):
                yield node.lineno, f".{node.attr}"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                "getattr", "setattr", "hasattr", "delattr") and len(node.args) > 1 \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value in library:
            yield node.lineno, f"{node.func.id}(..., {node.args[1].value!r})"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("SpiffWorkflow"):
            for alias in node.names:
                if _private(alias.name) or any(_private(part) for part in (node.module or "").split(".")):
                    yield node.lineno, f"from {node.module} import {alias.name}"


def test_the_private_name_scan_finds_what_it_must() -> None:
    """The scan below sees each way of reaching a private name, and leaves a module's own names alone."""
    code = """
from SpiffWorkflow.task import _private_helper
class Mine:
    def _run(self): ...
    def go(self, task):
        self._run()
        task._run()
        task.task_spec._update(task)
        getattr(task, "_state")
        self._set_state(1)
"""
    found = [text for _, text in _private_uses(ast.parse(code), _library_private_names() | {"_private_helper"})]
    assert sorted(found) == sorted(["from SpiffWorkflow.task import _private_helper", "._run", "._update",
                                    "getattr(..., '_state')", "._set_state"])


def test_only_the_adapter_uses_spiffworkflow_private_names() -> None:
    """Outside `engine/runtime/spiff.py`, nothing in engine/ uses a name private to SpiffWorkflow."""
    library = _library_private_names()
    assert {"_update", "_set_state", "_get_internal_data", "_set_internal_data", "_predict", "_ready",
            "_run", "_state", "_children"} <= library
    offending = [f"{path.relative_to(ROOT)}:{line}: {text}"
                 for path, tree in _engine_modules() for line, text in _private_uses(tree, library)]
    assert not offending, "SpiffWorkflow's private names outside engine/runtime/spiff.py:\n" + "\n".join(offending)


def test_no_bankflow_class_overrides_a_private_spiffworkflow_method() -> None:
    """A bankflow class that subclasses a SpiffWorkflow class (outside the adapter) defines no private
    name that a SpiffWorkflow class in its bases defines: it would replace the library's internals."""
    offending = []
    for path, tree in _engine_modules():
        if not any(isinstance(node, (ast.Import, ast.ImportFrom)) and "SpiffWorkflow" in ast.unparse(node)
                   for node in ast.walk(tree)):
            continue
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for cls in [value for value in vars(module).values()
                    if inspect.isclass(value) and value.__module__ == module.__name__]:
            library_bases = [base for base in cls.__mro__[1:] if base.__module__.startswith("SpiffWorkflow")]
            for name in [name for name in vars(cls) if _private(name)]:
                if any(name in vars(base) for base in library_bases):
                    offending.append(f"{path.relative_to(ROOT)}: {cls.__name__}.{name}")
    assert not offending, "private SpiffWorkflow methods overridden outside engine/runtime/spiff.py:\n" + \
        "\n".join(offending)
