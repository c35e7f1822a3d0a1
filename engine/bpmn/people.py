"""The users a model names literally, and the deploy warning when they do not exist.

`camunda:assignee`, `camunda:candidateUsers` and `camunda:candidateStarterUsers` may
name people outright (`demo`) or through an expression (`${applicant_user}`, resolved
per case and so not checked). Whether a name is a user is the database's business:
the deploy service asks it and hands the missing names back to `NamedUsers.warning`.
A missing user is a warning, not a refusal: users may be added after the deploy.
"""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from engine.bpmn.elements import NS, camunda, is_expression, joined, split_list, subject
from engine.errors import N_, Message

# attribute -> the warning when the users it names are missing: (one user, several users)
WARNINGS = {
    "assignee": (
        N_("%(subject)s is assigned to %(names)s (camunda:assignee), but there is no user %(names)s yet: nobody can "
           "work on the task until that user is added"),
        N_("%(subject)s is assigned to %(names)s (camunda:assignee), but there are no users %(names)s yet: nobody "
           "can work on the task until that user is added")),
    "candidateUsers": (
        N_("%(subject)s offers the task to %(names)s (camunda:candidateUsers), but there is no user %(names)s yet: "
           "they cannot claim it until they are added"),
        N_("%(subject)s offers the task to %(names)s (camunda:candidateUsers), but there are no users %(names)s yet: "
           "they cannot claim it until they are added")),
    "candidateStarterUsers": (
        N_("%(subject)s may be started by %(names)s (camunda:candidateStarterUsers), but there is no user %(names)s "
           "yet: they cannot start it until they are added"),
        N_("%(subject)s may be started by %(names)s (camunda:candidateStarterUsers), but there are no users "
           "%(names)s yet: they cannot start it until they are added")),
}


@dataclass(frozen=True)
class NamedUsers:
    """The literal user names one attribute of one element holds."""

    file: str
    element: str
    kind: str  # the element's kind, e.g. "userTask" or "process"
    line: int | None
    attribute: str  # assignee | candidateUsers | candidateStarterUsers
    names: tuple[str, ...]

    def warning(self, missing: list[str]) -> Message:
        """What to tell the designer about the `missing` names (a subset of `names`)."""
        one, several = WARNINGS[self.attribute]
        return Message(one if len(missing) == 1 else several, subject=subject(self.kind, self.element),
                       names=_quoted(missing))


def _quoted(names: list[str]) -> str:
    return joined([f"'{n}'" for n in names])


def _literal_names(node: etree._Element, attribute: str) -> tuple[str, ...]:
    value = camunda(node, attribute)
    if attribute == "assignee":
        return (value.strip(),) if value and value.strip() and not is_expression(value) else ()
    return tuple(n for n in split_list(value) if not is_expression(n))


def named_users(process: etree._Element, file_name: str) -> list[NamedUsers]:
    """Every literal user name in a process: who may start it, and each user task's assignee
    and candidate users, in document order."""
    found = []
    tasks = process.iter("{%s}userTask" % NS["bpmn"])
    for node, attribute in [(process, "candidateStarterUsers"),
                            *((t, a) for t in tasks for a in ("assignee", "candidateUsers"))]:
        names = _literal_names(node, attribute)
        if names:
            found.append(NamedUsers(file_name, node.get("id"), etree.QName(node).localname, node.sourceline,
                                    attribute, names))
    return found
