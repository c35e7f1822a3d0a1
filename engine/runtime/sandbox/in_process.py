"""The sandbox run in this process: SpiffWorkflow's script environment with RestrictedPython,
guarded access, size checks and the watchdog's limits (see the package docstring for the walls).

The server never uses it directly; each evaluator process does (`evaluator_process`), and so do
tests and the bare benchmark.
"""
from __future__ import annotations

import copy
import math
import ctypes
import gc
import traceback
from types import CodeType
from typing import Any, Callable, Mapping, TypeVar

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .compiler import check_expression, compile_expression, compile_script
from .errors import ScriptLimitExceeded
from .limits import ScriptLimits, run_limited
from .namespace import EXPRESSION_GLOBALS, SCRIPT_GLOBALS
from .sizes import MAX_TEXT, data_problem, logical_size
from .text import scrub_text

MAX_MESSAGE = 2_000
_CONTAINERS = (list, dict, tuple, set)
_MISSING = object()
_T = TypeVar("_T")
_MALLOC_TRIM = getattr(ctypes.CDLL(None), "malloc_trim", None)


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """TaskDataEnvironment's semantics, run in the sandbox.

    Task data variables are readable as names. After a script, new and changed variables are
    written back to the task data and deleted ones removed; functions never become task data,
    other values must be data a save keeps (see `sizes.data_problem`). A script works on private
    copies of lists and dicts (SpiffWorkflow shares them between a task's data and earlier tasks'),
    so when it fails nothing at all has changed. Expressions cannot change task data at all.
    `environment_globals` are trusted names (functions) the application offers to scripts.
    """

    def __init__(self, limits: ScriptLimits | None = None, environment_globals: dict[str, Any] | None = None):
        super().__init__(environment_globals)
        self.limits = limits or ScriptLimits()

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        code = compile_expression(expression)
        namespace = {**self.globals, **(external_context or {}), **context, **EXPRESSION_GLOBALS}
        return self._run(namespace, lambda: _checked_result(eval(code, namespace)))

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        updates, removed = self.script_changes(script, context, external_context)
        context.update(updates)
        for name in removed:
            del context[name]
        return True

    def script_changes(self, script: str, context: Mapping[str, Any], external_context: Mapping[str, Any] | None = None,
                       private: bool = False) -> tuple[dict[str, Any], list[str]]:
        """Run a script on `context` and return (new or changed variables, removed variables).

        `private` says `context` is the script's own copy (an evaluator process's): it is not
        copied again, and every container variable counts as changed, since the script may have
        changed it in place.
        """
        external = external_context or {}
        self._check_for_overwrite(context, external)
        code = compile_script(script)
        variables = dict(context) if private else _private_copies(context)
        namespace = {**self.globals, **external, **variables, **SCRIPT_GLOBALS}
        hidden = self.globals.keys() | external.keys()
        return self._run(namespace, lambda: _run_script(code, namespace, context, hidden, private))

    def _check_for_overwrite(self, context: Mapping[str, Any], external: Mapping[str, Any]) -> None:
        """As TaskDataEnvironment: task data must not hide a predefined function."""
        clashes = (self.globals.keys() | external.keys()) & context.keys()
        if clashes:
            raise ValueError(
                "You have task data that overwrites a predefined function(s). Please change the "
                f"following variable or field name(s) to something else: {sorted(clashes)}"
            )

    def _run(self, namespace: dict[str, Any], action: Callable[[], _T]) -> _T:
        """Run `action` under the limits; leave no script memory behind, whatever happens."""
        try:
            return run_limited(self.limits, action)
        except ScriptLimitExceeded:
            namespace.clear()
            _return_memory_to_os()
            raise
        except Exception as err:
            _make_reportable(err)
            raise
        finally:
            namespace.clear()


def _private_copies(context: Mapping[str, Any]) -> dict[str, Any]:
    """Task data for a script, its containers deep-copied: changes reach task data only as the
    variables the script leaves behind when it finishes, never in place."""
    return {name: copy.deepcopy(value) if isinstance(value, _CONTAINERS) else value
            for name, value in context.items()}


def _run_script(
    code: CodeType, namespace: dict[str, Any], context: Mapping[str, Any], hidden: set[str], private: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """Run the script and work out its task data changes, all within the limits."""
    exec(code, namespace)
    return _task_data_changes(namespace, context, hidden, private)


def _task_data_changes(
    namespace: dict[str, Any], context: Mapping[str, Any], hidden: set[str], private: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """(new or rebound variables, removed variables) after a script ran in `namespace`."""
    variables = {name: value for name, value in namespace.items()
                 if name[:1] != "_" and name not in hidden and name not in SCRIPT_GLOBALS}
    removed = [name for name in context if name not in variables and name[:1] != "_" and name not in hidden]
    updates: dict[str, Any] = {}
    kept: list[Any] = []
    for name, value in variables.items():
        if callable(value):
            if name in context:
                removed.append(name)
            continue
        kept.append(value)
        if value is context.get(name, _MISSING) and not (private and isinstance(value, _CONTAINERS)):
            continue
        if type(value) not in _SCALARS or (type(value) is float and not math.isfinite(value)):
            problem = data_problem(value)
            if problem:
                raise TypeError(f"variable '{name}' holds {problem}, which cannot be stored in task data")
        updates[name] = value
    if logical_size(kept, MAX_TEXT) > MAX_TEXT:
        raise ScriptLimitExceeded(f"the task data would grow beyond {MAX_TEXT:,} characters and items")
    return updates, removed


_SCALARS = frozenset({type(None), bool, str, float})  # always data (a float if finite); ints may be too long


def _checked_result(value: Any) -> Any:
    """An expression's result must be plain data of a sane size (it may be stored, e.g. by DMN)."""
    if type(value) is bool:
        return value
    if logical_size(value, MAX_TEXT) > MAX_TEXT:
        raise ScriptLimitExceeded(f"the result is larger than {MAX_TEXT:,} characters and items")
    problem = data_problem(value)
    if problem:
        raise TypeError(f"the expression gives {problem}, not a value")
    return value


def _make_reportable(err: Exception) -> None:
    """Make an error leaving the sandbox cheap to print and free of the script's memory.

    Clearing the frames drops the script's local variables but keeps the line numbers that
    SpiffWorkflow reports. SpiffWorkflow also does `name + ":" + err.args[0]`, so the message
    must be a short str (a script can `raise ValueError(huge_list)`).
    """
    traceback.clear_frames(err.__traceback__)
    args = err.args
    if args and not (len(args) == 1 and isinstance(args[0], str) and len(args[0]) <= MAX_MESSAGE):
        err.args = (_short_text(args[0] if len(args) == 1 else args),)
    elif args and " at 0x" in args[0]:
        err.args = (scrub_text(args[0]),)


def _short_text(value: object) -> str:
    if isinstance(value, str):
        return value[:MAX_MESSAGE]
    if logical_size(value, MAX_MESSAGE) > MAX_MESSAGE:
        return "(message too large to show)"
    try:
        return scrub_text(str(value))[:MAX_MESSAGE]
    except ValueError:  # e.g. an integer beyond CPython's digit limit
        return "(message cannot be shown)"


def _return_memory_to_os() -> None:
    """After a limit hit: free the script's objects now and give the heap back (glibc only)."""
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine with every script, condition and DMN cell sandboxed."""

    def __init__(self, environment: SandboxedEnvironment | None = None):
        super().__init__(environment or SandboxedEnvironment())

    def validate(self, expression: str) -> None:
        """Used by SpiffWorkflow's DMN engine; raises SandboxSyntaxError (a SyntaxError) or SandboxViolation."""
        check_expression(expression)
