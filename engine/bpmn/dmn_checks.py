"""Check DMN decision tables at deploy the way SpiffWorkflow's DMN engine will run them.

SpiffWorkflow evaluates each cell with the script engine: `?` stands for the input;
a cell that is not an expression on its own (`>= 650`) is appended to the input
expression, otherwise compared with `==`. Every resulting expression must pass the
sandbox, so a bad cell is refused at deploy, not met by a clerk at run time. The checks
take linear time in the size of the table (`substitute_input` replaces the library's
quadratic regular expression), and every refusal is a deploy problem naming the rule and
cell, never an exception.
"""
from __future__ import annotations

from lxml import etree

from engine.errors import DeployProblem
from engine.runtime.decisions import DMN_INPUT, MAX_OUTPUT_PARTS, substitute_input
from engine.runtime.sandbox import SandboxViolation, check_expression

MAX_CELL = 20_000


def _text(node: etree._Element | None) -> str:
    found = node.find("{*}text") if node is not None else None
    return (found.text or "").strip() if found is not None else ""


class GluedCell(Exception):
    """SpiffWorkflow would glue the cell to the input with no space (`segmentnot in (...)`)."""


def _cell_expression(input_expression: str, cell: str) -> str:
    """The expression SpiffWorkflow builds for one input cell."""
    substituted = substitute_input(cell)
    if DMN_INPUT in substituted:
        return substituted
    try:
        check_expression(cell)
        return f"({input_expression}) == ({cell})"
    except SyntaxError:
        if (input_expression[-1:].isalnum() or input_expression.endswith("_")) and (cell[:1].isalnum() or cell[:1] == "_"):
            raise GluedCell(cell) from None
        return input_expression + cell


def _cell_problem(expression: str) -> str | None:
    try:
        check_expression(expression)
    except SandboxViolation as exc:
        return exc.message
    return None


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _output_problem(output: etree._Element) -> str | None:
    name = output.get("name") or output.get("label") or ""
    if not name:
        return "the output has no name (the variable its value is stored in)"
    parts = name.split(".")
    if len(parts) > MAX_OUTPUT_PARTS:
        return (f"the output name '{_shown(name)}' has {len(parts):,} dotted parts (each is a level of nesting "
                f"in the case data); at most {MAX_OUTPUT_PARTS} are allowed")
    if any(not part for part in parts):
        return f"the output name '{_shown(name)}' has an empty part between dots"
    return None


def _cell_message(input_expression: str | None, written: str) -> str | None:
    if len(written) > MAX_CELL:
        return f"the cell is {len(written):,} characters long; at most {MAX_CELL:,} are allowed"
    try:
        expression = written if input_expression is None else _cell_expression(input_expression, written)
    except GluedCell:
        return "write it with the input as '?', e.g. '? not in (...)'"
    except SandboxViolation as exc:
        return exc.message
    return _cell_problem(expression)


def check_decisions(tree: etree._ElementTree, file_name: str) -> list[DeployProblem]:
    problems = []
    for decision in tree.getroot().iter("{*}decision"):
        decision_id = decision.get("id")

        def problem(message: str, node: etree._Element) -> None:
            problems.append(DeployProblem(file_name, f"decision '{decision_id}', {message}",
                                          element=node.get("id") or decision_id, line=node.sourceline))

        for table in decision.iter("{*}decisionTable"):
            inputs = [_text(i.find("{*}inputExpression")) for i in table.iterfind("{*}input")]
            for position, text in enumerate(inputs, 1):
                message = _cell_message(None, text) if text else "the input has no expression"
                if message:
                    problem(f"input {position}: {message}", table)
            for position, output in enumerate(table.iterfind("{*}output"), 1):
                message = _output_problem(output)
                if message:
                    problem(f"output {position}: {message}", output)
            outputs = len(table.findall("{*}output"))
            for row, rule in enumerate(table.iterfind("{*}rule"), 1):
                entries = rule.findall("{*}inputEntry")
                results = rule.findall("{*}outputEntry")
                if len(entries) > len(inputs) or len(results) > outputs:
                    problem(f"rule {row} has {len(entries)} input and {len(results)} output cells, but the table "
                            f"has {len(inputs)} inputs and {outputs} outputs", rule)
                    continue
                cells = [(f"input {n}", inputs[n - 1], _text(entry))
                         for n, entry in enumerate(entries, 1) if _text(entry) not in ("", "-")]
                cells += [(f"output {n}", None, _text(entry)) for n, entry in enumerate(results, 1) if _text(entry)]
                for where, input_expression, written in cells:
                    message = _cell_message(input_expression, written)
                    if message:
                        problem(f"rule {row}, {where}: the cell '{_shown(written)}' cannot be evaluated ({message})",
                                rule)
    return problems
