"""Escapes and resource attacks from uploaded BPMN files must all fail, in three places each.

The attacks are listed in tests/helpers/attacks.py. Every attack runs (1) directly on the sandboxed environment, (2) as a script task and (3) as an
exclusive gateway's condition in a tiny BPMN process run by SpiffWorkflow with the sandboxed
engine. A successful escape would create the file MARKER; each test asserts that it does not
exist and that the attack was refused at compile time or raised while running.

`test_escapes_work_without_the_sandbox` runs the escape payloads under SpiffWorkflow's default
environment to show they are real: there, they do create the marker.
"""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from engine.runtime.sandbox import (
    SandboxedEnvironment,
    SandboxViolation,
    ScriptLimitExceeded,
    ScriptLimits,
    check_expression,
    check_script,
    make_script_engine,
)
from tests.helpers.attacks import ATTACKS, ESCAPES, STATIC, Attack
from tests.helpers.spiff_runs import run_gateway, run_script_task

LIMITS = ScriptLimits(cpu_seconds=0.3, memory_mb=64)

SAFE_VALUES = {"Decimal": Decimal, "date": date, "datetime": datetime, "timedelta": timedelta}


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


def _failure(action) -> BaseException:
    """Run `action`; it must raise an ordinary exception, which is returned."""
    with pytest.raises(Exception) as caught:
        action()
    return caught.value


def _root_cause(error: BaseException) -> BaseException:
    while isinstance(error, WorkflowTaskException) and error.__context__ is not None:
        error = error.__context__
    return error


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.name)
def test_attack_on_the_environment(attack: Attack, marker: Path) -> None:
    env = SandboxedEnvironment(LIMITS)
    script = attack.script_for(marker)
    if attack.expect == STATIC:
        with pytest.raises(SandboxViolation):
            check_script(script)
    else:
        check_script(script)
    failure = _failure(lambda: env.execute(script, {}))
    assert isinstance(failure, SandboxViolation if attack.expect == STATIC else attack.expect)
    failure = _failure(lambda: env.evaluate(attack.expression_for(marker), {}))
    outcome = attack.expression_outcome
    assert isinstance(failure, SandboxViolation if outcome == STATIC else outcome), repr(failure)
    assert not marker.exists()


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.name)
def test_attack_as_script_task(attack: Attack, marker: Path) -> None:
    failure = _failure(lambda: run_script_task(attack.script_for(marker), {}, make_script_engine(LIMITS)))
    assert isinstance(failure, WorkflowTaskException)
    assert isinstance(_root_cause(failure), SandboxViolation if attack.expect == STATIC else attack.expect)
    assert not marker.exists()


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.name)
def test_attack_as_gateway_condition(attack: Attack, marker: Path) -> None:
    expression = attack.expression_for(marker)
    outcome = attack.expression_outcome
    if outcome == STATIC:
        with pytest.raises(SandboxViolation):
            check_expression(expression)  # refused at deploy time; the run below must fail too
    else:
        check_expression(expression)
    failure = _failure(lambda: run_gateway(expression, {}, make_script_engine(LIMITS)))
    assert isinstance(failure, WorkflowTaskException)
    assert isinstance(_root_cause(failure), SandboxViolation if outcome == STATIC else outcome), repr(failure)
    assert not marker.exists()


@pytest.mark.parametrize("attack", ESCAPES, ids=lambda attack: attack.name)
def test_escapes_work_without_the_sandbox(attack: Attack, marker: Path) -> None:
    """The control: SpiffWorkflow's default environment really lets these payloads out."""
    TaskDataEnvironment(dict(SAFE_VALUES)).execute(attack.script_for(marker), {})
    assert marker.exists()


@pytest.mark.parametrize("name", ["while_true", "memory_loop"])
def test_limit_attacks_are_stopped_in_a_worker_thread(name: str, marker: Path) -> None:
    attack = next(attack for attack in ATTACKS if attack.name == name)
    env = SandboxedEnvironment(LIMITS)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            env.execute(attack.script_for(marker), {})
        except Exception as error:  # noqa: BLE001 - collected for the assertion below
            outcome.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], ScriptLimitExceeded)
    assert env.evaluate("1 + 1", {}) == 2
