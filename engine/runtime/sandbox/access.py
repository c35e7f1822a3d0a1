"""Which attributes and items sandboxed code may read.

RestrictedPython compiles `obj.name` to `_getattr_(obj, 'name')` and `obj[key]` to
`_getitem_(obj, key)`; these are those hooks. The rules, strictest first:
- names starting with '_' and the introspection attributes (frames, code, tracebacks,
  generators, `mro`) are refused for every object, at compile time where the name is written
  out and here for names built at run time (str.format fields);
- attributes are read only from plain data values (str, numbers, Decimal, dates, containers), the
  exposed classes, and errors (`args` only). Modules, functions, methods, generators, other
  classes and any other object give nothing: there is nothing to pivot through;
- a few methods are refused (`encode`, `to_bytes`, `translate`, ...) or wrapped with size checks
  (text); `str.format`/`format_map` run through a Formatter that resolves fields with
  these same rules;
- expressions (gateway conditions, DMN cells) cannot call methods that change data in place.
"""
from __future__ import annotations

import string
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any, Callable, Mapping

import _string  # type: ignore[import-not-found]  # typeshed has no stub for this private stdlib module
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from .safe_builtins import StandIn
from .errors import SandboxViolation
from .text import (
    DATE_METHOD_GUARDS,
    DATETIME_CLASS_GUARDS,
    DATETIME_METHOD_GUARDS,
    STR_METHOD_GUARDS,
    MethodGuard,
    convert,
    guarded_format,
)

DENIED_ATTRIBUTES = INSPECT_ATTRIBUTES | {"mro"}
_MUTATORS: dict[type, frozenset[str]] = {
    list: frozenset({"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"}),
    dict: frozenset({"update", "pop", "popitem", "setdefault", "clear"}),
    set: frozenset(
        {"add", "discard", "remove", "pop", "clear", "update", "difference_update",
         "intersection_update", "symmetric_difference_update"}
    ),
}


def _refused(value: object, method: Callable[..., Any]) -> Callable[..., Any]:
    raise SandboxViolation(f"'{method.__name__}' is not available in scripts")


class _SafeFormatter(string.Formatter):
    """str.format/format_map whose fields (`{0.attr[key]}`) obey the sandbox's access rules."""

    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        return args[key] if isinstance(key, int) else guarded_getitem(kwargs, key)

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, int | str]:
        first, rest = _string.formatter_field_name_split(field_name)
        value = self.get_value(first, args, kwargs)
        for is_attribute, key in rest:
            value = guarded_getattr(value, key) if is_attribute else guarded_getitem(value, key)
        return value, first

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        return value if conversion is None else convert(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> str:
        return guarded_format(value, format_spec)


_FORMATTER = _SafeFormatter()


def _format_guard(text: str, method: Callable[..., str]) -> Callable[..., str]:
    return partial(_FORMATTER.format, text)


def _format_map_guard(text: str, method: Callable[..., str]) -> Callable[..., str]:
    def format_map(mapping: Mapping[str, Any]) -> str:
        return _FORMATTER.vformat(text, (), mapping)

    return format_map


_NO_RULES: dict[str, MethodGuard] = {}
_INT_RULES: dict[str, MethodGuard] = {"to_bytes": _refused, "from_bytes": _refused}
_INSTANCE_RULES: dict[type, dict[str, MethodGuard]] = {
    type(None): _NO_RULES,
    bool: _INT_RULES,
    int: _INT_RULES,
    float: _NO_RULES,
    complex: _NO_RULES,
    str: {
        **STR_METHOD_GUARDS,
        "format": _format_guard,
        "format_map": _format_map_guard,
        "encode": _refused,
        "translate": _refused,
        "maketrans": _refused,
    },
    list: _NO_RULES,
    tuple: _NO_RULES,
    dict: _NO_RULES,
    set: _NO_RULES,
    frozenset: _NO_RULES,
    range: _NO_RULES,
    type({}.keys()): _NO_RULES,
    type({}.values()): _NO_RULES,
    type({}.items()): _NO_RULES,
    Decimal: {"as_integer_ratio": _refused},
    date: DATE_METHOD_GUARDS,
    datetime: DATETIME_METHOD_GUARDS,
    time: DATE_METHOD_GUARDS,
    timedelta: _NO_RULES,
    timezone: _NO_RULES,
}
_CLASSES = frozenset({str, int, float, bool, list, tuple, dict, set, frozenset, Decimal, date, datetime, timedelta})
_CLASS_RULES: dict[type, dict[str, MethodGuard]] = {datetime: DATETIME_CLASS_GUARDS}


def attribute_problem(name: str) -> str | None:
    """Why `name` may never be read from any object, or None; shared with the compiler."""
    if name.startswith("_"):
        return f"attribute '{name}' is not allowed (names starting with '_' are private)"
    if name in DENIED_ATTRIBUTES:
        return f"attribute '{name}' is not allowed"
    return None


def guarded_getattr(obj: Any, name: str) -> Any:
    """`obj.name` in scripts."""
    problem = attribute_problem(name)
    if problem:
        raise SandboxViolation(problem)
    rules = _INSTANCE_RULES.get(type(obj))
    if rules is None:
        return _other_attribute(obj, name)
    value = getattr(obj, name)
    guard = rules.get(name)
    return guard(obj, value) if guard else value


def _other_attribute(obj: Any, name: str) -> Any:
    """Attributes of the exposed classes, of named tuples (Decimal.as_tuple()), and errors' args."""
    if isinstance(obj, type):
        return _class_attribute(obj, name)
    if isinstance(obj, tuple):
        return getattr(obj, name)
    if isinstance(obj, BaseException):
        if name == "args":
            return obj.args
        raise SandboxViolation(f"only 'args' can be read from an error, not '{name}'")
    raise SandboxViolation(f"attributes of {type(obj).__name__} objects are not available in scripts")


def _class_attribute(cls: type, name: str) -> Any:
    real = cls.real_type if isinstance(cls, StandIn) else cls
    if real not in _CLASSES:
        raise SandboxViolation(f"attributes of the class {real.__name__} are not available in scripts")
    rules = _CLASS_RULES.get(real, _NO_RULES)
    instance_rule = _INSTANCE_RULES[real].get(name)
    if instance_rule is _refused:
        raise SandboxViolation(f"'{real.__name__}.{name}' is not available in scripts")
    if instance_rule and name not in rules:
        raise SandboxViolation(f"'{real.__name__}.{name}' is not available; call '{name}' on a value instead")
    value = getattr(real, name)
    guard = rules.get(name)
    return guard(real, value) if guard else value


def readonly_getattr(obj: Any, name: str) -> Any:
    """`obj.name` in expressions, which must not change task data."""
    owner = (obj.real_type if isinstance(obj, StandIn) else obj) if isinstance(obj, type) else type(obj)
    if name in _MUTATORS.get(owner, ()):
        raise SandboxViolation(
            f"expressions cannot change data ('{name}' changes the {owner.__name__}); use a script task"
        )
    return guarded_getattr(obj, name)


def guarded_getitem(obj: Any, key: Any) -> Any:
    """`obj[key]` in scripts."""
    if isinstance(key, str) and key.startswith("_"):
        raise SandboxViolation(f"item '{key}' is not allowed (names starting with '_' are private)")
    return obj[key]
