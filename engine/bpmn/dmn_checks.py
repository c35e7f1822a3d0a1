"""Check DMN decision tables at deploy the way SpiffWorkflow's DMN engine will run them.

SpiffWorkflow evaluates each cell with the script engine: `?` stands for the input;
a cell that is not an expression on its own (`>= 650`) is appended to the input
expression, otherwise compared with `==`. Every resulting expression must pass the
sandbox, so a bad cell is refused at deploy, not met by a clerk at run time.
"""
from __future__ import annotations

import re

from lxml import etree

from engine.errors import DeployProblem
from engine.runtime.sandbox import SandboxViolation, check_expression

QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


def _text(node: etree._Element | None) -> str:
    found = node.find("{*}text") if node is not None else None
    return (found.text or "").strip() if found is not None else ""


class GluedCell(Exception):
    """SpiffWorkflow would glue the cell to the input with no space (`segmentnot in (...)`)."""


def _cell_expression(input_expression: str, cell: str) -> str:
    """The expression SpiffWorkflow builds for one input cell."""
    if QUESTION_MARK.search(cell):
        return QUESTION_MARK.sub("dmninputexpr", cell)
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


def check_decisions(tree: etree._ElementTree, file_name: str) -> list[DeployProblem]:
    problems = []
    for decision in tree.getroot().iter("{*}decision"):
        for table in decision.iter("{*}decisionTable"):
            inputs = [_text(i.find("{*}inputExpression")) for i in table.iterfind("{*}input")]
            for position, text in enumerate(inputs, 1):
                message = _cell_problem(text) if text else "the input has no expression"
                if message:
                    problems.append(DeployProblem(file_name, f"decision '{decision.get('id')}', input {position}: "
                                                             f"{message}", element=decision.get("id"),
                                                  line=table.sourceline))
            for row, rule in enumerate(table.iterfind("{*}rule"), 1):
                cells = [(f"input {n}", inputs[n - 1], _text(entry))
                         for n, entry in enumerate(rule.iterfind("{*}inputEntry"), 1)
                         if _text(entry) not in ("", "-") and n <= len(inputs)]
                cells += [(f"output {n}", None, _text(entry))
                          for n, entry in enumerate(rule.iterfind("{*}outputEntry"), 1) if _text(entry)]
                for where, input_expression, written in cells:
                    try:
                        expression = written if input_expression is None else _cell_expression(input_expression, written)
                        message = _cell_problem(expression)
                    except GluedCell:
                        message = "write it with the input as '?', e.g. '? not in (...)'"
                    if message:
                        problems.append(DeployProblem(
                            file_name, f"decision '{decision.get('id')}', rule {row}, {where}: the cell "
                                       f"'{written}' cannot be evaluated ({message})",
                            element=rule.get("id") or decision.get("id"), line=rule.sourceline))
    return problems
