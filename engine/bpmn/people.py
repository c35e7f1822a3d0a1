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

# attribute -> (what naming a user there means, what follows while the user is missing)
NAMING_ATTRIBUTES = {
    "assignee": ("is assigned to", "nobody can work on the task until that user is added"),
    "candidateUsers": ("offers the task to", "they cannot claim it until they are added"),
    "candidateStarterUsers": ("may be started by", "they cannot start it until they are added"),
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

    def warning(self, missing: list[str]) -> str:
        """What to tell the designer about the `missing` names (a subset of `names`)."""
        verb, consequence = NAMING_ATTRIBUTES[self.attribute]
        nobody = (f"there is no user {_quoted(missing)}" if len(missing) == 1
                  else f"there are no users {_quoted(missing)}")
        return (f"{subject(self.kind, self.element)} {verb} {_quoted(missing)} (camunda:{self.attribute}), "
                f"but {nobody} yet: {consequence}")


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
