"""Bounds on what people submit, checked before it reaches the database, on SQLite and PostgreSQL alike.

* Text written to a `String(n)` column must fit it: PostgreSQL refuses a longer value with an error
  (a 500 for the user), SQLite silently stores it. `length_problems`/`check_lengths` compare a value
  with the column it is written to, whose length the models define (engine.store.models), so the
  limit and the message can never disagree with the schema.
* Whole numbers that name rows or are compared with `Integer` columns (ids, versions, priorities,
  page numbers) must lie within `MIN_INTEGER`..`MAX_INTEGER`: PostgreSQL's INTEGER is 32-bit and
  refuses a larger parameter, SQLite overflows beyond 64 bits. The web app bounds every id in a path
  and every whole number in a query string with these (webui.blueprints).
"""
from __future__ import annotations

from typing import Any

from engine.errors import FieldProblem, InvalidData

MAX_INTEGER = 2**31 - 1  # the models' Integer columns (ids, versions, priorities) are 32-bit on PostgreSQL
MIN_INTEGER = -(2**31)


def column_length(column: Any) -> int:
    """The length of a `String(n)` column (a model attribute such as `ProcessInstance.business_key`)."""
    return column.type.length


def length_problems(*fields: tuple[str, str | None, Any]) -> list[FieldProblem]:
    """A problem for each (field, value, column) whose text is longer than its column; None fits."""
    problems = []
    for field, value, column in fields:
        limit = column_length(column)
        if value is not None and len(value) > limit:
            problems.append(FieldProblem(field, "must be at most %(n)s characters long", n=limit))
    return problems


def check_lengths(summary: str, *fields: tuple[str, str | None, Any]) -> None:
    """Refuse, with InvalidData saying `summary`, text longer than its column (see `length_problems`)."""
    problems = length_problems(*fields)
    if problems:
        raise InvalidData(problems, summary=summary)
