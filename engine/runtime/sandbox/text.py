"""Turning values into text inside the sandbox without building gigabyte strings.

Used by f-strings (the compiler routes every `{value!conv:spec}` through `format_field`), by the
`format`/`repr`/`str` builtins, by str.format (access) and by the str methods that can
grow a string far beyond their inputs (`'x'.ljust(10**10)`, `s.replace('a', s)`).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from .sizes import check_format_spec, check_length, check_text_size, check_width

# `<map object at 0x7f...>`, `<function f.<locals>.<lambda> at 0x...>`: the default repr of objects
# that are not data. Segments between angle brackets cannot overlap, so matching is linear.
_ADDRESS_REPR = re.compile(r"<([^<>]*(?:<[^<>]*>[^<>]*)*) at 0x[0-9a-fA-F]+>")


def _placeholder(match: re.Match[str]) -> str:
    first = match.group(1).split(" ", 1)[0]
    if first in ("function", "bound", "built-in", "method"):
        return "<function>"
    return f"<{first} object>" if first else "<object>"


def scrub_text(text: str) -> str:
    """Text without memory addresses: object reprs become `<map object>`, `<function>`.

    Addresses tell an attacker where things are in the server's memory and mean nothing to a
    clerk; they never reach task data or incident messages.
    """
    if " at 0x" not in text:
        return text
    return _ADDRESS_REPR.sub(_placeholder, text)

_CONVERSIONS: dict[str, Callable[[object], str]] = {"s": str, "r": repr, "a": ascii}


def convert(value: object, conversion: str) -> str:
    """The `!s`, `!r` and `!a` conversions of f-strings and str.format."""
    if conversion not in _CONVERSIONS:
        raise ValueError(f"unknown conversion '!{conversion}'")
    check_text_size(value)
    return scrub_text(_CONVERSIONS[conversion](value))


def guarded_format(value: object, spec: str = "") -> str:
    """The `format` builtin, and the last step of f-strings and str.format."""
    check_format_spec(spec)
    check_text_size(value)
    return scrub_text(format(value, spec))


def guarded_repr(value: object) -> str:
    return convert(value, "r")


def format_field(value: object, conversion: int, spec: str) -> str:
    """One `{value!conversion:spec}` of an f-string; `conversion` is ast's code (-1 for none)."""
    if conversion != -1:
        value = convert(value, chr(conversion))
    return guarded_format(value, spec)


def _width_guard(text: str, method: Callable[..., str]) -> Callable[..., str]:
    """ljust, rjust, center and zfill: refuse huge widths."""

    def guarded(width: int, *fill: str) -> str:
        check_width(width)
        return method(width, *fill)

    return guarded


def _expandtabs_guard(text: str, method: Callable[..., str]) -> Callable[..., str]:
    def guarded(tabsize: int = 8) -> str:
        if isinstance(tabsize, int):
            check_length(len(text) * max(tabsize, 1))
        return method(tabsize)

    return guarded


def _replace_guard(text: str, method: Callable[..., str]) -> Callable[..., str]:
    def guarded(old: str, new: str, count: int = -1) -> str:
        if isinstance(old, str) and isinstance(new, str) and isinstance(count, int):
            hits = text.count(old) if old else len(text) + 1
            if count >= 0:
                hits = min(hits, count)
            check_length(len(text) + hits * (len(new) - len(old)))
        return method(old, new, count)

    return guarded


def _join_guard(text: str, method: Callable[..., str]) -> Callable[..., str]:
    def guarded(parts: Iterable[str]) -> str:
        parts = list(parts)
        joined = sum(len(part) for part in parts if isinstance(part, str))
        check_length(joined + len(text) * max(len(parts) - 1, 0))
        return method(parts)

    return guarded


def _strftime_guard(moment: object, method: Callable[..., str]) -> Callable[..., str]:
    """`%c` turns 2 characters of format into 24 of text: keep formats short."""

    def guarded(pattern: str) -> str:
        if isinstance(pattern, str):
            check_format_spec(pattern)
        return method(pattern)

    return guarded


def _strptime_guard(cls: type, method: Callable[..., Any]) -> Callable[..., Any]:
    """strptime compiles a regex from the format and caches it for the process: keep formats short."""

    def guarded(text: str, pattern: str) -> Any:
        if isinstance(pattern, str):
            check_format_spec(pattern)
        return method(text, pattern)

    return guarded


MethodGuard = Callable[[Any, Callable[..., Any]], Callable[..., Any]]

STR_METHOD_GUARDS: dict[str, MethodGuard] = {
    "ljust": _width_guard,
    "rjust": _width_guard,
    "center": _width_guard,
    "zfill": _width_guard,
    "expandtabs": _expandtabs_guard,
    "replace": _replace_guard,
    "join": _join_guard,
}
DATE_METHOD_GUARDS: dict[str, MethodGuard] = {"strftime": _strftime_guard}
DATETIME_CLASS_GUARDS: dict[str, MethodGuard] = {"strptime": _strptime_guard}
DATETIME_METHOD_GUARDS: dict[str, MethodGuard] = {**DATE_METHOD_GUARDS, **DATETIME_CLASS_GUARDS}
