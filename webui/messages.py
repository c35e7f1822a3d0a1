"""The engine's messages in the user's language.

An engine error or problem carries a `Message` (engine.errors): its English text is the
catalogue's msgid, so `say` looks it up through Flask-Babel and fills in the
parameters, each said in the user's language too (a nested message, a code through
`webui.labels`, a list joined the way the language joins lists). Text that is not a
message (a name, a number) is shown as it is.
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext, lazy_gettext as _l

from engine.errors import Code, DeployProblem, ExplainedError, FieldProblem, GroupName, Listing, Message
from webui.labels import LABELS
from webui.words import group_name

SEPARATORS = {"and": _l(", "), "or": _l(", "), "list": _l(", "), "problems": _l("; ")}


def say(said: Any) -> Any:
    """An engine error, field or deploy problem, message, code or listing in the user's language;
    anything else as it is."""
    if isinstance(said, (ExplainedError, FieldProblem, DeployProblem)):
        said = said.message
    if isinstance(said, Message):
        params = {name: say(value) for name, value in said.params.items()}
        return gettext(said.id, **params) if params else gettext(said.id)
    if isinstance(said, Code):
        words = LABELS.get(said.code)
        return str(words) if words is not None else str(said)
    if isinstance(said, GroupName):
        return group_name(said)
    if isinstance(said, Listing):
        return _joined([str(say(item)) for item in said.items], said.kind)
    return said


def _joined(items: list[str], kind: str) -> str:
    if kind == "and" and len(items) > 1:
        return gettext("%(items)s and %(last)s", items=str(SEPARATORS[kind]).join(items[:-1]), last=items[-1])
    if kind == "or" and len(items) > 1:
        return gettext("%(items)s or %(last)s", items=str(SEPARATORS[kind]).join(items[:-1]), last=items[-1])
    return str(SEPARATORS[kind]).join(items)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["say"] = say
