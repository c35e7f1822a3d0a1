"""Escapes and resource attacks from uploaded BPMN files must all fail, in three places each.

Every attack runs (1) directly on the sandboxed environment, (2) as a script task and (3) as an
exclusive gateway's condition in a tiny BPMN process run by SpiffWorkflow with the sandboxed
engine. A successful escape would create the file MARKER; each test asserts that it does not
exist and that the attack was refused at compile time or raised while running.

`test_escapes_work_without_the_sandbox` runs the escape payloads under SpiffWorkflow's default
environment to show they are real: there, they do create the marker.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
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
from tests.test_sandbox import run_gateway, run_script_task

LIMITS = ScriptLimits(cpu_seconds=0.3, memory_mb=64)

STATIC = "refused by check_script"
LIMIT = ScriptLimitExceeded
REFUSED = SandboxViolation   # refused at run time


@dataclass(frozen=True)
class Attack:
    name: str
    script: str
    expect: str | type[Exception]  # STATIC, or what running the script form raises
    expression: str = ""           # the gateway-condition form; the script text if empty
    escapes: bool = False          # creates MARKER under SpiffWorkflow's default environment

    def script_for(self, marker: Path) -> str:
        return self.script.replace("MARKER", repr(str(marker)))

    def expression_for(self, marker: Path) -> str:
        return (self.expression or self.script).replace("MARKER", repr(str(marker)))


WRAP_CLOSE = "if c.__name__ == '_wrap_close'][0].__init__.__globals__['system']('touch ' + MARKER)"

ATTACKS = [
    # imports and dangerous builtins
    Attack("dunder_import", "__import__('os').system('touch ' + MARKER)", STATIC, escapes=True),
    Attack("import_statement", "import os\nos.system('touch ' + MARKER)", STATIC, escapes=True),
    Attack("from_import", "from os import system\nsystem('touch ' + MARKER)", STATIC, escapes=True),
    Attack("open_builtin", "open(MARKER, 'w').close()", STATIC, escapes=True),
    Attack("exec_builtin", "exec(\"open(MARKER, 'w').close()\")", STATIC, escapes=True),
    Attack("eval_builtin", "eval(\"open(MARKER, 'w').close()\")", STATIC, escapes=True),
    Attack("compile_builtin", "code = compile(\"open(MARKER, 'w').close()\", 'x', 'exec')\nexec(code)", STATIC,
           expression="compile('1', 'x', 'eval')", escapes=True),
    Attack("print_to_file", "print('x', file=open(MARKER, 'w'))", STATIC, escapes=True),
    Attack("with_open", "with open(MARKER, 'w') as handle:\n    pass", STATIC, escapes=True),
    # attribute walks to a module
    Attack("subclasses_walk", "[c for c in ().__class__.__base__.__subclasses__() " + WRAP_CLOSE, STATIC,
           escapes=True),
    Attack("getattr_built_names",
           "[getattr(getattr(c, '__in' + 'it__'), '__glo' + 'bals__')['system']('touch ' + MARKER) "
           "for c in getattr(getattr(getattr((), '__cl' + 'ass__'), '__ba' + 'se__'), '__subcl' + 'asses__')() "
           "if getattr(c, '__na' + 'me__') == '_wrap_close']",
           STATIC, escapes=True),
    Attack("type_mro", "[c for c in type(1).mro()[-1].__subclasses__() " + WRAP_CLOSE, STATIC, escapes=True),
    Attack("class_mro_without_underscores", "ValueError.mro()", STATIC),
    Attack("decimal_pivot", "[c for c in Decimal(1).__class__.__mro__[-1].__subclasses__() " + WRAP_CLOSE,
           STATIC, escapes=True),
    Attack("datetime_pivot", "[c for c in datetime.now().__class__.__mro__[-1].__subclasses__() " + WRAP_CLOSE,
           STATIC, escapes=True),
    Attack("date_module", "date.today().__class__.__module__", STATIC),
    Attack("method_self", "'{0.sqrt.__self__.__class__}'.format(Decimal(1))", REFUSED),
    Attack("class_attribute_of_exception", "KeyError.with_traceback", REFUSED),
    Attack("error_object_pivot", "try:\n    (1).nope\nexcept AttributeError as error:\n    leaked = error.obj", REFUSED,
           expression="[x for x in [1]].nope"),
    Attack("stand_in_internals", "int.check", AttributeError),
    # namespace access
    Attack("globals_builtin", "globals()['__builtins__']['open'](MARKER, 'w').close()", STATIC, escapes=True),
    Attack("vars_builtin", "vars()['__builtins__']['open'](MARKER, 'w').close()", STATIC, escapes=True),
    Attack("locals_builtin", "locals()['__builtins__']['open'](MARKER, 'w').close()", STATIC, escapes=True),
    Attack("dir_builtin", "dir()", STATIC),
    # frames
    Attack("traceback_frame",
           "try:\n    1 / 0\nexcept ZeroDivisionError as error:\n"
           "    error.__traceback__.tb_frame.f_globals['__builtins__']['open'](MARKER, 'w').close()",
           STATIC, escapes=True),
    Attack("generator_frame", "(x for x in [1]).gi_frame.f_globals['__builtins__']['open'](MARKER, 'w').close()",
           STATIC, escapes=True),
    Attack("generator_function_frame", "def gen():\n    yield 1\ngen().gi_frame.f_back", STATIC),
    Attack("function_globals", "def f():\n    pass\nf.__globals__['__builtins__']['open'](MARKER, 'w').close()",
           STATIC, expression="(lambda: 0).__globals__['__builtins__']['open'](MARKER, 'w').close()", escapes=True),
    # str.format and f-string leaks
    Attack("format_class", "'{0.__class__}'.format(1)", REFUSED),
    Attack("format_map_mro", "'{x.__class__.__mro__}'.format_map({'x': 1})", REFUSED),
    Attack("format_item_private", "'{0[__builtins__]}'.format({'__builtins__': 1})", REFUSED),
    Attack("format_unbound", "str.format('{0.__class__}', 1)", REFUSED),
    Attack("fstring_attribute", "f'{(1).__class__}'", STATIC),
    Attack("fstring_nested_format", "f'{\"{0.__class__}\".format(1)}'", REFUSED),
    # swallowing the limit signal
    Attack("finally_return",
           "def f():\n    try:\n        while True:\n            pass\n    finally:\n        return 1\nwhile True:\n    f()",
           STATIC),
    Attack("catch_base_exception", "try:\n    while True:\n        pass\nexcept BaseException:\n    pass", STATIC),
    Attack("bare_except", "try:\n    while True:\n        pass\nexcept:\n    pass", STATIC),
    Attack("dynamic_except", "caught = ValueError\ntry:\n    pass\nexcept caught:\n    pass", STATIC),
    Attack("class_definition", "class Escape:\n    pass", STATIC),
    # CPU and memory
    Attack("while_true", "while True:\n    pass", LIMIT,
           expression="all(True for a in range(10**6) for b in range(10**6))"),
    Attack("memory_loop", "chunks = []\nwhile True:\n    chunks.append('a' * 1000)", LIMIT,
           expression="[('a' * 1000) for a in range(10**6) for b in range(10**6)]"),
    Attack("string_bomb", "'a' * 10**10", LIMIT),
    Attack("list_bomb", "[0] * 10**10", LIMIT),
    Attack("power_bomb", "10**10**10", LIMIT),
    Attack("shift_bomb", "1 << 10**10", LIMIT),
    Attack("inplace_bomb", "text = 'a'\ntext *= 10**10", LIMIT, expression="'a' * 10**10"),
    Attack("fstring_width_bomb", "f'{1:>9999999999}'", LIMIT),
    Attack("fstring_nested_width_bomb", "f'{1:>{10**10}}'", LIMIT),
    Attack("format_width_bomb", "format(1, '>999999999')", LIMIT),
    Attack("str_format_width_bomb", "'{:>{}}'.format(1, 10**10)", LIMIT),
    Attack("percent_width_bomb", "'%999999999d' % 1", LIMIT),
    Attack("percent_star_bomb", "'%*d' % (10**10, 1)", LIMIT),
    Attack("ljust_bomb", "'x'.ljust(10**10)", LIMIT),
    Attack("replace_bomb", "('a' * 10**6).replace('a', 'a' * 10**6)", LIMIT),
    Attack("join_bomb", "('a' * 10**6).join(['x'] * 10**5)", LIMIT),
    Attack("expandtabs_bomb", "('\\t' * 10**6).expandtabs(10**4)", LIMIT),
    Attack("strftime_bomb", "date.today().strftime('%c' * 10**6)", LIMIT),
    Attack("repr_bomb", "str(['a' * 10**7] * 10**6)", LIMIT),
    Attack("fstring_repr_bomb", "f\"{['a' * 10**7] * 10**6}\"", LIMIT),
    Attack("decimal_to_int_bomb", "int(Decimal('9e999999'))", LIMIT),
    Attack("decimal_round_bomb", "round(Decimal(10) ** 999998)", LIMIT),
    Attack("decimal_digits_bomb", "Decimal('1' * 10**6)", LIMIT),
    Attack("range_bomb", "list(range(10**10))", LIMIT),
    Attack("modular_pow_bomb", "pow(3, 2**20000, 2**20000 + 1)", LIMIT),
    Attack("round_bomb", "round(10**30000, -10**18)", LIMIT),
    Attack("from_bytes_bomb", "int.from_bytes([255] * 10**6, 'big') // 7", REFUSED),
    Attack("strptime_cache_bomb", "datetime.strptime('2026', '%Y' + ' ' * 10**6)", LIMIT),
    Attack("to_bytes_bomb", "(1).to_bytes(10**9, 'big')", REFUSED),
    Attack("sum_bomb", "sum([[0] * 1000] * 10**6, [])", TypeError),
    Attack("recursion_def", "def f(n):\n    return f(n + 1)\nf(0)", RecursionError, expression="(f := lambda n: f(n + 1))(0)"),
    Attack("recursion_lambda", "f = lambda n: f(n + 1)\nf(0)", RecursionError, expression="(lambda g: g(g))(lambda g: g(g))"),
]
ESCAPES = [attack for attack in ATTACKS if attack.escapes]
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
    _failure(lambda: env.evaluate(attack.expression_for(marker), {}))
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
    try:
        check_expression(expression)
    except SandboxViolation:
        pass  # refused at deploy time; the run below must fail too
    failure = _failure(lambda: run_gateway(expression, {}, make_script_engine(LIMITS)))
    assert isinstance(failure, WorkflowTaskException)
    assert not isinstance(_root_cause(failure), WorkflowTaskException)
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
