"""Classes 5 and 8 of the isolation issue: what can be known at deploy is refused there, in
linear time, with a message naming the element; no refusal prints a traceback."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest

from tests.service.isolation import diagrams as d

FIELD = '<camunda:formField id="{id}" label="F" type="{type}"{default}>{extra}</camunda:formField>'


def _field(field_id: str = "amount", kind: str = "long", default: str | None = None, constraints: str = "",
           values: str = "") -> str:
    extra = values + (f"<camunda:validation>{constraints}</camunda:validation>" if constraints else "")
    return FIELD.format(id=field_id, type=kind, default=f' defaultValue="{default}"' if default is not None else "",
                        extra=extra)


def _constraint(name: str, config: str) -> str:
    return f'<camunda:constraint name="{name}" config="{config}"/>'


def _form_process(form: str) -> bytes:
    return d.process(d.start() + d.user_task("review", "f1", "f2", form) + d.end("f2")
                     + d.flow("f1", "start", "review") + d.flow("f2", "review", "end"))


@pytest.mark.parametrize("cell", ["?" * 60_000, "?" * 15_000, "'?" * 9_000 + "?", "? " * 9_000 + "'"],
                         ids=["question_marks", "expands_past_the_source_limit", "quotes", "odd_quote"])
def test_a_huge_dmn_cell_is_refused_in_linear_time(ctx, cell):
    started = time.monotonic()
    message = d.refusal(ctx, ("iso.bpmn", d.decision_process()), ("risk.dmn", d.decision_table([(cell, "'x'")])))
    assert time.monotonic() - started < 5
    assert "decision 'risk', rule 1, input 1" in message


def test_a_refused_dmn_cell_names_the_reason_and_logs_no_error(ctx, caplog):
    caplog.set_level(logging.WARNING)
    table = d.decision_table([("__import__('os')", "'x'")])
    message = d.refusal(ctx, ("iso.bpmn", d.decision_process()), ("risk.dmn", table))
    assert "__import__" in message and "not allowed" in message
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_a_rule_with_more_cells_than_the_table_has_inputs_is_refused(ctx):
    table = d.decision_table([(">= 1", "'x'")]).replace(b'<outputEntry id="r0o">',
                                                        b'<inputEntry id="r0x"><text>1</text></inputEntry><outputEntry id="r0o">')
    message = d.refusal(ctx, ("iso.bpmn", d.decision_process()), ("risk.dmn", table))
    assert "rule 1 has 2 input and 1 output cells, but the table has 1 inputs and 1 outputs" in message


@pytest.mark.parametrize("value", ["'R/' + 'P1D'", "timedelta(days=1)", "every", "${every}"],
                         ids=["concatenation", "call", "name", "juel"])
def test_a_timer_start_event_written_as_an_expression_is_refused(ctx, value):
    message = d.refusal(ctx, ("iso.bpmn", d.timer_start_process("timeCycle", value)))
    assert "is an expression; a start timer needs a literal ISO 8601 value" in message


def test_a_quoted_literal_start_timer_deploys(ctx):
    d.deploy(ctx, ("iso.bpmn", d.timer_start_process("timeCycle", "'R/P1D'")))


@pytest.mark.parametrize(("form", "says"), [
    (_field(default="abc"), "defaultValue 'abc' is not a long value"),
    (_field(kind="decimal", default="1,5"), "defaultValue '1,5' is not a decimal value"),
    (_field(kind="date", default="tomorrow"), "defaultValue 'tomorrow' is not a date value"),
    (_field(kind="boolean", default="maybe"), "defaultValue 'maybe' is not a boolean value"),
    (_field(constraints=_constraint("min", "x")), "its min 'x' is not a long value"),
    (_field(kind="double", constraints=_constraint("max", "lots")), "its max 'lots' is not a double value"),
    (_field(kind="string", constraints=_constraint("minlength", "three")), "its minlength 'three' is not a whole"),
    (_field(kind="string", constraints=_constraint("maxlength", "-1")), "its maxlength '-1' is not a whole"),
    (_field(default="5", constraints=_constraint("min", "10")), "defaultValue '5' must be at least 10"),
    (_field(constraints=_constraint("min", "10") + _constraint("max", "1")), "its min is greater than its max"),
    (_field(kind="enum", default="c", values='<camunda:value id="a" name="A"/>'), "defaultValue 'c' is not one of"),
    (_field(default="${amount}"), "is an expression"),
], ids=["long", "decimal", "date", "boolean", "min", "max", "minlength", "maxlength", "default_below_min",
        "min_above_max", "enum", "expression"])
def test_form_fields_whose_values_do_not_fit_their_type_are_refused(ctx, form, says):
    message = d.refusal(ctx, ("iso.bpmn", _form_process(form)))
    assert "[review]" in message and says in message, message


def test_a_fitting_form_deploys_and_its_default_applies(ctx):
    form = _field(default="12", constraints=_constraint("min", "10") + _constraint("max", "20"))
    case = d.run(ctx, _form_process(form))
    assert d.complete_review(ctx, case.id).variables["amount"] == 12


def test_the_command_line_prints_no_traceback_for_any_refusal(database_url, tmp_path):
    env = {**os.environ, "BANKFLOW_DATABASE_URL": database_url}
    exe = os.path.join(os.path.dirname(sys.executable), "bankflow")
    files = {
        "cell.dmn": d.decision_table([("__import__('os')", "'x'")]),
        "extra.dmn": d.decision_table([(">= 1", "'x'")], decision="extra").replace(
            b'<outputEntry id="r0o">', b'<inputEntry id="r0x"><text>1</text></inputEntry><outputEntry id="r0o">'),
        "start.bpmn": d.timer_start_process("timeCycle", "'R/' + 'P1D'"),
        "form.bpmn": _form_process(_field(default="abc")),
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        out = subprocess.run([exe, "deploy", str(tmp_path / name)], env=env, capture_output=True, text=True,
                             cwd=tmp_path, timeout=120)
        assert out.returncode != 0, name
        assert "Traceback" not in out.stdout + out.stderr, (name, out.stderr)
        assert name in out.stdout + out.stderr
