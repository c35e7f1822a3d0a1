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

from engine.errors import DeployProblem, Message
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
        ends_in_word = input_expression[-1:].isalnum() or input_expression.endswith("_")
        starts_with_word = cell[:1].isalnum() or cell[:1] == "_"
        if ends_in_word and starts_with_word:
            raise GluedCell(cell) from None
        return input_expression + cell


def _cell_problem(expression: str) -> Message | None:
    try:
        check_expression(expression)
    except SandboxViolation as exc:
        return Message(exc.message)
    return None


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _output_problem(output: etree._Element) -> Message | None:
    name = output.get("name") or output.get("label") or ""
    if not name:
        return Message("the output has no name (the variable its value is stored in)")
    parts = name.split(".")
    if len(parts) > MAX_OUTPUT_PARTS:
        return Message("the output name '%(name)s' has %(count)s dotted parts (each is a level of nesting in the "
                       "case data); at most %(most)s are allowed", name=_shown(name), count=format(len(parts), ","),
                       most=MAX_OUTPUT_PARTS)
    if any(not part for part in parts):
        return Message("the output name '%(name)s' has an empty part between dots", name=_shown(name))
    return None


def _cell_message(input_expression: str | None, written: str) -> Message | None:
    if len(written) > MAX_CELL:
        return Message("the cell is %(length)s characters long; at most %(most)s are allowed",
                       length=format(len(written), ","), most=format(MAX_CELL, ","))
    try:
        expression = written if input_expression is None else _cell_expression(input_expression, written)
    except GluedCell:
        return Message("write it with the input as '?', e.g. '? not in (...)'")
    except SandboxViolation as exc:
        return Message(exc.message)
    return _cell_problem(expression)


def check_decisions(tree: etree._ElementTree, file_name: str) -> list[DeployProblem]:
    problems = []
    for decision in tree.getroot().iter("{*}decision"):
        decision_id = decision.get("id")

        def problem(message: Message, node: etree._Element) -> None:
            problems.append(DeployProblem(file_name, Message("decision '%(decision)s', %(problem)s",
                                                             decision=decision_id, problem=message),
                                          element=node.get("id") or decision_id, line=node.sourceline))

        for table in decision.iter("{*}decisionTable"):
            inputs = [_text(i.find("{*}inputExpression")) for i in table.iterfind("{*}input")]
            for position, text in enumerate(inputs, 1):
                message = _cell_message(None, text) if text else Message("the input has no expression")
                if message:
                    problem(Message("input %(n)s: %(problem)s", n=position, problem=message), table)
            for position, output in enumerate(table.iterfind("{*}output"), 1):
                message = _output_problem(output)
                if message:
                    problem(Message("output %(n)s: %(problem)s", n=position, problem=message), output)
            outputs = len(table.findall("{*}output"))
            for row, rule in enumerate(table.iterfind("{*}rule"), 1):
                entries = rule.findall("{*}inputEntry")
                results = rule.findall("{*}outputEntry")
                if len(entries) > len(inputs) or len(results) > outputs:
                    problem(Message("rule %(row)s has %(entries)s input and %(results)s output cells, but the table "
                                    "has %(inputs)s inputs and %(outputs)s outputs", row=row, entries=len(entries),
                                    results=len(results), inputs=len(inputs), outputs=outputs), rule)
                    continue
                cells: list[tuple[Message, str | None, str]] = [
                    (Message("input %(n)s", n=n), inputs[n - 1], _text(entry))
                    for n, entry in enumerate(entries, 1) if _text(entry) not in ("", "-")]
                cells += [(Message("output %(n)s", n=n), None, _text(entry))
                          for n, entry in enumerate(results, 1) if _text(entry)]
                for where, input_expression, written in cells:
                    message = _cell_message(input_expression, written)
                    if message:
                        problem(Message("rule %(row)s, %(where)s: the cell '%(cell)s' cannot be evaluated "
                                        "(%(problem)s)", row=row, where=where, cell=_shown(written),
                                        problem=message), rule)
    return problems
