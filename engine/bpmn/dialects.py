"""Rewrite Camunda 7 (JUEL) and Camunda 8 (FEEL) expressions into sandboxed Python.

Done on the parsed XML before SpiffWorkflow sees it, at deploy and again whenever
a spec is rebuilt from the stored file, so the stored file stays exactly what the
designer uploaded.
"""
from __future__ import annotations

from lxml import etree

from engine.bpmn.elements import NS
from engine.bpmn.expressions import ExpressionError, translate
from engine.errors import DeployProblem


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
            node.text = translate(text)
        except ExpressionError as exc:
            problems.append(DeployProblem(file_name, exc.message, element=owner.get("id"), line=node.sourceline))
    return problems
