"""Errors the service layer raises; entry points map them to exit codes or HTTP codes.

Every message is written for the person who caused it (a designer, a clerk), never
a raw library exception. A message is a `Message`: the English text, which also
keeps its message id (the English with `%(name)s` placeholders, the catalogue's
msgid) and the values, so the command line prints it as it is and the web layer says
it in the user's language. Parameters that are codes (`Code`) or lists (`Listing`)
are said in the user's language too. `webui/babel.cfg` names the constructors below
as extraction keywords; `N_` marks a message id kept in a constant.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping


def N_(message_id: str) -> str:
    """Marks a message id that is kept in a constant, so that the catalogue extraction finds it."""
    return message_id


class Message(str):
    """Words for a person: the English text, knowing its message id and parameters (`id`, `params`)."""

    id: str
    params: Mapping[str, Any]

    def __new__(cls, message_id: str, /, **params: Any) -> Message:
        text = super().__new__(cls, message_id % params if params else message_id)
        text.id, text.params = message_id, params
        return text


class Code(str):
    """A code in a message (a status, a role, a kind of BPMN element): said by its English word here,
    looked up by `code` in the web layer's words for codes."""

    code: str

    def __new__(cls, code: str, english: str | None = None) -> Code:
        text = super().__new__(cls, english or code)
        text.code = code
        return text


class GroupName(str):
    """A group's id in a message: the command line prints the id, the web layer the group's display
    name in the reader's language."""


LISTING_KINDS = ("and", "or", "list", "problems")


class Listing(str):
    """Several values in a message: "a, b and c" (`and`), "a, b or c" (`or`), "a, b, c" (`list`),
    "a; b" (`problems`); the web layer joins the items, each said in the user's language."""

    items: tuple[Any, ...]
    kind: str

    def __new__(cls, items: Iterable[Any], kind: str = "and") -> Listing:
        items = tuple(items)
        shown = [str(i) for i in items]
        if kind in ("and", "or") and len(shown) > 1:
            text = ", ".join(shown[:-1]) + f" {kind} " + shown[-1]
        else:
            text = ("; " if kind == "problems" else ", ").join(shown)
        listing = super().__new__(cls, text)
        listing.items, listing.kind = items, kind
        return listing


def codes(values: Iterable[str], kind: str = "list") -> Listing:
    """Codes (statuses, roles) as a listing, each said in the reader's language."""
    return Listing([Code(v) for v in values], kind)


def said(message: str, params: Mapping[str, Any]) -> str:
    """`message` with `params` as a Message; a Message, Code or Listing without parameters as it is."""
    if isinstance(message, (Message, Code, Listing)) and not params:
        return message
    return Message(message, **params)


class ExplainedError(Exception):
    """An exception whose text is a message: `str(exc)` is the English, `message` the Message."""

    def __init__(self, message_id: str, /, **params: Any):
        self.message = said(message_id, params)
        super().__init__(self.message)

    @property
    def message_id(self) -> str:
        return getattr(self.message, "id", self.message)

    @property
    def params(self) -> Mapping[str, Any]:
        return getattr(self.message, "params", {})


class BankflowError(ExplainedError):
    """Base of every error a user can cause and read: `BankflowError(message_id, **params)`."""

    def problems(self) -> list[str]:
        """One line per problem, as printed by the CLI."""
        return [str(self)]


class NotFound(BankflowError):
    pass


class PermissionDenied(BankflowError):
    pass


class DatabaseProblem(BankflowError):
    """The database cannot be used (unreachable, no schema); the message says what to do."""


class Conflict(BankflowError):
    """The object was changed by someone else, or is no longer in a state that allows the action."""


@dataclass(frozen=True, init=False)
class FieldProblem:
    """What is wrong with one field: `FieldProblem(field, message_id, **params)`; `message` is the Message."""

    field: str
    message: str

    def __init__(self, field: str, message_id: str, /, **params: Any):
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "message", said(message_id, params))

    def __str__(self) -> str:
        return str(self.said)

    @property
    def said(self) -> Message:
        """The field and what is wrong with it, as one message."""
        return Message("%(field)s: %(problem)s", field=self.field, problem=self.message)


class InvalidData(BankflowError):
    """Submitted data failed validation; carries one problem per bad field."""

    def __init__(self, field_problems: list[FieldProblem], summary: str = N_("invalid data")):
        self.field_problems = list(field_problems)
        if not self.field_problems:
            super().__init__(summary)
        else:
            super().__init__(Message("%(summary)s: %(problems)s", summary=said(summary, {}),
                                     problems=Listing([p.said for p in self.field_problems], "problems")))

    def problems(self) -> list[str]:
        return [str(p) for p in self.field_problems]


@dataclass(frozen=True)
class DeployProblem:
    """One reason a file cannot be deployed: where it is and what is wrong (a Message)."""

    file: str
    message: str
    element: str | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", said(self.message, {}))

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element:
            where += f" [{self.element}]"
        return f"{where}: {self.message}"


class DeployError(BankflowError):
    """A deployment was refused; nothing was stored."""

    def __init__(self, deploy_problems: list[DeployProblem]):
        self.deploy_problems = list(deploy_problems)
        super().__init__(Listing([str(p) for p in self.deploy_problems], "problems"))

    def problems(self) -> list[str]:
        return [str(p) for p in self.deploy_problems]
