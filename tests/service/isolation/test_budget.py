"""Class 6 of the isolation issue: each service call has a budget (engine steps, wall-clock time,
multi-instance size), and a case is reported completed only when an end event completed it."""
from __future__ import annotations

import dataclasses
import time

import pytest

from engine.runtime.budget import Budget
from engine.runtime.script_engine import BankflowScriptEngine
from engine.services import instances
from tests.service.isolation import diagrams as d

MI_LITERAL = ('<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>1000000</bpmn:loopCardinality>'
              '</bpmn:multiInstanceLoopCharacteristics>')
MI_COMPUTED = ('<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>n</bpmn:loopCardinality>'
               '</bpmn:multiInstanceLoopCharacteristics>')
MI_COLLECTION = ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="items" camunda:elementVariable="item"/>')


def _budget(ctx, **limits):
    ctx.budget = dataclasses.replace(ctx.budget, **limits)
    ctx.script_engine = BankflowScriptEngine(ctx.limits, ctx.clock, ctx.calendars, ctx.budget)
    return ctx


def _quick(action, seconds: float = 30):
    started = time.monotonic()
    result = action()
    assert time.monotonic() - started < seconds
    return result


def test_a_literal_cardinality_above_the_cap_is_refused_at_deploy(ctx):
    message = _quick(lambda: d.refusal(ctx, ("iso.bpmn", d.multi_instance_process(MI_LITERAL))))
    assert "1,000,000" in message and "instances a task may have" in message


@pytest.mark.parametrize(("characteristics", "setup", "human"), [
    (MI_COMPUTED, "n = 1000000", False),
    (MI_COMPUTED, "n = 10**6", True),
    (MI_COLLECTION, "items = list(range(1000000))", True),
], ids=["cardinality", "expression", "collection"])
# (a million-item collection takes a second or two of the setup script's CPU to build and check:
# on a busy machine that may end at the setup script's own CPU limit instead, also an incident)
def test_a_computed_cardinality_above_the_cap_is_an_incident(ctx, characteristics, setup, human):
    case = _quick(lambda: d.run(ctx, d.multi_instance_process(characteristics, setup, human)))
    assert case.status == "incident", case
    if case.incident_element == "setup":
        assert "CPU time limit" in case.incident_message or "did not finish" in case.incident_message
        return
    assert case.incident_element == "each"
    assert "1,000,000 instances" in case.incident_message


def test_a_collection_above_the_cap_is_an_incident_before_any_instance(ctx):
    case = d.run(ctx, d.multi_instance_process(MI_COLLECTION, "items = list(range(5000))", True))
    assert case.status == "incident" and case.incident_element == "each"
    assert "5,000 instances" in case.incident_message
    assert case.tasks == (), "no instance (no human task) was created"


def test_a_cardinality_within_the_cap_runs(ctx):
    case = d.run(ctx, d.multi_instance_process(MI_COMPUTED, "n = 3"))
    assert case.status == "completed", case


def test_the_cap_is_configurable(ctx):
    _budget(ctx, max_instances=2)
    case = d.run(ctx, d.multi_instance_process(MI_COMPUTED, "n = 3"))
    assert case.status == "incident" and "at most 2 are allowed" in case.incident_message


def test_an_endless_loop_stops_at_the_step_budget_and_retry_goes_on(ctx):
    _budget(ctx, max_steps=300)
    case = _quick(lambda: d.run(ctx, d.loop_process("count += 1", "count < 150")))
    assert case.status == "incident"
    assert "300 steps" in case.incident_message
    rounds = case.variables["count"]
    assert 90 <= rounds <= 110  # three steps a round
    assert instances.retry(ctx, case.id).status == "completed"
    assert instances.get_instance(ctx, case.id).variables["count"] == 150


def test_an_endless_loop_ends_with_the_default_budget(ctx):
    case = _quick(lambda: d.run(ctx, d.loop_process("count += 1", "True")), seconds=60)
    assert case.status == "incident"
    assert "steps in one go" in case.incident_message or "s in one go" in case.incident_message


def test_slow_steps_stop_at_the_call_time_budget(ctx):
    _budget(ctx, max_seconds=1.0)
    slow = "count += 1\nspin = 0\nfor i in range(300000):\n    spin += 1"
    case = _quick(lambda: d.run(ctx, d.loop_process(slow, "count < 1000")))
    assert case.status == "incident"
    assert "more than 1 s in one go" in case.incident_message


def test_a_loop_of_two_thousand_rounds_completes_correctly(ctx):
    """SpiffWorkflow stops seeing tasks 1,000 levels down; this loop goes 6,000 deep."""
    case = _quick(lambda: d.run(ctx, d.loop_process("count += 1", "count < 2000")), seconds=60)
    if case.status == "incident":  # a slow machine may hit the time budget: never 'completed' early
        assert "in one go" in case.incident_message
        assert instances.retry(ctx, case.id).status in ("completed", "incident")
        case = instances.get_instance(ctx, case.id)
    if case.status == "completed":
        assert case.variables["count"] == 2000
        assert any(a["element_id"] == "end" for a in case.activities) if hasattr(case, "activities") else True


def test_completed_means_the_end_event_was_reached(ctx):
    """With budgets large enough to run past the library's depth limit, the loop either reaches its
    end event or is an incident; it is never reported completed half-way."""
    _budget(ctx, max_steps=2500, max_seconds=60)
    case = _quick(lambda: d.run(ctx, d.loop_process("count += 1", "count < 1000")), seconds=90)
    if case.status == "completed":
        assert case.variables["count"] == 1000
    else:
        assert case.status == "incident"
