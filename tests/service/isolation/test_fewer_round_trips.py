"""Script runs and the gateway after them go to an evaluator in one request (`sandbox.prefetch`);
the outcome is the same as one at a time, and errors and crashes are reported at their step."""
from __future__ import annotations

import pytest

from engine.runtime.sandbox.pool import evaluator_pool
from tests.service.isolation import diagrams as d


def _chain(*scripts: str, condition: str | None = None) -> bytes:
    body, previous = d.start(), "start"
    flows = []
    for number, code in enumerate(scripts, 1):
        body += d.script(f"s{number}", code, f"f{number}", f"f{number + 1}")
        flows.append(d.flow(f"f{number}", previous, f"s{number}"))
        previous = f"s{number}"
    last = len(scripts) + 1
    if condition is None:
        body += d.end(f"f{last}")
        flows.append(d.flow(f"f{last}", previous, "end"))
    else:
        body += ('<bpmn:exclusiveGateway id="route" default="no_flow"><bpmn:incoming>f{0}</bpmn:incoming>'
                 '<bpmn:outgoing>yes_flow</bpmn:outgoing><bpmn:outgoing>no_flow</bpmn:outgoing>'
                 '</bpmn:exclusiveGateway>').format(last) + d.end("yes_flow", "yes") + d.end("no_flow", "no")
        flows += [d.flow(f"f{last}", previous, "route"), d.flow("yes_flow", "route", "yes", condition),
                  d.flow("no_flow", "route", "no")]
    return d.process(body + "".join(flows))


@pytest.fixture
def requests(monkeypatch):
    pool = evaluator_pool()
    sent: list[str] = []
    original = pool.request

    def counted(message, limits, evaluations=1):
        sent.append(message[0])
        return original(message, limits, evaluations)

    monkeypatch.setattr(pool, "request", counted)
    return sent


def _ended_at(ctx, case_id: int) -> set[str]:
    from engine.services import instances

    return {event.element_id for event in instances.get_instance(ctx, case_id).history if event.element_id}


def test_a_straight_run_and_its_gateway_take_one_request(ctx, requests):
    case = d.run(ctx, _chain("a = 1", "b = a + 1", "c = (a, b)", condition="c == [1, 2]"))
    assert case.status == "completed", case
    assert case.variables["c"] == [1, 2]
    assert requests == ["chain"]


def test_an_error_is_reported_at_its_own_step(ctx):
    case = d.run(ctx, _chain("a = 1", "b = a / 0", "c = 3"))
    assert case.status == "incident" and case.incident_element == "s2"
    assert "division by zero" in case.incident_message and "(line 1)" in case.incident_message
    assert "c" not in case.variables


def test_a_crash_is_reported_at_the_step_that_crashed(ctx):
    crash = "x = [1]\nfor i in range(1000000):\n    x = map(abs, x)\nn = len(list(x))"
    from engine.runtime.sandbox import ScriptLimits
    from engine.runtime.script_engine import BankflowScriptEngine

    ctx.script_engine = BankflowScriptEngine(ScriptLimits(cpu_seconds=6, memory_mb=256), ctx.clock, ctx.calendars,
                                             ctx.budget)
    case = d.run(ctx, _chain("a = 1", crash, "c = 3"))
    assert case.status == "incident" and case.incident_element == "s2"
    assert "crashed the script runner" in case.incident_message
    assert case.variables["a"] == 1


def test_a_condition_error_is_raised_only_if_the_gateway_asks(ctx):
    case = d.run(ctx, _chain("a = 1", condition="missing > 1"))
    assert case.status == "incident" and case.incident_element == "route"
    assert "missing" in case.incident_message


def test_answers_assumed_for_other_data_are_not_used(ctx):
    """A loop comes back to the same scripts with new data: each round is evaluated afresh."""
    case = d.run(ctx, d.loop_process("count += 1\nlast = count * 10", "count < 5"))
    assert case.status == "completed"
    assert case.variables["count"] == 5 and case.variables["last"] == 50
