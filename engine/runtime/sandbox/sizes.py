"""Caps on what a single operation in a sandboxed script may produce, and the checks behind them.

The watchdog (limits) can only interrupt a script between bytecodes, so one C-level call
such as `'a' * 10**10`, `10**10**10`, `int(Decimal('9e999999'))` (32 s of CPU) or `str()` of a
list holding one big string a million times would allocate gigabytes or run for minutes before it
is noticed. The guards call these checks *before* such a call, from cheap estimates of its result.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
import math
import re

from .errors import ScriptLimitExceeded

MAX_ITEMS = 10_000_000       # characters of a string or items of a list/tuple made by one operation
MAX_INT_BITS = 100_000       # size of an integer made by one operation
MAX_INT_DIGITS = 4_300       # CPython's own limit for int <-> str conversion
MAX_WIDTH = 10_000           # widths and precisions: format specs, %-formatting, ljust, zfill...
MAX_SPEC_LENGTH = 200        # a format spec, or a strftime format
MAX_TEXT = 10_000_000        # characters str()/repr()/format() may produce; size of task data
MAX_NESTING = 100            # nesting depth of task data

_SHORT_TEXT_TYPES = frozenset(
    {type(None), bool, int, float, complex, str, Decimal, date, datetime, time, timedelta, timezone}
)
_CONTAINERS: tuple[type[Collection[object]], ...] = (
    list, tuple, set, frozenset, type({}.keys()), type({}.values()), type({}.items())
)
_DATA_LEAVES = (type(None), bool, int, float, str, Decimal, date, time, timedelta)
_DATA_CONTAINERS = (list, tuple, dict)
_NUMBER = re.compile(r"\d+")


def check_length(length: int) -> None:
    if length > MAX_ITEMS:
        raise ScriptLimitExceeded(
            f"the result would be too large (more than {MAX_ITEMS:,} characters or items)"
        )


def check_int_bits(bits: float) -> None:
    if bits > MAX_INT_BITS:
        raise ScriptLimitExceeded(f"the result would be a number with more than {MAX_INT_BITS:,} bits")


def check_width(width: object) -> None:
    if isinstance(width, int) and width > MAX_WIDTH:
        raise ScriptLimitExceeded(f"widths and precisions above {MAX_WIDTH:,} are not allowed")


def check_format_spec(spec: str) -> None:
    """Refuse format specs whose width or precision would make a huge string (`'>999999999'`)."""
    if len(spec) > MAX_SPEC_LENGTH:
        raise ScriptLimitExceeded(f"format specifications longer than {MAX_SPEC_LENGTH} characters are not allowed")
    for number in _NUMBER.findall(spec):
        check_width(int(number))


def check_integral(value: object) -> None:
    """Refuse converting a huge Decimal to int: `int(Decimal('9e999999'))` runs for half a minute."""
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > MAX_INT_DIGITS:
        raise ScriptLimitExceeded(f"numbers with more than {MAX_INT_DIGITS:,} digits cannot be made integers")


def logical_size(value: object, limit: int) -> int:
    """Characters and items that printing or serializing `value` produces, roughly.

    Counts every reference to a shared object again, as repr() and JSON do: a list holding one
    10 MB string a million times is 10 TB of text. Stops once past `limit`, so the cost is at most
    proportional to `limit` whatever `value` is.
    """
    total = 0
    pending = [value]
    while pending and total <= limit:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item) + 2
            continue
        parts = _parts(item)
        if parts is None:
            total += 8
            continue
        total += len(parts) + 2
        if total <= limit:
            pending.extend(parts)
    return total


def _parts(item: object) -> Collection[object] | None:
    if isinstance(item, dict):
        return (item.keys(), item.values())
    if isinstance(item, _CONTAINERS):
        return item
    if isinstance(item, BaseException):
        return item.args
    return None


def check_text_size(value: object) -> None:
    """Refuse turning `value` into text when the text would be huge."""
    if type(value) in _SHORT_TEXT_TYPES:
        return
    if logical_size(value, MAX_TEXT) > MAX_TEXT:
        raise ScriptLimitExceeded(f"the value is too large to turn into text (over {MAX_TEXT:,} characters)")


def data_problem(value: object) -> str | None:
    """Why `value` cannot be kept in task data, or None if it can.

    Task data is saved as JSON between steps, so it holds what survives that: text-keyed
    dictionaries, lists (tuples come back as lists), finite numbers, text, dates and times.
    A set, a number key or NaN would be lost or refused at the save, after the script ran
    (a Decimal NaN would even make every later comparison of the task data fail).
    """
    seen: set[int] = set()
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, _DATA_LEAVES):
            if isinstance(item, int) and item.bit_length() > MAX_INT_DIGITS * 3.32:
                return f"a number with more than {MAX_INT_DIGITS:,} digits"
            if isinstance(item, float) and not math.isfinite(item):
                return f"the number {item}, which is not finite"
            if isinstance(item, Decimal) and not item.is_finite():
                return f"the number Decimal('{item}'), which is not finite"
            continue
        if isinstance(item, (set, frozenset)):
            return "a set (task data is saved as JSON: use a list)"
        if not isinstance(item, _DATA_CONTAINERS):
            return f"a {type(item).__name__}"
        if depth >= MAX_NESTING:
            return f"data nested more than {MAX_NESTING} levels deep"
        if id(item) not in seen:
            seen.add(id(item))
            if isinstance(item, dict):
                bad_key = next((key for key in item if not isinstance(key, str)), None)
                if bad_key is not None:
                    return f"a dictionary key {bad_key!r} that is not text (task data is saved as JSON)"
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


_PLAIN_LEAVES = {type(None): None, bool: None, str: None, int: None, float: None, Decimal: None, date: None,
                 datetime: None, time: None, timedelta: None}


def plain_data(value: object) -> object:
    """`value` as the data a save gives back: tuples (named tuples too) become lists, subclasses of
    text and numbers their base type. `value` must have passed `data_problem`, which bounds its
    nesting, so the recursion here stays shallow."""
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return value
    if isinstance(value, dict):
        return plain_variables(value)
    if isinstance(value, (list, tuple)):
        return [plain_data(item) for item in value]
    for base in (bool, int, float, str, Decimal):
        if isinstance(value, base):
            return base(value)
    if isinstance(value, (datetime, date, time, timedelta)):
        return value
    raise TypeError(f"a {kind.__name__} is not data")


def plain_variables(values: Mapping[str, object]) -> dict[str, object]:
    """Task data variables as a save gives them back (see `plain_data`)."""
    return {str(key): plain_data(item) for key, item in values.items()}
