"""The script sandbox: ordinary bank logic works, limits hold, SpiffWorkflow runs on it.

Attacks are in test_sandbox_attacks.py; the BPMN/DMN runners are in tests/helpers/spiff_runs.py.
"""
from __future__ import annotations

import math
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from engine.runtime.sandbox import (
    SandboxedEnvironment,
    SandboxSyntaxError,
    SandboxViolation,
    ScriptLimitExceeded,
    ScriptLimits,
    check_expression,
    check_script,
    make_script_engine,
)
from engine.runtime.sandbox.compiler import compile_expression
from tests.helpers.spiff_runs import run_decision, run_gateway, run_script_task

FAST_LIMITS = ScriptLimits(cpu_seconds=0.3, memory_mb=64)


@pytest.fixture
def env() -> SandboxedEnvironment:
    return SandboxedEnvironment(FAST_LIMITS)


# --- ordinary bank logic -------------------------------------------------------------------

LOAN = {
    "amount": 12345.6,
    "credit_score": 700,
    "name": "  Ada Lovelace ",
    "customer": {"name": "Ada", "segment": "retail"},
    "loans": [{"id": "L1", "amount": 500, "rate": 0.05}, {"id": "L2", "amount": 1500, "rate": 0.04}],
    "type": "mortgage",
    "object": "house",
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("amount > 10000 and credit_score >= 650", True),
        ("amount > 20000 or credit_score < 650", False),
        ("Decimal('100.10') * 3", Decimal("300.30")),
        ("Decimal('2.675').quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)", Decimal("2.68")),
        ("round(Decimal('2.675'), 2)", Decimal("2.68")),
        ("date(2026, 1, 1) + timedelta(days=10)", date(2026, 1, 11)),
        ("(date(2026, 3, 1) - date(2026, 1, 1)).days", 59),
        ("date.today() <= datetime.now().date()", True),
        ("datetime.strptime('02.01.2026', '%d.%m.%Y').timetuple().tm_yday", 2),
        ("f'{date(2026, 1, 2):%d %B %Y}' + date(2026, 1, 2).strftime(' %A')", "02 January 2026 Friday"),
        ("f'{amount:,.2f}'", "12,345.60"),
        ("f'{customer[\"name\"]!r:>8}|{credit_score:05d}|{amount:{10}.1f}'", "   'Ada'|00700|   12345.6"),
        ("name.strip().upper().split()", ["ADA", "LOVELACE"]),
        ("name.strip().startswith('Ada') and 'love' in name.lower()", True),
        ("'-'.join(loan['id'] for loan in loans)", "L1-L2"),
        ("customer.get('segment', 'none'), customer.get('missing', 'none')", ("retail", "none")),
        ("sum(loan['amount'] for loan in loans)", 2000),
        ("[loan['id'] for loan in loans if loan['amount'] > 1000]", ["L2"]),
        ("{loan['id']: loan['rate'] for loan in loans}", {"L1": 0.05, "L2": 0.04}),
        ("max(loans, key=lambda loan: loan['rate'])['id']", "L1"),
        ("min(loans, key=lambda loan: loan['amount'])['id']", "L1"),
        ("[loan['id'] for loan in sorted(loans, key=lambda loan: -loan['amount'])]", ["L2", "L1"]),
        ("'{0[name]} owes {1:,.2f} since {2.year}'.format(customer, amount, date(2025, 5, 1))",
         "Ada owes 12,345.60 since 2025"),
        ("'{c[segment]}'.format_map({'c': customer})", "retail"),
        ("'%s-%05d' % ('A', 42)", "A-00042"),
        ("isinstance(name, str) and isinstance(credit_score, int) and isinstance(Decimal(1), Decimal)", True),
        ("int('42') + int(Decimal('7.9')) + floor(2.5) + ceil(2.5)", 54),
        ("str(5) + repr('x') + format(0.5, '.0%')", "5'x'50%"),
        ("len(name.ljust(20)), 'x'.zfill(3), 'a-b'.replace('-', '+')", (20, "00x", "a+b")),
        ("Decimal(1).as_tuple().exponent", 0),
        ("divmod(17, 5), pow(2, 10), abs(-3), 2 ** 10, 1 << 4", ((3, 2), 1024, 3, 1024, 16)),
        ("sorted(set([3, 1, 3])), list(reversed([1, 2])), list(zip('ab', [1, 2])), dict(a=1)",
         ([1, 3], [2, 1], [("a", 1), ("b", 2)], {"a": 1})),
        ("[i * 2 for i in range(3)] + list(map(str, [1])) + list(filter(None, [0, 5]))", [0, 2, 4, "1", 5]),
        ("any(loan['rate'] > 0.045 for loan in loans) and all(loans)", True),
        ("sqrt(16) + log10(100) + round(exp(0)) + round(log(1))", 7.0),
        ("(total := amount * 2) > amount", True),
        ("type == 'mortgage' and object == 'house'", True),
    ],
)
def test_ordinary_expressions_work(env: SandboxedEnvironment, expression: str, expected: object) -> None:
    check_expression(expression)
    assert env.evaluate(expression, dict(LOAN)) == expected


def test_ordinary_script_works_and_writes_back_task_data(env: SandboxedEnvironment) -> None:
    script = """
total = Decimal('0')
for loan in loans:
    total += Decimal(str(loan['amount'])) * Decimal(str(1 + loan['rate']))
ids = [loan['id'] for loan in loans]
first, *rest = ids
for index, (key, value) in enumerate(customer.items()):
    pass
customer['checked'] = True
summary = f"{customer['name']}: {total:,.2f} over {len(ids)} loans"

def monthly(principal, months=12):
    return round(principal / months, 2)

try:
    parsed = int('not a number')
except (ValueError, TypeError) as error:
    parsed = None
    problem = str(error)
finally:
    attempts = 1
count = 0
while count < 3:
    count += 1
print('debug output is discarded', count)
instalment = monthly(1200)
del name
"""
    check_script(script)
    data = {**LOAN, "customer": dict(LOAN["customer"])}
    assert env.execute(script, data) is True
    assert data["total"] == Decimal("2085.00")
    assert data["summary"] == "Ada: 2,085.00 over 2 loans"
    assert (data["first"], data["rest"], data["count"], data["instalment"]) == ("L1", ["L2"], 3, 100.0)
    assert data["parsed"] is None and "invalid literal" in data["problem"]
    assert data["customer"]["checked"] is True
    assert "name" not in data, "del removes a variable from task data"
    assert "monthly" not in data, "functions never become task data"
    assert not [key for key in data if key.startswith("_")], "sandbox hooks never leak into task data"


def test_recursion_within_the_depth_cap_works(env: SandboxedEnvironment) -> None:
    script = "def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\nresult = fact(50)"
    data: dict = {}
    env.execute(script, data)
    assert data["result"] == math.factorial(50)


# --- task data semantics ---------------------------------------------------------------------

def test_failed_script_changes_nothing(env: SandboxedEnvironment) -> None:
    data = {"a": 1}
    with pytest.raises(ZeroDivisionError):
        env.execute("a = 2\nb = 3\nc = 1 / 0", data)
    assert data == {"a": 1}


def test_values_that_are_not_data_are_refused(env: SandboxedEnvironment) -> None:
    with pytest.raises(TypeError, match="variable 'numbers' holds a range"):
        env.execute("numbers = range(3)", {})
    with pytest.raises(TypeError, match="a function"):
        env.evaluate("lambda: 1", {})


def test_rebinding_a_variable_to_a_function_removes_it(env: SandboxedEnvironment) -> None:
    data = {"rate": 1}
    env.execute("rate = lambda: 2", data)
    assert data == {}


def test_expressions_cannot_change_task_data(env: SandboxedEnvironment) -> None:
    data = {"items": [1], "customer": {"a": 1}}
    for expression in ("items.append(2)", "customer.update(b=2)", "list.append(items, 2)", "customer.clear()"):
        with pytest.raises(SandboxViolation, match="expressions cannot change data"):
            env.evaluate(expression, data)
    assert data == {"items": [1], "customer": {"a": 1}}


def test_external_context_and_environment_globals(env: SandboxedEnvironment) -> None:
    trusted = SandboxedEnvironment(FAST_LIMITS, environment_globals={"double": lambda x: x * 2})
    data = {"x": 4}
    trusted.execute("y = double(x) + bonus", data, external_context={"bonus": 1})
    assert data == {"x": 4, "y": 9}
    assert env.evaluate("dmninputexpr > 3", {"x": 1}, external_context={"dmninputexpr": 5}) is True
    with pytest.raises(ValueError, match="overwrites a predefined function"):
        trusted.execute("pass", {"double": 1})


def test_private_items_are_refused(env: SandboxedEnvironment) -> None:
    with pytest.raises(SandboxViolation, match="item '__class__' is not allowed"):
        env.evaluate("data['__class__']", {"data": {"__class__": 1}})


def test_huge_error_messages_are_cut_down(env: SandboxedEnvironment) -> None:
    with pytest.raises(ValueError) as caught:
        env.execute("big = ['x' * 1000] * 10000\nraise ValueError(big)", {})
    assert caught.value.args == ("(message too large to show)",)


def test_task_data_may_not_grow_huge(env: SandboxedEnvironment) -> None:
    with pytest.raises(ScriptLimitExceeded, match="task data would grow"):
        env.execute("text = 'x' * 10**6\nrows = [text] * 100", {})


# --- deploy-time checks ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("script", "message", "line"),
    [
        ("import os", "import statements are not allowed", 1),
        ("x = 1\nfrom os import path", "import statements are not allowed", 2),
        ("__import__('os')", "name '__import__' is not allowed (names starting with '_' are private)", 1),
        ("x = 1\ny = x.__class__", "attribute '__class__' is not allowed (names starting with '_' are private)", 2),
        ("open('f')", "name 'open' is not allowed", 1),
        ("g = (i for i in [])\ng.gi_frame", "attribute 'gi_frame' is not allowed", 2),
        ("try:\n    pass\nexcept:\n    pass", "a bare 'except:' is not allowed", 3),
        ("try:\n    pass\nexcept BaseException:\n    pass", "catching BaseException is not allowed", 3),
        ("try:\n    pass\nexcept (ValueError, SystemExit):\n    pass", "catching SystemExit is not allowed", 3),
        ("try:\n    pass\nfinally:\n    for i in [1]:\n        break\n    x = 1", None, None),
        ("def f():\n    try:\n        pass\n    finally:\n        return 1", "'return' inside 'finally' is not allowed", 5),
        ("while True:\n    try:\n        pass\n    finally:\n        continue", "'continue' inside 'finally' is not allowed", 5),
        ("class A:\n    pass", "class definitions are not allowed", 1),
        ("def f():\n    global x", "global statements are not allowed", 2),
        ("def f():\n    yield 1", "yield is not allowed", 2),
        ("with x:\n    pass", "with statements are not allowed", 1),
        ("x = b'raw'", "bytes literals are not allowed", 1),
        ("x = (", "syntax error", 1),
        ("return 1", "syntax error: 'return' outside function", 1),
    ],
)
def test_check_script(script: str, message: str | None, line: int | None) -> None:
    if message is None:
        check_script(script)
        return
    with pytest.raises(SandboxViolation) as caught:
        check_script(script)
    assert caught.value.message.startswith(message)
    assert caught.value.line == line


def test_syntax_errors_are_also_syntax_errors() -> None:
    with pytest.raises(SyntaxError) as caught:
        check_expression("> 650")
    assert isinstance(caught.value, SandboxSyntaxError) and caught.value.lineno == 1


def test_compiled_code_is_cached() -> None:
    assert compile_expression("amount > 1") is compile_expression("amount > 1")


def test_errors_are_ordinary_exceptions() -> None:
    assert issubclass(ScriptLimitExceeded, Exception) and issubclass(SandboxViolation, Exception)
    assert str(SandboxViolation("bad", 3)) == "line 3: bad"
    with pytest.raises(ValueError):
        ScriptLimits(cpu_seconds=0)


# --- limits ------------------------------------------------------------------------------------

def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def _assert_healthy(env: SandboxedEnvironment) -> None:
    """After a limit hit the next ordinary evaluation works, quickly, with no stray signal."""
    started = time.monotonic()
    assert env.evaluate("amount > 10000 and credit_score >= 650", dict(LOAN)) is True
    assert time.monotonic() - started < 10  # a replaced evaluator is forked, not rebuilt: well under this

    deadline = time.monotonic() + 0.1
    while time.monotonic() < deadline:  # a leftover async exception would surface in this loop
        sum(range(1000))


@pytest.mark.parametrize(
    "script",
    [
        "while True:\n    pass",
        "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
        "try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass",
        "total = 0\nfor i in range(10**6):\n    for j in range(10**6):\n        total += 1",
    ],
)
def test_cpu_limit(env: SandboxedEnvironment, script: str) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match="CPU time limit of 0.3 s"):
        env.execute(script, {})
    # Without the limit these never end; the bound is wall time on a loaded CI machine, not a speed goal.
    assert time.monotonic() - started < 30
    _assert_healthy(env)


def test_memory_limit_releases_memory() -> None:
    env = SandboxedEnvironment(ScriptLimits(cpu_seconds=20, memory_mb=64))
    before = _rss_mb()
    with pytest.raises(ScriptLimitExceeded, match="memory limit of 64 MB"):
        env.execute("chunks = []\nwhile True:\n    chunks.append('a' * 1000)", {})
    assert _rss_mb() - before < 48
    _assert_healthy(env)


def test_limits_work_in_other_threads(env: SandboxedEnvironment) -> None:
    outcomes: list[BaseException | None] = []

    def attack() -> None:
        try:
            env.execute("while True:\n    pass", {})
            outcomes.append(None)
        except Exception as error:  # noqa: BLE001 - collected for the assertion below
            outcomes.append(error)

    workers = [threading.Thread(target=attack) for _ in range(3)]
    for worker in workers:
        worker.start()
    assert env.evaluate("1 + 1", {}) == 2, "the main thread keeps working meanwhile"
    for worker in workers:
        worker.join(timeout=10)
    assert len(outcomes) == 3 and all(isinstance(outcome, ScriptLimitExceeded) for outcome in outcomes)
    _assert_healthy(env)


@pytest.mark.parametrize(
    "script",
    ["def f(n):\n    return f(n + 1)\nf(0)", "f = lambda n: f(n + 1)\nf(0)", "g = lambda h: h(h)\ng(g)"],
)
def test_deep_recursion_ends_cleanly(env: SandboxedEnvironment, script: str) -> None:
    with pytest.raises(RecursionError, match="at most 100 deep"):
        env.execute(script, {})
    _assert_healthy(env)


# --- SpiffWorkflow -----------------------------------------------------------------------------

def test_script_task_and_gateway_run_sandboxed() -> None:
    engine = make_script_engine(FAST_LIMITS)
    data = run_script_task("risk = 'low' if credit_score >= 650 else 'high'\nlimit = Decimal('1000.50') * 2",
                           {"credit_score": 700}, engine)
    assert data == {"credit_score": 700, "risk": "low", "limit": Decimal("2001.00")}
    assert run_gateway("amount > 10000 and credit_score >= 650", {"amount": 20000, "credit_score": 700}, engine) == "yes"
    assert run_gateway("amount > 10000 and credit_score >= 650", {"amount": 20000, "credit_score": 600}, engine) == "no"


def test_script_errors_report_the_line() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        run_script_task("a = 1\nb = 2\nc = a / 0", {}, make_script_engine(FAST_LIMITS))
    assert caught.value.line_number == 3 and caught.value.error_type == "ZeroDivisionError"


def test_limit_hits_surface_as_workflow_errors() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        run_script_task("while True:\n    pass", {}, make_script_engine(FAST_LIMITS))
    assert caught.value.error_type == "ScriptLimitExceeded"
    assert "CPU time limit" in str(caught.value)


DECISION_RULES = [
    (">= 750", '"retail"', '"low"'),
    ("600 < ? < 750", '"retail"', '"medium"'),
    ("> 650", '? in ("corporate", "sme")', '"medium"'),
    ("", "", '"high"'),
]


@pytest.mark.parametrize(
    ("score", "segment", "risk"),
    [(800, "retail", "low"), (700, "retail", "medium"), (700, "sme", "medium"), (500, "retail", "high")],
)
def test_dmn_tables_give_the_same_answers_as_plain_spiffworkflow(score: int, segment: str, risk: str) -> None:
    data = {"credit_score": score, "segment": segment}
    sandboxed = run_decision(DECISION_RULES, data, make_script_engine(FAST_LIMITS))
    plain = run_decision(DECISION_RULES, data, PythonScriptEngine())
    assert sandboxed["risk"] == plain["risk"] == risk


def test_feel_ranges_fail_the_same_way_as_in_plain_spiffworkflow() -> None:
    """SpiffWorkflow 3.2 itself has no FEEL ranges: `[1..5]` is a syntax error either way."""
    for engine, message in ((PythonScriptEngine(), "^invalid syntax"),
                            (make_script_engine(FAST_LIMITS), "^line 1: syntax error: invalid syntax")):
        with pytest.raises(WorkflowTaskException, match=message):
            run_decision([("[600..700]", "", '"medium"')], {"credit_score": 650, "segment": "x"}, engine)


def test_engine_validate_uses_the_sandbox_checks() -> None:
    engine = make_script_engine()
    engine.validate("amount > 1")
    with pytest.raises(SandboxViolation, match="__import__"):
        engine.validate("__import__('os')")
    with pytest.raises(SyntaxError):
        engine.validate("> 650")
