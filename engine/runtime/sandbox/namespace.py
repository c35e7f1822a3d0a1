"""The globals compiled scripts and expressions run with, besides the task data.

RestrictedPython's compiled code calls hooks by name (`_getattr_`, `_getitem_`, `_getiter_`,
`_write_`, `_inplacevar_`, `_unpack_sequence_`, `_iter_unpack_sequence_`, `_apply_`, `_print_`),
and so does the code the compiler adds (`_add_`, `_mul_`, `_pow_`, `_lshift_`, `_mod_`,
`_format_`, `_guard_call_`). Scripts cannot name any of them (names starting with '_' are refused
at compile time), and the environment puts them over the task data so data cannot replace them.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence

from .access import guarded_getattr, guarded_getitem, readonly_getattr
from .safe_builtins import SAFE_BUILTINS
from .operators import (
    guarded_add,
    guarded_inplace,
    guarded_lshift,
    guarded_mod,
    guarded_mul,
    guarded_pow,
)
from .text import format_field

MAX_CALL_DEPTH = 100


class _CallDepth(threading.local):
    value = 0


_DEPTH = _CallDepth()


def guard_calls(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap every function and lambda a script defines, so that recursion stops early.

    Python's recursion limit is process-wide and SpiffWorkflow and the web server already use
    part of it; a script's own depth is capped far below it, so a runaway recursion ends with a
    RecursionError from the script's frames, never from ours or the caller's.
    """

    def call(*args: Any, **kwargs: Any) -> Any:
        if _DEPTH.value >= MAX_CALL_DEPTH:
            raise RecursionError(f"scripts may nest function calls at most {MAX_CALL_DEPTH} deep")
        _DEPTH.value += 1
        try:
            return function(*args, **kwargs)
        finally:
            _DEPTH.value -= 1

    return call


def _apply(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`f(*args, **kwargs)` in scripts; the arguments need no further guarding here."""
    return function(*args, **kwargs)


class _DiscardedPrint:
    """print() in scripts works but its output goes nowhere (it would only fill logs)."""

    def __init__(self, getattr_hook: object = None):
        pass

    def _call_print(self, *objects: object, **options: object) -> None:
        pass

    def __call__(self) -> str:
        return ""


_COMMON: dict[str, Any] = {
    "__builtins__": SAFE_BUILTINS,
    "_getitem_": guarded_getitem,
    "_getiter_": iter,
    "_write_": full_write_guard,
    "_inplacevar_": guarded_inplace,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_apply_": _apply,
    "_print_": _DiscardedPrint,
    "_format_": format_field,
    "_add_": guarded_add,
    "_mul_": guarded_mul,
    "_pow_": guarded_pow,
    "_lshift_": guarded_lshift,
    "_mod_": guarded_mod,
    "_guard_call_": guard_calls,
}
SCRIPT_GLOBALS: dict[str, Any] = {**_COMMON, "_getattr_": guarded_getattr}
EXPRESSION_GLOBALS: dict[str, Any] = {**_COMMON, "_getattr_": readonly_getattr}
