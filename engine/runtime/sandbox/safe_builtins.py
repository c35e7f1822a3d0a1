"""The builtins a sandboxed script sees: a small set of safe functions, types and values.

No modules, nothing that reads or writes files, imports, compiles or introspects (open, exec,
eval, compile, getattr, globals, vars, dir, type, object are simply absent). Math functions are
exposed as plain functions, never through the math module.

`str`, `int` and `Decimal` are stand-ins: calling one checks its argument first (str() of a
huge aliased list, int() of Decimal('9e999999'), Decimal() of a megabyte of digits), while
`isinstance(x, str)` and attribute access (`str.lower`, see access) see the real type.
"""
from __future__ import annotations

import decimal
import importlib
import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable

from .errors import ScriptLimitExceeded
from .operators import (
    guarded_ceil,
    guarded_floor,
    guarded_pow,
    guarded_range,
    guarded_round,
    guarded_sum,
)
from .sizes import check_integral, check_text_size, logical_size
from .text import guarded_format, guarded_repr, scrub_text

MAX_DECIMAL_TEXT = 1_000   # digits accepted by Decimal(); arithmetic then rounds to 28 digits
_MODULES_FOR_C_CODE = frozenset({"time", "_strptime"})

CATCHABLE_ERRORS: tuple[type[Exception], ...] = (
    Exception,
    ArithmeticError,
    AssertionError,
    AttributeError,
    IndexError,
    KeyError,
    LookupError,
    NameError,
    NotImplementedError,
    OverflowError,
    RecursionError,
    RuntimeError,
    TypeError,
    ValueError,
    ZeroDivisionError,
    decimal.InvalidOperation,
)
CATCHABLE_ERROR_NAMES = frozenset(error.__name__ for error in CATCHABLE_ERRORS)


class StandIn(type):
    """Metaclass of the stand-ins: calls are checked, type checks see the real type."""

    real_type: type
    check: Callable[..., None]

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, cls.real_type)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls.real_type)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        cls.check(*args, **kwargs)
        value = cls.real_type(*args, **kwargs)
        return scrub_text(value) if cls.real_type is str else value

    def __repr__(cls) -> str:
        return repr(cls.real_type)


def _import_for_c_code(name: str, globals: object = None, locals: object = None,
                       fromlist: object = (), level: int = 0) -> Any:
    """`__import__` for the C code of the exposed types, never for scripts.

    C functions such as date.today(), datetime.strptime() and date.timetuple() import `time` or
    `_strptime` through the `__import__` of the calling frame's builtins, i.e. the script's.
    Scripts themselves cannot reach this function: '__import__' and '__builtins__' are private
    names, and nothing exposes a namespace.
    """
    if name not in _MODULES_FOR_C_CODE or level != 0:
        raise ImportError("imports are not allowed")
    return importlib.import_module(name)


def _stand_in(real_type: type, check: Callable[..., None]) -> StandIn:
    return StandIn(real_type.__name__, (), {"real_type": real_type, "check": staticmethod(check)})


def _check_str_arguments(value: object = "", *rest: object, **options: object) -> None:
    check_text_size(value)


def _check_int_arguments(value: object = 0, *rest: object, **options: object) -> None:
    check_integral(value)


def _check_decimal_arguments(value: object = "0", *rest: object, **options: object) -> None:
    if logical_size(value, MAX_DECIMAL_TEXT) > MAX_DECIMAL_TEXT:
        raise ScriptLimitExceeded(f"Decimal() accepts at most {MAX_DECIMAL_TEXT:,} digits")


SAFE_BUILTINS: dict[str, Any] = {
    "__import__": _import_for_c_code,
    "None": None,
    "True": True,
    "False": False,
    "len": len,
    "min": min,
    "max": max,
    "sum": guarded_sum,
    "round": guarded_round,
    "abs": abs,
    "sorted": sorted,
    "reversed": reversed,
    "any": any,
    "all": all,
    "range": guarded_range,
    "enumerate": enumerate,
    "zip": zip,
    "map": map,
    "filter": filter,
    "str": _stand_in(str, _check_str_arguments),
    "int": _stand_in(int, _check_int_arguments),
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
    "set": set,
    "frozenset": frozenset,
    "tuple": tuple,
    "isinstance": isinstance,
    "divmod": divmod,
    "pow": guarded_pow,
    "format": guarded_format,
    "repr": guarded_repr,
    "Decimal": _stand_in(Decimal, _check_decimal_arguments),
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "floor": guarded_floor,
    "ceil": guarded_ceil,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "log10": math.log10,
    **{name: getattr(decimal, name) for name in dir(decimal) if name.startswith("ROUND_")},
    **{error.__name__: error for error in CATCHABLE_ERRORS},
}
