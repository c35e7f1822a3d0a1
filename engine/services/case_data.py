"""A case's data as people read it: each variable with the label and type of the form that asks for it,
in the order the forms ask them, and the names of the elements its history mentions.

The forms are the designer's words for the data, so pages show those rather than variable names. The
web layer formats each value by its type and the reader's language (engine code knows no locale).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from engine.runtime.specs import RunnableDefinition


@dataclass(frozen=True)
class CaseDatum:
    """One variable of a case, as a page shows it."""

    name: str  # the variable's name
    label: str  # the label of the form field that asks for it (or shows it); else the name
    type: str | None  # that field's type (string, long, double, decimal, boolean, date, enum); None: no form
    value: Any  # as stored: JSON values, dates and decimals as text
    options: tuple[tuple[str, str], ...] = ()  # an enum field's (value, name) pairs


def case_data(definition: RunnableDefinition, variables: dict[str, Any]) -> list[CaseDatum]:
    """The case's variables: first those a form asks for, in the order the forms ask them (the start
    form, then the user tasks in model order), then the rest by what is shown for them. A variable no
    form asks for still takes its label from a form that shows it read-only."""
    asked: dict[str, dict[str, Any]] = {}
    shown: dict[str, dict[str, Any]] = {}
    for field in _form_fields(definition):
        if field.get("id") in variables:
            (shown if field.get("readonly") else asked).setdefault(field["id"], field)
    rest = sorted((_datum(name, shown.get(name), value) for name, value in variables.items() if name not in asked),
                  key=lambda datum: (datum.label.casefold(), datum.name))
    return [_datum(name, field, variables[name]) for name, field in asked.items()] + rest


def element_names(definition: RunnableDefinition) -> dict[str, str]:
    """Element id -> the element's name, for the elements that have one."""
    return {element_id: meta["name"] for element_id, meta in definition.elements.items() if meta.get("name")}


def _form_fields(definition: RunnableDefinition) -> Iterator[dict[str, Any]]:
    """Every form field of the definition: start events' first, then user tasks' in model order."""
    in_model_order = sorted(definition.elements.values(), key=lambda meta: meta.get("line") or 0)
    for kind in ("startEvent", "userTask"):
        for meta in in_model_order:
            if meta["type"] == kind:
                yield from meta.get("form") or []


def _datum(name: str, field: dict[str, Any] | None, value: Any) -> CaseDatum:
    if field is None:
        return CaseDatum(name=name, label=name, type=None, value=value)
    return CaseDatum(name=name, label=field.get("label") or name, type=field.get("type"), value=value,
                     options=tuple((o["id"], o["name"]) for o in field.get("options") or []))
