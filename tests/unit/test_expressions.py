"""Tests of the condition translator (engine.bpmn.expressions).

Each construct is translated and then evaluated with a bare `eval` against task data, so the
tests pin down what a condition means, not only how its Python is spelled.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from decimal import Decimal

import pytest
from lxml import etree
from RestrictedPython import compile_restricted_eval

from engine.bpmn.expressions import MAX_NESTING, MAX_TOKENS, ExpressionError, dialect_of, translate
from engine.errors import BankflowError
from tests.helpers.corpus import CORPUS, requires_corpus


def evaluate(expression: str, data: dict) -> object:
    """Translate, then evaluate the way the strictest sandbox would: task data as only names."""
    return eval(translate(expression), {"__builtins__": {}}, dict(data))


# --- JUEL (Camunda 7) ---------------------------------------------------------------------

JUEL_CASES = [
    # the conditions the brief names
    ("${amount > 50000 && score >= 600}", {"amount": 60000, "score": 650}, True),
    ("${amount > 50000 && score >= 600}", {"amount": 60000, "score": 599}, False),
    ("${amount > 50000 && score >= 600}", {"amount": 50000, "score": 700}, False),
    ("${approved}", {"approved": True}, True),
    ("${approved}", {"approved": False}, False),
    ("${not empty comment}", {"comment": "looks fine"}, True),
    ("${not empty comment}", {"comment": ""}, False),
    ("${not empty comment}", {"comment": None}, False),
    ("${!approved}", {"approved": False}, True),
    ("${!approved}", {"approved": True}, False),
    ("${customer.age >= 18}", {"customer": {"age": 18}}, True),
    ("${customer.age >= 18}", {"customer": {"age": 17}}, False),
    ("#{x eq 'A'}", {"x": "A"}, True),
    ("#{x eq 'A'}", {"x": "B"}, False),
    # logical operators, both spellings
    ("${a and b}", {"a": True, "b": False}, False),
    ("${a || b}", {"a": False, "b": True}, True),
    ("${a or b}", {"a": False, "b": False}, False),
    ("${not a}", {"a": False}, True),
    ("${!!a}", {"a": True}, True),
    # comparisons, both spellings
    ("${x == 3}", {"x": 3}, True),
    ("${x != 3}", {"x": 3}, False),
    ("${x ne 3}", {"x": 4}, True),
    ("${x < 3}", {"x": 2}, True),
    ("${x lt 3}", {"x": 3}, False),
    ("${x > 3}", {"x": 4}, True),
    ("${x gt 3}", {"x": 3}, False),
    ("${x <= 3}", {"x": 3}, True),
    ("${x le 3}", {"x": 4}, False),
    ("${x >= 3}", {"x": 3}, True),
    ("${x ge 3}", {"x": 2}, False),
    # arithmetic, both spellings
    ("${a + b}", {"a": 2, "b": 3}, 5),
    ("${a - b}", {"a": 2, "b": 3}, -1),
    ("${a * b}", {"a": 2, "b": 3}, 6),
    ("${a / b}", {"a": 7, "b": 2}, 3.5),
    ("${a div b}", {"a": 7, "b": 2}, 3.5),
    ("${a % b}", {"a": 7, "b": 3}, 1),
    ("${a mod b}", {"a": 7, "b": 3}, 1),
    ("${-a}", {"a": 2}, -2),
    ("${- -a}", {"a": 2}, 2),
    ("${-(a + 1) * 2}", {"a": 2}, -6),
    # precedence and associativity (EL 3.0 §1.17)
    ("${1 + 2 * 3}", {}, 7),
    ("${(1 + 2) * 3}", {}, 9),
    ("${10 - 4 - 3}", {}, 3),
    ("${10 - (4 - 3)}", {}, 9),
    ("${12 / 2 / 3}", {}, 2.0),
    ("${a || b && c}", {"a": True, "b": False, "c": False}, True),
    ("${(a || b) && c}", {"a": True, "b": False, "c": False}, False),
    ("${!a && b}", {"a": False, "b": True}, True),
    ("${!(a && b)}", {"a": True, "b": False}, True),
    ("${1 < 2 == true}", {}, True),  # (1 < 2) == true, not Python's chained 1 < 2 and 2 == True
    ("${a + 1 > b * 2 && c}", {"a": 5, "b": 2, "c": True}, True),
    # empty: null, '', empty list or map; not 0 or false
    ("${empty x}", {"x": None}, True),
    ("${empty x}", {"x": ""}, True),
    ("${empty x}", {"x": []}, True),
    ("${empty x}", {"x": {}}, True),
    ("${empty x}", {"x": 0}, False),
    ("${empty x}", {"x": False}, False),
    ("${empty x}", {"x": "a"}, False),
    ("${empty x}", {"x": [0]}, False),
    ("${!empty x}", {"x": [0]}, True),
    ("${empty customer.notes}", {"customer": {"notes": []}}, True),
    ("${empty x == false}", {"x": "a"}, True),  # (empty x) == false
    # conditional
    ("${a ? 'yes' : 'no'}", {"a": True}, "yes"),
    ("${a ? 'yes' : 'no'}", {"a": False}, "no"),
    ("${a ? 1 : b ? 2 : 3}", {"a": False, "b": False}, 3),
    ("${a ? 1 : b ? 2 : 3}", {"a": False, "b": True}, 2),
    ("${(a ? b : c) ? 1 : 2}", {"a": True, "b": False, "c": True}, 2),
    ("${amount > 1000 ? 'manual' : 'auto'}", {"amount": 5000}, "manual"),
    # literals
    ("${s == 'single'}", {"s": "single"}, True),
    ('${s == "double"}', {"s": "double"}, True),
    ("${s == 'it\\'s'}", {"s": "it's"}, True),
    ('${s == "say \\"hi\\""}', {"s": 'say "hi"'}, True),
    ("${s == 'back\\\\slash'}", {"s": "back\\slash"}, True),
    ("${s == 'brace } inside'}", {"s": "brace } inside"}, True),
    ("${x == 42}", {"x": 42}, True),
    ("${x == 1.5}", {"x": 1.5}, True),
    ("${x == .5}", {"x": 0.5}, True),
    ("${x == 1e3}", {"x": 1000}, True),
    ("${x == 2.5E-1}", {"x": 0.25}, True),
    ("${007 == 7}", {}, True),
    ("${x == true}", {"x": True}, True),
    ("${x == false}", {"x": False}, True),
    ("${x == null}", {"x": None}, True),
    ("${amount > 1000.50}", {"amount": Decimal("1000.51")}, True),
    # names and property access (task data are dicts)
    ("${first_name2 == 'Li'}", {"first_name2": "Li"}, True),
    ("${金额 > 100}", {"金额": 200}, True),
    ("${customer.address.city == 'Shanghai'}", {"customer": {"address": {"city": "Shanghai"}}}, True),
    ("${customer['age'] >= 18}", {"customer": {"age": 30}}, True),
    ('${customer["age"] >= 18}', {"customer": {"age": 3}}, False),
    ("${limits[tier] > 10}", {"limits": {"gold": 50}, "tier": "gold"}, True),
    ("${items[0] == 'a'}", {"items": ["a", "b"]}, True),
    ("${items[n - 1]}", {"items": [False, True], "n": 2}, True),
    ("${customer.class == 'A'}", {"customer": {"class": "A"}}, True),
    ("${customer.address['zip'].length}", {"customer": {"address": {"zip": {"length": 6}}}}, 6),
    # layout
    ("  ${ approved }  ", {"approved": True}, True),
    ("\n    ${amount\n      > 10}\n  ", {"amount": 11}, True),
]


@pytest.mark.parametrize(("expression", "data", "expected"), JUEL_CASES)
def test_juel_translates_to_equivalent_python(expression: str, data: dict, expected: object) -> None:
    assert evaluate(expression, data) == expected


@pytest.mark.parametrize(("expression", "python"), [
    ("${amount > 50000 && score >= 600}", "amount > 50000 and score >= 600"),
    ("${customer.age >= 18}", "customer['age'] >= 18"),
    ("${not empty comment}", "comment not in (None, '', [], {}, ())"),
    ("${empty comment}", "comment in (None, '', [], {}, ())"),
    ("${1 < 2 == true}", "(1 < 2) == True"),
    ("${a ? b : c}", "b if a else c"),
    ("#{x eq 'A'}", "x == 'A'"),
])
def test_juel_output_is_readable(expression: str, python: str) -> None:
    """Designers see the translation when a deploy is refused, so it should read naturally."""
    assert translate(expression) == python


# --- FEEL (Camunda 8) ---------------------------------------------------------------------

FEEL_CASES = [
    # the conditions the brief names
    ("=approved = false", {"approved": False}, True),
    ("=approved = false", {"approved": True}, False),
    ('=amount > 1000 and risk = "low"', {"amount": 1001, "risk": "low"}, True),
    ('=amount > 1000 and risk = "low"', {"amount": 1001, "risk": "high"}, False),
    ("=not(approved)", {"approved": False}, True),
    ("=not(approved)", {"approved": True}, False),
    # comparisons
    ("=x = 3", {"x": 3}, True),
    ("=x != 3", {"x": 3}, False),
    ("=x < 3", {"x": 2}, True),
    ("=x > 3", {"x": 3}, False),
    ("=x <= 3", {"x": 3}, True),
    ("=x >= 3", {"x": 2}, False),
    ("=x = null", {"x": None}, True),
    ("=x = true", {"x": True}, True),
    # logic and precedence
    ("=a or b", {"a": False, "b": True}, True),
    ("=a and b", {"a": True, "b": False}, False),
    ("=a or b and c", {"a": True, "b": False, "c": False}, True),
    ("=(a or b) and c", {"a": True, "b": False, "c": False}, False),
    ("=not(a or b)", {"a": False, "b": False}, True),
    ("=not(x > 1) and y", {"x": 0, "y": True}, True),
    ("=approved", {"approved": True}, True),
    ("= approved ", {"approved": False}, False),
    ("=( automaticProcessing=true )", {"automaticProcessing": True}, True),
    # arithmetic
    ("=a + b", {"a": 2, "b": 3}, 5),
    ("=a - b", {"a": 2, "b": 3}, -1),
    ("=a * b", {"a": 2, "b": 3}, 6),
    ("=a / b", {"a": 7, "b": 2}, 3.5),
    ("=-a + 1", {"a": 2}, -1),
    ("=1 + 2 * 3 = 7", {}, True),
    ("=(1 + 2) * 3 = 9", {}, True),
    ("=10 - 4 - 3", {}, 3),
    ('="a" + "b" = "ab"', {}, True),
    # literals
    ('=s = "in bed"', {"s": "in bed"}, True),
    ('=s = "say \\"hi\\""', {"s": 'say "hi"'}, True),
    ('=s = "tab\\there"', {"s": "tab\there"}, True),
    ('=s = "line\\nbreak"', {"s": "line\nbreak"}, True),
    ("=x = 1.25", {"x": 1.25}, True),
    ("=x = .5", {"x": 0.5}, True),
    # paths
    ("=customer.age >= 18", {"customer": {"age": 18}}, True),
    ('=customer.address.city = "Paris"', {"customer": {"address": {"city": "Paris"}}}, True),
    # between and lists
    ("=x between 1 and 10", {"x": 1}, True),
    ("=x between 1 and 10", {"x": 10}, True),
    ("=x between 1 and 10", {"x": 11}, False),
    ("=x between a + 1 and b and ok", {"x": 5, "a": 3, "b": 6, "ok": True}, True),
    ("=x in [1, 2]", {"x": 2}, True),
    ("=x in [1, 2]", {"x": 3}, False),
    ('=risk in ["low", "medium"]', {"risk": "medium"}, True),
    ("=x in []", {"x": 1}, False),
    ("=x + 1 in [y, y * 2]", {"x": 3, "y": 2}, True),
]


@pytest.mark.parametrize(("expression", "data", "expected"), FEEL_CASES)
def test_feel_translates_to_equivalent_python(expression: str, data: dict, expected: object) -> None:
    assert evaluate(expression, data) == expected


@pytest.mark.parametrize(("expression", "python"), [
    ("=approved = false", "approved == False"),
    ('=amount > 1000 and risk = "low"', "amount > 1000 and risk == 'low'"),
    ("=not(approved)", "not approved"),
    ("=x between 1 and 10", "1 <= x <= 10"),
    ("=customer.age >= 18", "customer['age'] >= 18"),
])
def test_feel_output_is_readable(expression: str, python: str) -> None:
    assert translate(expression) == python


# --- plain Python and dialect detection ---------------------------------------------------


@pytest.mark.parametrize(("text", "python"), [
    ('approval == "Approve"', 'approval == "Approve"'),
    ("product_name in [ 'product_c', 'product_d' ]", "product_name in [ 'product_c', 'product_d' ]"),
    ("  pay_online \n", "pay_online"),
    ("amount > 10000 and not flagged", "amount > 10000 and not flagged"),
])
def test_python_is_passed_through_without_surrounding_whitespace(text: str, python: str) -> None:
    assert translate(text) == python


@pytest.mark.parametrize(("text", "dialect"), [
    ("${approved}", "juel"),
    ("#{approved}", "juel"),
    ("  ${approved}\n", "juel"),
    ("Hello ${name}", "juel"),
    ("=approved", "feel"),
    ("\n  = approved", "feel"),
    ("approved", "python"),
    ("amount >= 100", "python"),
    ("", "python"),
])
def test_dialect_of(text: str, dialect: str) -> None:
    assert dialect_of(text) == dialect


TRANSLATED = [case[0] for case in JUEL_CASES + FEEL_CASES]


@pytest.mark.parametrize("expression", TRANSLATED)
def test_output_fits_the_strict_sandbox(expression: str) -> None:
    """No calls, attributes or '_' names, and RestrictedPython compiles it without complaint."""
    python = translate(expression)
    for node in ast.walk(ast.parse(python, mode="eval")):
        assert not isinstance(node, (ast.Call, ast.Attribute, ast.Lambda, ast.NamedExpr))
        if isinstance(node, ast.Name):
            assert not node.id.startswith("_")
    assert compile_restricted_eval(python).errors == ()


# --- rejections ---------------------------------------------------------------------------

REJECTED = [
    # JUEL: calls, engine objects, beans
    ("${x.size()}", ["method calls", "'size(...)'", "not supported"]),
    ("${execution.getVariable('x')}", ["'execution'", "Camunda engine object"]),
    ("${task.name == 'Review'}", ["'task'", "Camunda engine object"]),
    ("${loanService.isEligible(customer)}", ["method calls", "'isEligible(...)'", "Spring beans"]),
    ("${dateTime()}", ["function calls", "'dateTime(...)'"]),
    ("${fn:contains(name, 'x')}", ["function calls", "'fn:contains(...)'"]),
    # JUEL: text around the expression
    ("Hello ${name}", ["mixes literal text", "single ${...}"]),
    ("${a} and ${b}", ["mixes literal text"]),
    ("${a}}", ["mixes literal text"]),
    # JUEL: structure
    ("${}", ["nothing between the braces"]),
    ("${   }", ["nothing between the braces"]),
    ("${a > 1", ["closing '}' is missing"]),
    ("${(a > 1}", ["unbalanced brackets", "'(' at character 3 is not closed"]),
    ("${((a > 1) && b}", ["unbalanced brackets", "'(' at character 3 is not closed"]),
    ("${a > 1)}", ["unbalanced brackets", "')' at character 8 has no matching '('"]),
    ("${items[0}", ["unbalanced brackets", "'[' at character 8 is not closed"]),
    ("${a &&}", ["expected a value", "after '&&'", "found '}'"]),
    ("${a > > b}", ["expected a value", "after '>'", "character 7"]),
    ("${a b}", ["unexpected 'b' at character 5"]),
    ("${a ? b}", ["'?' at character 5 needs a ':'"]),
    ("${a instanceof b}", ["unexpected 'instanceof'"]),
    ("${a.}", ["expected a property name after '.'"]),
    ("${'x'.length}", ["property of a constant"]),
    # JUEL: tokens
    ("${a # b}", ["unexpected character '#' at character 5"]),
    ("${a = 1}", ["'='", "compare with '=='"]),
    ("${a & b}", ["'&'", "'&&'"]),
    ("${'abc}", ["string starting at character 3 is never closed"]),
    ("${'a\\nb'}", ["escape '\\n'", "not supported"]),
    ("${1e999 > x}", ["number 1e999", "too large"]),
    # JUEL: names the sandbox cannot take
    ("${_secret}", ["'_secret'", "starts with '_'"]),
    ("${a$b}", ["'a$b'", "cannot be used as a variable name"]),
    ("${class == 1}", ["'class'", "Python keyword"]),
    ("${None}", ["'None'", "cannot be used as a variable name"]),
    # FEEL
    ("=", ["nothing after '='"]),
    ("=count(items) > 1", ["function calls", "'count(...)'"]),
    ("=is defined(breakfastPrepared)", ["function calls", "'is defined(...)'"]),
    ("=not(is defined(x))", ["function calls", "'is defined(...)'"]),
    ("=for i in items return i", ["'for ... return'", "not supported"]),
    ('=some risk in riskLevels satisfies risk = "red"', ["'some ... satisfies", "not supported"]),
    ('=every risk in riskLevels satisfies risk = "red"', ["'every ... satisfies", "not supported"]),
    ("=if a then b else c", ["'if ... then ... else'", "not supported"]),
    ("=function(x) x + 1", ["function definitions", "not supported"]),
    ("={a: 1}.a", ["contexts", "not supported"]),
    ("=x in [1..10]", ["ranges", "not supported"]),
    ("=x in [low..high]", ["ranges", "not supported"]),
    ("=items[1] > 0", ["filters", "not supported"]),
    ('=Vacation Approval = "Approved"', ["'Vacation Approval'", "contains spaces"]),
    ("=customer.first name", ["'first name'", "contains spaces"]),
    ('=@"2024-01-01" > d', ["temporal literals", "not supported"]),
    ("=x ** 2 > 4", ["'**'", "not supported"]),
    ("=x instance of number", ["'instance of'", "not supported"]),
    ("=x in y", ["only supported with a list in square brackets"]),
    ("=[1, 2]", ["lists", "only supported after 'in'"]),
    ("=x == 1", ["'=='", "single '='"]),
    ("=a && b", ["'&&'", "'and'"]),
    ("=a || b", ["'||'", "'or'"]),
    ("=!a", ["'!'", "not(...)"]),
    ("=s = 'low'", ["double quotes"]),
    ("=not approved", ["not(...)"]),
    ("=(a = 1", ["unbalanced brackets", "'(' at character 2 is not closed"]),
    ("=a = 1)", ["unbalanced brackets", "')' at character 7 has no matching '('"]),
    ("=a = b = c", ["unexpected '='"]),
    ("=x between 1 or 2", ["'between' needs 'and'"]),
    ('=s = "open', ["never closed"]),
    ('=s = "a\\qb"', ["escape '\\q'", "not supported"]),
    ("=_x > 1", ["'_x'", "starts with '_'"]),
    # not Python, so neither translatable nor usable as is
    ("", ["empty"]),
    ("   ", ["empty"]),
    ("Service Level == 'Premium'", ["not a valid Python expression", "${...}", "'='"]),
    ("bpmn:getDataObject('approved')", ["not a valid Python expression"]),
    ("x = 1", ["not a valid Python expression"]),
    ("(a and\nb or)", ["not a valid Python expression", "line 2"]),
]


@pytest.mark.parametrize(("expression", "fragments"), REJECTED)
def test_rejection_quotes_the_expression_and_says_why(expression: str, fragments: list[str]) -> None:
    with pytest.raises(ExpressionError) as caught:
        translate(expression)
    error = caught.value
    assert error.expression == expression
    assert error.message.startswith(f'Expression "{expression.strip()}": ')
    assert str(error) == error.message
    for fragment in fragments:
        assert fragment in error.message


def test_expression_error_is_a_bankflow_error() -> None:
    """So entry points print it like every other user error (one line, no traceback)."""
    with pytest.raises(BankflowError):
        translate("${x.size()}")


# --- limits -------------------------------------------------------------------------------


def test_nesting_up_to_the_limit_translates() -> None:
    depth = MAX_NESTING - 1
    assert evaluate("${" + "(" * depth + "a" + ")" * depth + "}", {"a": 1}) == 1
    assert evaluate("=" + "not(" * depth + "a" + ")" * depth, {"a": True}) is (depth % 2 == 0)


@pytest.mark.parametrize("expression", [
    "${" + "(" * MAX_NESTING + "a" + ")" * MAX_NESTING + "}",
    "${" + "!" * MAX_NESTING + "a}",
    "${" + "a ? b : " * MAX_NESTING + "c}",
    "=" + "not(" * MAX_NESTING + "a" + ")" * MAX_NESTING,
])
def test_too_deep_nesting_is_refused(expression: str) -> None:
    with pytest.raises(ExpressionError, match="nested too deeply"):
        translate(expression)


def test_long_operator_runs_translate_without_deep_recursion() -> None:
    """Runs of operators and paths are loops, so only the token limit bounds them."""
    count = MAX_TOKENS // 2
    assert evaluate("${" + " + ".join(["a"] * count) + "}", {"a": 1}) == count
    compile(translate("${" + " < ".join(["a"] * count) + "}"), "<test>", "eval")
    assert evaluate("${a" + ".b" * (count - 1) + "}", {"a": nested_dict(count - 1)}) == 1


def nested_dict(levels: int) -> object:
    """{'b': {'b': ... 1}} with `levels` keys."""
    value: object = 1
    for _ in range(levels):
        value = {"b": value}
    return value


def test_too_many_tokens_are_refused() -> None:
    with pytest.raises(ExpressionError, match="too long"):
        translate("${" + " + ".join(["a"] * MAX_TOKENS) + "}")


def test_huge_numbers_are_refused() -> None:
    with pytest.raises(ExpressionError, match="too large"):
        translate("${" + "9" * 5000 + " > x}")


# --- corpus of real BPMN files ------------------------------------------------------------


def corpus_conditions() -> Iterator[tuple[str, str]]:
    """Every conditionExpression in the corpus, as (file:line, text), parsed without entities."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for path in sorted(CORPUS.rglob("*.bpmn")):
        tree = etree.parse(str(path), parser)
        for element in tree.iter("{*}conditionExpression"):
            yield f"{path.relative_to(CORPUS)}:{element.sourceline}", element.text or ""


# The corpus conditions that are refused (file:line); every other one translates.
REFUSED_CONDITIONS = {
    "camunda-8-examples/get-up.bpmn:150", "camunda-8-examples/get-up.bpmn:159",  # FEEL `is defined(...)`
    "miwg-reference/C.1.1.bpmn:298", "miwg-reference/C.1.1.bpmn:308",  # XPath bpmn:getDataObject(...)
    "miwg-reference/C.1.1.bpmn:318", "miwg-reference/C.1.1.bpmn:328",
    "miwg-reference/C.3.0.bpmn:336",  # a variable name with a space, not marked as FEEL
    "miwg-reference/C.8.1.bpmn:996", "miwg-reference/C.8.1.bpmn:999", "miwg-reference/C.8.1.bpmn:1004",
    "miwg-reference/C.9.0.bpmn:90", "miwg-reference/C.9.0.bpmn:107",  # FEEL some/every ... satisfies
}


@requires_corpus
def test_every_corpus_condition_translates_or_is_refused_clearly() -> None:
    translated: list[str] = []
    refused: list[str] = []
    for place, text in corpus_conditions():
        try:
            python = translate(text)
        except ExpressionError as error:
            assert error.message.startswith('Expression "')
            refused.append(f"{place}: {error.message}")
        else:
            compile(python, place, "eval")
            translated.append(f"{place}: {text.strip()!r} -> {python!r}")
    print(f"\n{len(translated) + len(refused)} conditions: "
          f"{len(translated)} translated, {len(refused)} refused")
    print("\n".join(["translated:", *translated, "refused:", *refused]))
    assert {line.split(": ", 1)[0] for line in refused} == REFUSED_CONDITIONS
    assert (len(translated), len(refused)) == (37, 12)
