"""What uploaded files refer to outside themselves: called processes and DMN decisions.

A deployment may call processes or decisions deployed earlier; the deploy service
asks this module which ones to fetch from the store before validating.
"""
from __future__ import annotations

from engine.bpmn import xmlsafe
from engine.bpmn.elements import NS, called_element, decision_ref
from engine.bpmn.intake import SourceFile


def missing_references(sources: list[SourceFile]) -> tuple[set[str], set[str]]:
    """Processes and DMN decisions that the files use but do not define."""
    called: set[str] = set()
    processes: set[str] = set()
    decisions: set[str] = set()
    used: set[str] = set()
    for source in sources:
        try:
            root = xmlsafe.parse(source.content).getroot()
        except xmlsafe.UnsafeXml:
            continue  # intake reports it with the file name
        called.update(filter(None, (called_element(c) for c in root.iter("{%s}callActivity" % NS["bpmn"]))))
        used.update(filter(None, (decision_ref(t) for t in root.iter("{%s}businessRuleTask" % NS["bpmn"]))))
        processes.update(p.get("id") for p in root.iterfind("bpmn:process", NS))
        decisions.update(d.get("id") for d in root.iter("{*}decision"))
    return called - processes, used - decisions


def decisions_in(content: bytes) -> set[str]:
    """The ids of the decisions a stored DMN file defines."""
    return {d.get("id") for d in xmlsafe.parse(content).getroot().iter("{*}decision")}


def defines_process(content: bytes, key: str) -> bool:
    """Whether a stored BPMN file holds the process `key` (its diagram is drawn from that file)."""
    try:
        root = xmlsafe.parse(content).getroot()
    except xmlsafe.UnsafeXml:
        return False
    return any(p.get("id") == key for p in root.iterfind("bpmn:process", NS))
