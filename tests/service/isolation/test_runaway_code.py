"""Classes 1-3 and 9 of the isolation issue, through the real engine: code from an uploaded file
that would crash the process (exhausting the C stack), run for minutes inside one C call or build
gigabytes inside one C call ends as an incident at its element, within seconds, with a clear
message; the server process (this test process) lives on, its memory stays put, and the next
case runs. No memory address reaches case data or incident messages.

The default limits apply (2 s of CPU, 256 MB); the crash payloads get 6 s of CPU, so that
building a million wrappers on a busy machine reaches the crash rather than the CPU limit.
"""
from __future__ import annotations

import resource
import time

import pytest

from engine.runtime.sandbox import ScriptLimits
from engine.runtime.script_engine import BankflowScriptEngine
from engine.services import instances
from tests.service.isolation import diagrams as d

DEEP_MAP = "x = [1]\nfor i in range(1000000):\n    x = map(abs, x)\nn = len(list(x))"
DEEP_FILTER = "x = [1]\nfor i in range(1000000):\n    x = filter(None, x)\nn = len(list(x))"
DEEP_ZIP = "x = [1]\nfor i in range(1000000):\n    x = zip(x)\nn = len(list(x))"
DEEP_TUPLE = "t = ()\nfor i in range(1000000):\n    t = (t,)\nn = len({t})"
# The same as expressions (x is [1] in the case data): the walrus keeps the last wrapper.
DEEP_MAP_EXPRESSION = "[(x := map(abs, x)) for i in range(1000000)] and len(list(x)) > 0"
CRASHED = "crashed the script runner"
CPU = ("CPU time limit of 2 s", "did not finish within")  # on a busy machine the wall clock may end it first
MEMORY = "memory limit of 256 MB"


@pytest.fixture
def roomy(ctx):
    ctx.script_engine = BankflowScriptEngine(ScriptLimits(cpu_seconds=6, memory_mb=256), ctx.clock, ctx.calendars,
                                             ctx.budget)
    return ctx


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _incident(case: dict, element: str, says: str | tuple[str, ...]) -> None:
    assert case.status == "incident", case
    assert case.incident_element == element
    message = case.incident_message
    assert any(text in message for text in ((says,) if isinstance(says, str) else says)), message


def _still_serving(ctx) -> None:
    case = d.run(ctx, d.script_process("total = sum([1, 2, 3])"), key="iso")
    assert case.status == "completed" and case.variables["total"] == 6


@pytest.mark.parametrize("code", [DEEP_MAP, DEEP_FILTER, DEEP_ZIP, DEEP_TUPLE], ids=["map", "filter", "zip", "tuple"])
def test_exhausting_the_c_stack_in_a_script_is_an_incident(roomy, code):
    started = time.monotonic()
    _incident(d.run(roomy, d.script_process(code)), "work", CRASHED)
    assert time.monotonic() - started < 30
    _still_serving(roomy)


def test_exhausting_the_c_stack_in_a_gateway_condition_is_an_incident(roomy):
    _incident(d.run(roomy, d.gateway_process(DEEP_MAP_EXPRESSION), {"x": [1]}), "work", CRASHED)
    _still_serving(roomy)


def test_exhausting_the_c_stack_in_a_timer_expression_is_an_incident(roomy):
    expression = f"'PT' + str(int({DEEP_MAP_EXPRESSION})) + 'S'"
    _incident(d.run(roomy, d.timer_process("timeDuration", expression), {"x": [1]}), "work", CRASHED)
    _still_serving(roomy)


def test_exhausting_the_c_stack_in_a_dmn_cell_is_an_incident(roomy):
    table = d.decision_table([(">= 0", DEEP_MAP_EXPRESSION)])
    _incident(d.run(roomy, d.decision_process(), {"x": [1], "score": 5}, extra=(("risk.dmn", table),)),
              "work", CRASHED)
    _still_serving(roomy)


@pytest.mark.parametrize("code", [
    "n = int('f' * 2000000, 16) // int('e' * 1000000, 16)",
    "n = sum([1 << 99999] * 10000000)",
    "n = Decimal(int('f' * 3000000, 16))",
], ids=["int_division", "sum_of_big_ints", "decimal_of_big_int"])
def test_one_long_c_call_is_stopped_at_the_cpu_limit(ctx, code):
    started = time.monotonic()
    _incident(d.run(ctx, d.script_process(code)), "work", CPU)
    assert time.monotonic() - started < 30
    _still_serving(ctx)


def test_one_long_c_call_in_a_condition_is_stopped_at_the_cpu_limit(ctx):
    _incident(d.run(ctx, d.gateway_process("int('f' * 2000000, 16) // int('e' * 1000000, 16) > 0")), "work", CPU)


@pytest.mark.parametrize("code", [
    "n = len(format(Decimal('1e2000000000'), 'f'))",
    "n = len(f\"{Decimal('1e2000000000'):f}\")",
    "n = len('{:f}'.format(Decimal('1e2000000000')))",
], ids=["format", "f_string", "str_format"])
def test_a_huge_value_built_in_one_c_call_hits_the_memory_limit(ctx, code):
    before = _rss_mb()
    _incident(d.run(ctx, d.script_process(code)), "work", MEMORY)
    assert _rss_mb() - before < 100, "the 2 GB string was never built in the server"
    _still_serving(ctx)


def test_the_failed_step_can_be_retried_once_the_data_is_fixed(ctx):
    code = "n = len(format(Decimal(size), 'f'))"
    case = d.run(ctx, d.script_process(code), {"size": "1e2000000000"})
    _incident(case, "work", MEMORY)
    retried = instances.retry(ctx, case.id, {"size": "1e3"})
    assert retried.status == "completed"
    assert instances.get_instance(ctx, case.id).variables["n"] == 4


@pytest.mark.parametrize("code", [
    "shown = repr(len) + repr(sum) + repr(map(abs, [1]))",
    "shown = str([map(abs, [1]), filter(None, [])]) + f'{(lambda: 1)}' + '%r' % (zip(),)",
    "shown = '{} {!r}'.format(enumerate([]), reversed([1]))",
    "shown = str(KeyError(map(abs, [1])))",
], ids=["repr", "containers_and_fstrings", "str_format", "error_text"])
def test_no_memory_address_reaches_case_data(ctx, code):
    case = d.run(ctx, d.script_process(code))
    assert case.status == "completed", case
    assert "0x" not in case.variables["shown"], case.variables["shown"]
    assert "<map object>" in case.variables["shown"] or "object>" in case.variables["shown"]


@pytest.mark.parametrize("code", [
    "raise ValueError(map(abs, [1]))",
    "raise ValueError('where: ' + repr(sum))",
    "raise KeyError([filter(None, [])])",
], ids=["object", "text", "list"])
def test_no_memory_address_reaches_incident_messages(ctx, code):
    case = d.run(ctx, d.script_process(code))
    assert case.status == "incident"
    assert "0x" not in case.incident_message, case.incident_message
