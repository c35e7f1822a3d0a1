"""SpiffWorkflow's and the BPMN schema's error texts, said in modelling terms.

The checks in `checks.py` catch most mistakes before the libraries see a file; what
the libraries still refuse reaches the designer through here, so a problem reads
"subprocess Review has no end event" rather than "A SubWorkflow Must contain an End
event", and schema errors speak of `bpmn:userTask`, not of XML namespaces. A text
that matches no pattern is passed on as it is (the libraries' validation messages are
meant for people); a wrapped Python exception is never shown (see `is_internal`).
"""
from __future__ import annotations

import re
from typing import Callable

from lxml import etree

from engine.bpmn.elements import BPMN_NS, CAMUNDA_NS, SPIFF_NS, ZEEBE_NS, joined, subject
from engine.errors import Listing, Message

PREFIXES = {BPMN_NS: "bpmn", CAMUNDA_NS: "camunda", SPIFF_NS: "spiffworkflow", ZEEBE_NS: "zeebe"}
Rewrite = Callable[[re.Match, str], str]

# SpiffWorkflow's ValidationException texts: pattern -> rewrite(match, subject), where subject
# names the element ("user task Task_1").
SPIFF_MESSAGES: list[tuple[re.Pattern, Rewrite]] = [
    (re.compile(r"When looking for a task spec, we found two items, perhaps a form has the same ID\? \((.*)\)$"),
     lambda m, subject: Message("a sequence flow from %(subject)s points to %(target)s, which does not exist",
                                subject=subject, target=m[1])),
    (re.compile(r"Duplicate process ID: (.*)$"),
     lambda m, subject: Message("the id '%(id)s' names two processes or subprocesses of this upload: give each its "
                                "own id", id=m[1])),
    (re.compile(r"Multiple outgoing flows are not supported for tasks of type"),
     lambda m, subject: Message("%(subject)s has more than one outgoing sequence flow, which bankflow cannot follow "
                                "from this kind of element: draw one flow to a gateway and split there (a parallel "
                                "gateway to do both, an exclusive gateway to choose one)", subject=subject)),
    (re.compile(r"Exactly one start event is required in a SubWorkflow Task; found (\d+)\."),
     lambda m, subject: Message("%(subject)s needs exactly one start event; it has %(count)s", subject=subject,
                                count=m[1])),
    (re.compile(r"A SubWorkflow Must contain an End event"),
     lambda m, subject: Message("%(subject)s has no end event: add one where its work ends", subject=subject)),
    (re.compile(r"There is no support implemented for this task type\."),
     lambda m, subject: Message("%(subject)s is a kind of element bankflow cannot run", subject=subject)),
]
INTERNAL = re.compile(r"^[A-Z]\w*(Error|Exception|Warning)\(")


def is_internal(message: str) -> bool:
    """SpiffWorkflow wraps unexpected Python exceptions as `KeyError('x')`: a library fault, not
    something the designer can act on."""
    return bool(INTERNAL.match(message))


def spiff_message(message: str, tag: str | None, element: str | None) -> str:
    """A SpiffWorkflow validation message in modelling terms."""
    for pattern, rewrite in SPIFF_MESSAGES:
        match = pattern.match(message)
        if match:
            return rewrite(match, subject(tag, element))
    return message


def _short(name: str) -> str:
    """'{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask' -> 'bpmn:userTask'."""
    qname = etree.QName(name) if name.startswith("{") else None
    if qname is None:
        return name
    prefix = PREFIXES.get(qname.namespace)
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


def shorten_names(text: str) -> str:
    """Every namespace-qualified name in a schema message written with its usual prefix."""
    return re.sub(r"\{[^{}\s]+\}[\w.-]+", lambda m: _short(m[0]), text)


def _expected(listing: str) -> str:
    names = [n.strip() for n in listing.split(",") if n.strip()]
    return names[0] if len(names) == 1 else Message("one of %(names)s", names=Listing(names, "list"))


# The schema's other texts (names already shortened): pattern -> rewrite(match); the first that matches.
SCHEMA_MESSAGES: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r"Element '([^']+)', attribute '([^']+)': The attribute '[^']+' is not allowed\."),
     lambda m: Message("%(element)s has an attribute '%(attribute)s' that BPMN 2.0 does not allow there",
                       element=m[1], attribute=m[2])),
    (re.compile(r"Element '([^']+)': This element is not expected\. Expected is (?:one of )?\( (.*) \)\."),
     lambda m: Message("%(element)s is not allowed at this place; BPMN 2.0 expects %(expected)s here (the elements "
                       "may be in the wrong order: re-save the file in the modeller)", element=m[1],
                       expected=_expected(m[2]))),
    (re.compile(r"Element '([^']+)': This element is not expected\."),
     lambda m: Message("%(element)s is not allowed at this place", element=m[1])),
    (re.compile(r"Element '([^']+)': Missing child element\(s\)\. Expected is (?:one of )?\( (.*) \)\."),
     lambda m: Message("%(element)s is missing a child element: BPMN 2.0 expects %(expected)s", element=m[1],
                       expected=_expected(m[2]))),
]


def schema_message(text: str, id_lines: Callable[[str], list[int]]) -> tuple[str, str | None]:
    """(message, element id) for a BPMN 2.0 schema error; `id_lines` gives the lines of the elements
    that carry an id (to tell an id used twice from a malformed one)."""
    text = shorten_names(text)
    match = re.match(r"Element '([^']+)', attribute 'id': '([^']*)' is not a valid value of the atomic type "
                     r"'xs:ID'\.", text)
    if match:
        element, value = match[1], match[2]
        lines = id_lines(value)
        if len(lines) > 1:
            return Message("the id '%(id)s' is used by %(count)s elements (lines %(lines)s): every element needs its "
                           "own id", id=value, count=len(lines), lines=joined(lines)), value
        return Message("the id '%(id)s' of %(element)s is not a valid id: an id starts with a letter or _ and has no "
                       "spaces or colons", id=value, element=element), None
    for pattern, rewrite in SCHEMA_MESSAGES:
        match = pattern.match(text)
        if match:
            return rewrite(match), None
    return text, None
