"""Class 7 of the isolation issue: what a script leaves in task data comes back exactly after a
save and a restore, or is refused with a clear incident at the script; start data that could not
be kept is refused with a clear message."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from engine.errors import InvalidData
from engine.records.instances import CaseDetail
from engine.services import instances
from tests.service.isolation import diagrams as d


def _round_trip(ctx, first: str, second: str = "seen = True") -> CaseDetail:
    """Run `first`, save and restore at a user task, then run `second`; the finished case."""
    case = d.run(ctx, d.script_then_task_then_script(first, second))
    assert case.status == "running", case
    done = d.complete_review(ctx, case.id)
    assert done.status == "completed", done
    return done


def test_a_dict_with_a_typename_key_comes_back_as_that_dict(ctx):
    done = _round_trip(ctx, "x = {'typename': 'nope'}\ny = {'typename': 'Decimal', 'value': 'NaN'}\n"
                            "z = {'typename': 'bankflow.dict', 'items': {'typename': 'date'}}\ntypename = 'plain'",
                       "kinds = [isinstance(x, dict), isinstance(y, dict), y['value'], z['items']['typename'], typename]")
    assert done.variables["x"] == {"typename": "nope"}
    assert done.variables["y"] == {"typename": "Decimal", "value": "NaN"}
    assert done.variables["kinds"] == [True, True, "NaN", "date", "plain"]


def test_tuple_subclasses_become_lists_at_once(ctx):
    done = _round_trip(ctx, "t = Decimal('1.5').as_tuple()\nc = date(2024, 1, 1).isocalendar()\n"
                            "s = datetime(2024, 1, 1).timetuple()",
                       "second_kind = isinstance(c, list)")
    variables = done.variables
    assert variables["t"] == [0, [1, 5], -1]
    assert variables["c"] == [2024, 1, 1]
    assert variables["s"][:3] == [2024, 1, 1]
    assert variables["second_kind"] is True


def test_the_next_script_in_the_same_call_already_sees_a_list(ctx):
    """No save in between: the value is plain data as soon as the script that made it ends, so a
    case behaves the same whichever process restored it."""
    content = d.process(d.start() + d.script("one", "t = (1, 2)", "f1", "f2")
                        + d.script("two", "kind = isinstance(t, list)", "f2", "f3") + d.end("f3")
                        + d.flow("f1", "start", "one") + d.flow("f2", "one", "two") + d.flow("f3", "two", "end"))
    assert d.run(ctx, content).variables["kind"] is True


def test_typed_values_round_trip_exactly(ctx):
    done = _round_trip(ctx, "d = Decimal('-0.000')\nw = timedelta(days=1, microseconds=5)\n"
                            "deep = [[[[1]]]]",
                       "same = d == Decimal('-0.000') and str(d) == '-0.000' and w == timedelta(days=1, microseconds=5)")
    assert done.variables["same"] is True


@pytest.mark.parametrize(("code", "says"), [
    ("n = Decimal('NaN')", "not finite"),
    ("n = Decimal('sNaN')", "not finite"),
    ("n = float('inf')", "not finite"),
    ("n = [1]\nfor i in range(150):\n    n = [n]", "nested more than 100 levels"),
    ("n = {1: 'a'}", "not text"),
    ("n = {1, 2}", "a set"),
], ids=["decimal_nan", "decimal_snan", "infinity", "deep", "number_key", "set"])
def test_values_a_save_would_not_keep_are_an_incident_at_the_script(ctx, code, says):
    case = d.run(ctx, d.script_process(code))
    assert case.status == "incident" and case.incident_element == "work"
    assert says in case.incident_message, case.incident_message


def _nested(depth: int) -> dict:
    data: dict = {"leaf": 1}
    for _ in range(depth):
        data = {"inner": data}
    return data


def test_start_data_nested_400_deep_is_refused_clearly(ctx):
    d.deploy(ctx, ("iso.bpmn", d.script_process("x = 1")))
    with pytest.raises(InvalidData, match="nested more than 100 levels"):
        instances.start(ctx, "iso", {"data": _nested(400)})


def test_retry_data_is_checked_too(ctx):
    case = d.run(ctx, d.script_process("x = 1 / zero"), {"zero": 0})
    with pytest.raises(InvalidData, match="nested more than 100 levels"):
        instances.retry(ctx, case.id, {"zero": _nested(400)})
    assert instances.retry(ctx, case.id, {"zero": 2}).status == "completed"


def test_start_data_with_values_json_cannot_hold_is_refused(ctx):
    d.deploy(ctx, ("iso.bpmn", d.script_process("x = 1")))
    with pytest.raises(InvalidData, match="not finite"):
        instances.start(ctx, "iso", {"n": Decimal("NaN")})
    with pytest.raises(InvalidData, match="timedelta|not|a "):
        instances.start(ctx, "iso", {"n": object()})


def test_a_dmn_output_name_with_thousands_of_dots_is_refused_at_deploy(ctx):
    table = d.decision_table([(">= 0", "'low'")], output_name="a" + ".b" * 3000)
    message = d.refusal(ctx, ("iso.bpmn", d.decision_process()), ("risk.dmn", table))
    assert "3,001 dotted parts" in message


def test_a_dotted_dmn_output_name_nests_the_value(ctx):
    table = d.decision_table([(">= 0", "'low'")], output_name="applicant.risk.level")
    case = d.run(ctx, d.decision_process(), {"score": 5}, extra=(("risk.dmn", table),))
    assert case.status == "completed", case
    assert case.variables["applicant"] == {"risk": {"level": "low"}}


def test_a_timedelta_in_start_data_survives(ctx):
    case = d.run(ctx, d.script_then_task_then_script("a = 1", "same = wait == timedelta(microseconds=7)"),
                 {"wait": timedelta(microseconds=7)})
    assert d.complete_review(ctx, case.id).variables["same"] is True
