"""The script environment the engine runs with: every evaluation in an evaluator process.

`IsolatedEnvironment` has the semantics of `SandboxedEnvironment` (task data as names, a script's
changes written back when it finishes, expressions that cannot change data) but sends each
script, expression and decision table to the evaluator pool (see `pool`, `evaluator_process`) as one
request, and applies what comes back. Errors come back by name and are raised again here as the
same exception types, with the script line SpiffWorkflow reports.

What comes back is checked once more here (it is data of a sane size), because an evaluator is
where untrusted code ran. A quoted text or a whole number needs no evaluator: timers written as
ISO 8601 literals and literal cardinalities are answered here.
"""
from __future__ import annotations

import builtins
import decimal
import re
from typing import Any, Mapping

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from . import prefetch
from .compiler import check_expression
from .errors import SandboxSyntaxError, SandboxViolation, ScriptLimitExceeded
from .limits import ScriptLimits
from .pool import EvaluatorPool, evaluator_pool
from .sizes import MAX_TEXT, data_problem, logical_size

_LITERAL_TEXT = re.compile(r"\s*(?:'([^'\\\n]{0,200})'|\"([^\"\\\n]{0,200})\")\s*")
_LITERAL_INT = re.compile(r"\s*(-?\d{1,18})\s*")
_NOT_LITERAL = object()

_KNOWN_ERRORS: dict[str, type[Exception]] = {
    name: value for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, Exception)
}
_KNOWN_ERRORS.update({name: value for name, value in vars(decimal).items()
                      if isinstance(value, type) and issubclass(value, ArithmeticError)})
_KNOWN_ERRORS.update(ScriptLimitExceeded=ScriptLimitExceeded)
_OTHER_ERRORS: dict[str, type[Exception]] = {}
_ERROR_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,59}")


class ScriptError(Exception):
    """An error type raised in an evaluator that has no counterpart here; its name is kept."""


def _literal(expression: str) -> Any:
    text = _LITERAL_TEXT.fullmatch(expression)
    if text:
        return text.group(1) if text.group(1) is not None else text.group(2)
    number = _LITERAL_INT.fullmatch(expression)
    if number:
        return int(number.group(1))
    return _NOT_LITERAL


def rebuild_error(kind: str, message: str, sandbox_line: int | None) -> Exception:
    """The exception an evaluator reported, as the same type here where it is known."""
    if kind == "SandboxSyntaxError":
        return SandboxSyntaxError(message, sandbox_line)
    if kind == "SandboxViolation":
        return SandboxViolation(message, sandbox_line)
    known = _KNOWN_ERRORS.get(kind)
    if known is not None:
        try:
            return known(message)
        except Exception:  # noqa: BLE001 - a type whose constructor wants other arguments
            pass
    if not _ERROR_NAME.fullmatch(kind or "") or kind == "ScriptError":
        return ScriptError(message)
    if kind not in _OTHER_ERRORS and len(_OTHER_ERRORS) < 256:
        _OTHER_ERRORS[kind] = type(kind, (ScriptError,), {})
    return _OTHER_ERRORS.get(kind, ScriptError)(message)


def _raise_failure(reply: tuple[Any, ...]) -> None:
    _, _, kind, message, script_line, sandbox_line, note = reply
    err = rebuild_error(str(kind), str(message), sandbox_line if isinstance(sandbox_line, int) else None)
    err.script_line = script_line if isinstance(script_line, int) else 0  # type: ignore[attr-defined]
    if note:
        err.add_note(str(note))
    raise err


def _answer(reply: Any, size: int) -> tuple[Any, ...]:
    """The payload of an ok reply, or the reported error raised."""
    if not isinstance(reply, tuple) or len(reply) < 2:
        raise ScriptLimitExceeded("the script runner gave an answer that cannot be read")
    if reply[0] == "error" and len(reply) == 7:
        _raise_failure(reply)
    if reply[0] != "ok" or len(reply) != 2 + size:
        raise ScriptLimitExceeded("the script runner gave an answer that cannot be read")
    return reply[2:]


def _data(value: Any, what: str) -> Any:
    """Second wall: what an evaluator sends back must be data of a sane size."""
    problem = data_problem(value)
    if problem:
        raise TypeError(f"{what} holds {problem}, which cannot be stored in task data")
    if logical_size(value, MAX_TEXT) > MAX_TEXT:
        raise ScriptLimitExceeded(f"{what} is larger than {MAX_TEXT:,} characters and items")
    return value


class IsolatedEnvironment(BasePythonScriptEngineEnvironment):
    """Task-data semantics of the sandbox, evaluated in the evaluator processes."""

    def __init__(self, limits: ScriptLimits | None = None, pool: EvaluatorPool | None = None):
        super().__init__(None)
        self.limits = limits or ScriptLimits()
        self._pool = pool

    @property
    def pool(self) -> EvaluatorPool:
        return self._pool if self._pool is not None else evaluator_pool()

    def _request(self, message: tuple[Any, ...], evaluations: int = 1) -> Any:
        return self.pool.request(message, self.limits, evaluations)

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        literal = _literal(expression)
        if literal is not _NOT_LITERAL:
            return literal
        return self.value(self._request(("eval", expression, context, dict(external_context or {}))))

    def value(self, reply: Any) -> Any:
        """An expression's answer, or the error it reports."""
        (value,) = _answer(reply, 1)
        return _data(value, "the expression's result")

    def run_chain(self, scripts: list[str], conditions: list[str], context: dict[str, Any]
                  ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Scripts in sequence, then conditions on their result, in one request (`prefetch`):
        the raw answer of each step, to be applied or raised when the engine reaches it."""
        reply = self._request(("chain", scripts, conditions, context), len(scripts) + len(conditions))
        answers, results = _answer(reply, 2)
        if not (isinstance(answers, list) and isinstance(results, list) and 0 < len(answers) <= len(scripts)
                and all(isinstance(answer, tuple) and answer[:1] in (("ok",), ("error",))
                        for answer in answers + results)):
            raise ScriptLimitExceeded("the script runner gave an answer that cannot be read")
        return answers, results

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        return self.apply(self._request(("exec", script, context, dict(external_context or {}))), context)

    def apply(self, reply: Any, context: dict[str, Any]) -> bool:
        """Write a script's answer into its task data, or raise the error it reports."""
        updates, removed = _answer(reply, 2)
        if not isinstance(updates, dict) or not isinstance(removed, list):
            raise ScriptLimitExceeded("the script runner gave an answer that cannot be read")
        _data(updates, "the script's result")
        context.update(updates)
        for name in removed:
            if isinstance(name, str):
                context.pop(name, None)
        return True

    def decide(self, rules: list[Any], policy: str, context: dict[str, Any]) -> list[tuple[int, list[tuple[str, Any]]]]:
        """Evaluate a whole decision table (see `evaluator_process.Evaluator._decide`) in one request."""
        reply = self._request(("decide", rules, policy, context))
        (matches,) = _answer(reply, 1)
        if not isinstance(matches, list):
            raise ScriptLimitExceeded("the script runner gave an answer that cannot be read")
        for match in matches:
            _data(match, "the decision's result")
        return matches


class IsolatedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine on the isolated environment."""

    def __init__(self, environment: IsolatedEnvironment | None = None):
        super().__init__(environment or IsolatedEnvironment())

    def validate(self, expression: str) -> None:
        """Used by SpiffWorkflow's DMN engine; raises SandboxSyntaxError (a SyntaxError) or SandboxViolation."""
        check_expression(expression)

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """Run a script task, several in one request when more follow (see `sandbox.prefetch`)."""
        if external_context:
            return super().execute(task, script, external_context)
        kept = prefetch.take(task, "script", script)
        if kept is None:
            scripts, gateway = prefetch.plan(task)
            if len(scripts) == 1 and gateway is None:
                return super().execute(task, script, external_context)
            try:
                answers, results = self.environment.run_chain([text for _, text in scripts],
                                                              gateway[1] if gateway else [], dict(task.data))
            except ScriptLimitExceeded:  # the evaluator died or overran: ask for this step alone
                return super().execute(task, script, external_context)
            prefetch.keep(task, scripts, gateway, answers, results)
            answer = answers[0]
        else:
            answer = kept.answer
        try:
            return self.environment.apply(answer, task.data)
        except Exception as err:
            raise self.create_task_exec_exception(task, script, err) from err

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate an expression; a gateway's condition may already be answered (`prefetch`)."""
        if not external_context:
            kept = prefetch.take(task, "condition", expression)
            if kept is not None:
                try:
                    return self.environment.value(kept.answer)
                except Exception as err:
                    raise WorkflowTaskException(f"Error evaluating expression '{expression}'", task=task,
                                                exception=err) from err
        return super().evaluate(task, expression, external_context)

    def get_error_line_number_and_content(self, script: str, err: Exception) -> tuple[int, str]:
        line = getattr(err, "script_line", None)
        if not isinstance(line, int):
            return super().get_error_line_number_and_content(script, err)
        lines = script.splitlines()
        return line, lines[line - 1] if 0 < line <= len(lines) else ""
