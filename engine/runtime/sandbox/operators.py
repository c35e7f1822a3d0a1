"""Arithmetic operators and number builtins for sandboxed code, each checking its result size first.

The compiler (compiler) turns `a + b`, `a * b`, `a ** b`, `a << b` and `a % b` into calls
of the guarded_* functions here, and `x op= y` into `guarded_inplace`, because each of these can
build a gigabyte string, list or integer in a single C call that the watchdog cannot interrupt.
Other operators never produce a result much larger than their operands and stay native.
"""
from __future__ import annotations

import math
import operator
import re
from decimal import Decimal
from datetime import timedelta
from typing import Any, Callable, Iterable

from .errors import ScriptLimitExceeded
from .text import scrub_text
from .sizes import (
    MAX_INT_BITS,
    check_int_bits,
    check_integral,
    check_length,
    check_text_size,
    check_width,
)

MAX_RANGE = 1_000_000
MAX_MODULAR_POW_BITS = 4_096   # pow(a, b, m) with 8k-bit operands already takes seconds

_SEQUENCES = (str, list, tuple)
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_SUMMABLE_STARTS = (int, float, complex, Decimal, timedelta)


def check_add(left: Any, right: Any) -> None:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        check_length(len(left) + len(right))


def check_mul(left: Any, right: Any) -> None:
    if isinstance(left, _SEQUENCES) and isinstance(right, int):
        check_length(len(left) * right)
    elif isinstance(right, _SEQUENCES) and isinstance(left, int):
        check_length(len(right) * left)
    elif isinstance(left, int) and isinstance(right, int):
        check_int_bits(left.bit_length() + right.bit_length())


def check_pow(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        check_int_bits(exponent if exponent > MAX_INT_BITS else exponent * math.log2(abs(base)))


def check_lshift(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int) and left and right > 0:
        check_int_bits(left.bit_length() + right)


def check_mod(left: Any, right: Any) -> None:
    """`'%999999999d' % 1` and `'%d' % Decimal('9e999999')` are bombs; ints and floats are fine."""
    if not isinstance(left, str):
        return
    for width, precision in _PERCENT_FIELD.findall(left):
        if "*" in (width, precision):
            raise ScriptLimitExceeded("'*' widths in %-formatting are not allowed")
        check_width(int(width or 0))
        check_width(int(precision or 0))
    check_text_size(right)
    for value in right.values() if isinstance(right, dict) else right if isinstance(right, tuple) else (right,):
        check_integral(value)


def _unchecked(left: Any, right: Any) -> None:
    """For operators whose result is never much larger than their operands."""


def guarded_add(left: Any, right: Any) -> Any:
    check_add(left, right)
    return left + right


def guarded_mul(left: Any, right: Any) -> Any:
    check_mul(left, right)
    return left * right


def guarded_lshift(left: Any, right: Any) -> Any:
    check_lshift(left, right)
    return left << right


def guarded_mod(left: Any, right: Any) -> Any:
    check_mod(left, right)
    result = left % right
    return scrub_text(result) if isinstance(result, str) else result


def guarded_pow(base: Any, exponent: Any, modulus: Any = None) -> Any:
    """`**` and the `pow` builtin."""
    if modulus is None:
        check_pow(base, exponent)
        return base**exponent
    if isinstance(exponent, int) and isinstance(modulus, int):
        if max(exponent.bit_length(), modulus.bit_length()) > MAX_MODULAR_POW_BITS:
            raise ScriptLimitExceeded(f"pow() with a modulus allows at most {MAX_MODULAR_POW_BITS:,}-bit numbers")
    return pow(base, exponent, modulus)


_INPLACE: dict[str, tuple[Callable[[Any, Any], None], Callable[[Any, Any], Any]]] = {
    "+=": (check_add, operator.iadd),
    "-=": (_unchecked, operator.isub),
    "*=": (check_mul, operator.imul),
    "/=": (_unchecked, operator.itruediv),
    "//=": (_unchecked, operator.ifloordiv),
    "%=": (check_mod, operator.imod),
    "**=": (check_pow, operator.ipow),
    "<<=": (check_lshift, operator.ilshift),
    ">>=": (_unchecked, operator.irshift),
    "|=": (_unchecked, operator.ior),
    "&=": (_unchecked, operator.iand),
    "^=": (_unchecked, operator.ixor),
    "@=": (_unchecked, operator.imatmul),
}


def guarded_inplace(op: str, target: Any, value: Any) -> Any:
    """RestrictedPython compiles `x op= y` to `x = _inplacevar_(op, x, y)`."""
    check, apply = _INPLACE[op]
    check(target, value)
    return apply(target, value)


def guarded_range(*args: int) -> range:
    numbers = range(*args)
    try:
        length = len(numbers)
    except OverflowError:
        length = MAX_RANGE + 1
    if length > MAX_RANGE:
        raise ScriptLimitExceeded(f"range() may have at most {MAX_RANGE:,} numbers")
    return numbers


def guarded_sum(values: Iterable[Any], /, start: Any = 0) -> Any:
    """sum() of numbers only: `sum(lists, [])` copies ever longer lists inside one C call."""
    if not isinstance(start, _SUMMABLE_STARTS):
        raise TypeError("sum() adds numbers or durations; join texts with ''.join(...)")
    return sum(values, start)


def guarded_round(number: Any, ndigits: int | None = None) -> Any:
    """round(); `round(10**30000, -10**18)` would compute 10**(10**18) inside one C call."""
    if ndigits is None:
        check_integral(number)
    elif isinstance(ndigits, int):
        check_width(abs(ndigits))
    return round(number, ndigits)


def guarded_floor(number: Any) -> int:
    check_integral(number)
    return math.floor(number)


def guarded_ceil(number: Any) -> int:
    check_integral(number)
    return math.ceil(number)
