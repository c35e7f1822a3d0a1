"""Validate and convert the data submitted for a user task against its form.

Forms come from `camunda:formData`. Every bad field is reported, not just the
first, and fields the form does not declare are refused: a clerk can only set the
variables the designer put on the form.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

from engine.errors import N_, ExplainedError, FieldProblem, InvalidData, Listing, Message

TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0", ""}


class BadValue(ExplainedError, ValueError):
    """A value that does not fit a form field's type; the message says what it must be."""


def _to_string(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise BadValue("must be text")
    return str(value)


LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1  # a `long` is a 64-bit signed integer, as in Camunda (Java)
LONG_RANGE = Message("must be a whole number between %(low)s and %(high)s", low=LONG_MIN, high=LONG_MAX)
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def _to_long(value: Any) -> int:
    if isinstance(value, bool):
        raise BadValue("must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        digits = value.strip().lstrip("+-").lstrip("0")
        if len(digits) > len(str(LONG_MAX)):  # too long to be in range: not worth converting
            raise BadValue(LONG_RANGE)
        number = int(value.strip())
    else:
        raise BadValue("must be a whole number")
    if not LONG_MIN <= number <= LONG_MAX:
        raise BadValue(LONG_RANGE)
    return number


def _to_double(value: Any) -> float:
    if isinstance(value, bool):
        raise BadValue("must be a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadValue("must be a number") from None


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise BadValue("must be a decimal number")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadValue("must be a decimal number") from None
    if not result.is_finite():
        raise BadValue("must be a finite decimal number")
    return result


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise BadValue("must be true or false")


def _to_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                continue
    raise BadValue("must be a date (YYYY-MM-DD)")


FIELD_TYPES: dict[str, Callable[[Any], Any]] = {
    "string": _to_string,
    "long": _to_long,
    "double": _to_double,
    "decimal": _to_decimal,
    "boolean": _to_boolean,
    "date": _to_date,
    "enum": _to_string,
}


LENGTH_CONSTRAINTS = ("minlength", "maxlength")
BOUND_CONSTRAINTS = ("min", "max")


def definition_problems(field: dict[str, Any]) -> list[Message]:
    """What is wrong with a form field as designed: a default value, min or max that is not a
    value of the field's type, a length that is not a whole number, bounds the wrong way round.
    Checked at deploy, so a clerk never meets it."""
    kind = field.get("type") or "string"
    convert = FIELD_TYPES.get(kind)
    if convert is None:
        return []  # reported as an unknown type
    name = field.get("id")
    problems = []
    converted: dict[str, Any] = {}
    for key in BOUND_CONSTRAINTS:
        if field.get(key) is not None:
            try:
                converted[key] = convert(field[key])
            except BadValue as exc:
                problems.append(Message("form field '%(field)s': its %(key)s '%(value)s' is not a %(kind)s value "
                                        "(%(problem)s)", field=name, key=key, value=_shown(field[key]), kind=kind,
                                        problem=exc.message))
    for key in LENGTH_CONSTRAINTS:
        if field.get(key) is not None:
            text = str(field[key]).strip()
            if not text.isdigit() or len(text) > 9:
                problems.append(Message("form field '%(field)s': its %(key)s '%(value)s' is not a whole number of "
                                        "characters", field=name, key=key, value=_shown(field[key])))
            else:
                converted[key] = int(text)
    default = field.get("default")
    if default is not None and str(default).strip() != "":
        shown = _shown(default)
        if str(default).strip().startswith(("${", "#{")):
            problems.append(Message("form field '%(field)s': its defaultValue '%(value)s' is an expression; "
                                    "bankflow takes a literal default value", field=name, value=shown))
        elif kind == "enum" and default not in [o["id"] for o in field.get("options", [])]:
            problems.append(Message("form field '%(field)s': its defaultValue '%(value)s' is not one of its values",
                                    field=name, value=shown))
        else:
            try:
                value = convert(default)
            except BadValue as exc:
                problems.append(Message("form field '%(field)s': its defaultValue '%(value)s' is not a %(kind)s "
                                        "value (%(problem)s)", field=name, value=shown, kind=kind,
                                        problem=exc.message))
            else:
                complaint = _bounds_complaint(converted, value)
                if complaint:
                    problems.append(Message("form field '%(field)s': its defaultValue '%(value)s' %(problem)s",
                                            field=name, value=shown, problem=complaint))
    try:
        if "min" in converted and "max" in converted and converted["min"] > converted["max"]:
            problems.append(Message("form field '%(field)s': its min is greater than its max", field=name))
    except TypeError:
        pass
    if "minlength" in converted and "maxlength" in converted and converted["minlength"] > converted["maxlength"]:
        problems.append(Message("form field '%(field)s': its minlength is greater than its maxlength", field=name))
    return problems


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bounds_complaint(bounds: dict[str, Any], value: Any) -> Message | None:
    try:
        if "min" in bounds and value < bounds["min"]:
            return Message("must be at least %(n)s", n=str(bounds["min"]))
        if "max" in bounds and value > bounds["max"]:
            return Message("must be at most %(n)s", n=str(bounds["max"]))
    except TypeError:
        return Message("cannot be compared with the field's bounds")
    if "minlength" in bounds and len(str(value)) < bounds["minlength"]:
        return Message("must be at least %(n)s characters long", n=bounds["minlength"])
    if "maxlength" in bounds and len(str(value)) > bounds["maxlength"]:
        return Message("must be at most %(n)s characters long", n=bounds["maxlength"])
    return None


class _BadForm(ExplainedError, ValueError):
    """The form itself is broken (deployed before the deploy checks): reported per field."""


def _bounds(field: dict[str, Any]) -> dict[str, Any]:
    convert = FIELD_TYPES[field["type"]]
    bounds: dict[str, Any] = {}
    try:
        for key in BOUND_CONSTRAINTS:
            if key in field:
                bounds[key] = convert(field[key])
        for key in LENGTH_CONSTRAINTS:
            if key in field:
                bounds[key] = int(str(field[key]).strip())
    except ValueError:
        raise _BadForm("cannot be checked: the form's constraints do not fit the field's type; the process "
                       "designer must fix the form") from None
    return bounds


def _check_constraints(field: dict[str, Any], value: Any) -> str | None:
    if field["type"] == "enum":
        allowed = [o["id"] for o in field.get("options", [])]
        if value not in allowed:
            return Message("must be one of %(values)s", values=Listing(allowed, "list"))
    try:
        return _bounds_complaint(_bounds(field), value)
    except _BadForm as exc:
        return exc.message


def _default(field: dict[str, Any]) -> Any:
    try:
        return FIELD_TYPES[field["type"]](field["default"])
    except ValueError:
        raise _BadForm("has a default value that does not fit its type; the process designer must fix the "
                       "form") from None


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate(form: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    """The converted values for `form`, or InvalidData naming every bad field."""
    if not isinstance(data, dict):
        raise InvalidData([FieldProblem("data", "must be a JSON object of field values")])
    problems: list[FieldProblem] = []
    declared = {f["id"]: f for f in form}
    for name in data:
        if name in declared:
            continue
        if declared:
            problems.append(FieldProblem(name, "is not a field of this form (the form has %(fields)s)",
                                         fields=Listing(declared, "list")))
        else:
            problems.append(FieldProblem(name, "is not a field of this form (the form has no fields)"))
    values: dict[str, Any] = {}
    for field in form:
        raw = data.get(field["id"])
        if field.get("readonly"):
            if field["id"] in data:
                problems.append(FieldProblem(field["id"], "is read-only"))
            continue
        if (_is_blank(raw) and field["type"] != "boolean") or raw is None:
            if field.get("required"):
                problems.append(FieldProblem(field["id"], "is required"))
            elif field.get("default") is not None:
                try:
                    values[field["id"]] = _default(field)
                except _BadForm as exc:
                    problems.append(FieldProblem(field["id"], exc.message))
            continue
        try:
            value = FIELD_TYPES[field["type"]](raw)
        except BadValue as exc:
            problems.append(FieldProblem(field["id"], exc.message))
            continue
        complaint = _check_constraints(field, value)
        if complaint:
            problems.append(FieldProblem(field["id"], complaint))
            continue
        values[field["id"]] = value
    if problems:
        raise InvalidData(problems, summary=N_("the form data is not valid"))
    return values


def submitted_values(form: list[dict[str, Any]], posted: Mapping[str, str]) -> dict[str, str]:
    """The values of `form`'s fields in a submitted HTML form, by field id, as the user typed them: a
    missing field is empty, read-only fields and a yes/no question left unanswered are left out (the form
    says whether that is allowed), and anything else posted (a CSRF token, say) is ignored."""
    values = {}
    for field in form:
        if field.get("readonly"):
            continue
        raw = posted.get(field["id"], "")
        if field["type"] == "boolean" and not raw:
            continue
        values[field["id"]] = raw
    return values


def public_fields(form: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The form as shown to clients (JSON contract): no source line numbers."""
    return [{k: v for k, v in f.items() if k != "line"} for f in form]
