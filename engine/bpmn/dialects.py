"""Rewrite Camunda 7 (JUEL) and Camunda 8 (FEEL) expressions and bare ISO 8601 timer
values into the Python expressions SpiffWorkflow evaluates.

Done on the parsed XML before SpiffWorkflow sees it, at deploy and again whenever
a spec is rebuilt from the stored file, so the stored file stays exactly what the
designer uploaded.
"""
from __future__ import annotations

from lxml import etree

from engine.bpmn.elements import NS
from engine.bpmn.expressions import ExpressionError, translate
from engine.errors import N_, DeployProblem, Message
from engine.runtime.sandbox import SandboxViolation, check_expression
from engine.runtime.timer_events import check_timer_literal
from engine.sla.durations import DurationError


def _owner(node: etree._Element) -> etree._Element:
    """The element a designer knows: the sequence flow or event that holds the expression."""
    parent = node.getparent()
    while parent is not None and not parent.get("id"):
        parent = parent.getparent()
    return parent if parent is not None else node


def translate_conditions(tree: etree._ElementTree, file_name: str) -> list[DeployProblem]:
    """Translate every condition expression in place; return one problem per untranslatable one."""
    problems = []
    for node in tree.getroot().iter("{%s}conditionExpression" % NS["bpmn"], "{%s}condition" % NS["bpmn"]):
        text = (node.text or "").strip()
        if not text:
            continue
        if "feel" in (node.get("language") or "").lower() and not text.startswith("="):
            text = "=" + text
        owner = _owner(node)
        try:
            node.text = sandboxed(translate(text), text)
        except ExpressionError as exc:
            problems.append(DeployProblem(file_name, exc.message, element=owner.get("id"), line=node.sourceline))
    return problems


def sandboxed(python: str, written: str) -> str:
    """`python` if the sandbox will run it, else an ExpressionError quoting what the designer wrote."""
    try:
        check_expression(python)
    except SandboxViolation as exc:
        raise ExpressionError(written, Message("this is not allowed: %(problem)s", problem=exc.message)) from None
    return python


TIMER_TAGS = ("timeDate", "timeDuration", "timeCycle")


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _timer_literal(tag: str, text: str) -> str | None:
    """The ISO 8601 value a timer states literally (bare or quoted), or None for an expression."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in ("'", '"') and text[0] not in text[1:-1]:
        return text[1:-1].strip()
    if text[:1].upper() in ("P", "R") or text[:1].isdigit():
        return text
    return None


_KIND_WORDS = {"timeDate": N_("date-time"), "timeDuration": N_("duration"), "timeCycle": N_("repeating interval")}


def translate_timers(tree: etree._ElementTree, file_name: str) -> list[DeployProblem]:
    """Make every timer value a Python expression: ISO 8601 literals are checked and quoted,
    JUEL/FEEL expressions translated; empty or unparseable values are deploy problems."""
    problems = []
    for tag in TIMER_TAGS:
        for node in tree.getroot().iter("{%s}%s" % (NS["bpmn"], tag)):
            owner = _owner(node)
            text = (node.text or "").strip()

            def problem(message: str) -> None:
                problems.append(DeployProblem(file_name, message, element=owner.get("id"), line=node.sourceline))

            if not text:
                problem(Message("the timer's %(tag)s is empty: give an ISO 8601 value such as PT4H, P10D, "
                                "2026-12-01T09:00:00Z or R/P1D", tag=tag))
                continue
            literal = _timer_literal(tag, text)
            if literal is not None:
                if tag == "timeCycle" and (" " in literal or "*" in literal):
                    problem(Message("the timer's timeCycle '%(text)s' is a cron expression, which bankflow does not "
                                    "support; use an ISO 8601 repeating interval such as R/PT5M or R/P1D",
                                    text=_shown(text)))
                    continue
                try:
                    check_timer_literal(tag, literal)
                except DurationError as exc:
                    problem(Message("the timer's %(tag)s is not a usable ISO 8601 %(kind)s: %(problem)s", tag=tag,
                                    kind=Message(_KIND_WORDS[tag]), problem=exc.message))
                    continue
                node.text = repr(literal)
                continue
            try:
                node.text = sandboxed(translate(text), text)
            except ExpressionError as exc:
                problem(exc.message)
    return problems
