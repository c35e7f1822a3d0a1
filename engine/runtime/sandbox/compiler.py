"""Compiling untrusted scripts and expressions: RestrictedPython plus bankflow's own rules.

RestrictedPython rewrites attribute, item, iteration and unpacking operations into guarded hooks
and refuses names starting with '_'. On top of that, `_Policy`:
- refuses imports, class definitions, global/nonlocal, yield, with, bytes literals, and names
  that only serve escapes (exec, eval, open, getattr, globals, vars, dir, ...);
- refuses what could swallow the limit signal (limits): a bare `except:`, catching
  BaseException and friends, and return/break/continue inside `finally:`. Except clauses must
  name error types the sandbox offers;
- routes `+ * ** << %` and f-string fields through size-checking hooks, and wraps every function
  and lambda in a call-depth guard (namespace).

Compiled code is cached per (source, mode): gateway conditions and DMN cells are evaluated over
and over, and SpiffWorkflow's DMN engine validates each cell on every evaluation.
"""
from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from types import CodeType
from typing import Literal, TypeVar

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import copy_locations

from .access import attribute_problem
from .safe_builtins import CATCHABLE_ERROR_NAMES
from .errors import SandboxSyntaxError, SandboxViolation

MAX_SOURCE_LENGTH = 100_000
FILENAME = "<string>"   # SpiffWorkflow looks for this name in tracebacks to report the line

# Builtins that only serve escapes. Absent from the sandbox's builtins anyway; refusing them here
# gives a clear deploy-time message. `type` and `object` are not listed: they are plausible task
# data names ("loan type") and mean nothing else in the sandbox.
_FORBIDDEN_NAMES = frozenset(
    {"exec", "eval", "compile", "open", "input", "breakpoint", "help", "globals", "locals", "vars",
     "dir", "getattr", "setattr", "delattr", "hasattr", "memoryview", "super"}
)
_UNCATCHABLE = frozenset({"BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"})
_OPERATOR_HOOKS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Mod: "_mod_"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_Mode = Literal["exec", "eval"]
# What a visit returns (ast.NodeTransformer): the node, its replacements, or None to remove it.
_Visited = ast.AST | Iterable[ast.AST] | None
# The nodes that have a position (RestrictedPython's `check_name` takes one).
_Positioned = ast.stmt | ast.expr | ast.excepthandler | ast.arg | ast.keyword | ast.alias | ast.pattern
_Node = TypeVar("_Node", bound=ast.AST)


def _hook_call(hook: str, args: list[ast.expr], like: ast.expr) -> ast.Call:
    call = ast.Call(func=ast.Name(hook, ast.Load()), args=args, keywords=[])
    copy_locations(call, like)
    return call


def _in_place(node: _Node, visited: _Visited) -> _Node:
    """RestrictedPython's visit of `node`, typed: the visits extended below change the node in place
    and return it."""
    if visited is not node:
        raise TypeError(f"RestrictedPython replaced a {type(node).__name__} node; the sandbox's policy needs review")
    return node


class _Refusal(str):
    """A refusal as RestrictedPython collects it (text), knowing its line."""

    line: int | None

    def __new__(cls, message: str, line: int | None) -> _Refusal:
        refusal = super().__new__(cls, message)
        refusal.line = line
        return refusal


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's transformer with bankflow's rules; every error is a `_Refusal`."""

    def error(self, node: ast.AST, info: str) -> None:
        self.errors.append(_Refusal(info, getattr(node, "lineno", None)))

    def check_name(self, node: _Positioned, name: str | None, allow_magic_methods: bool = False) -> None:
        if name is None:
            return
        if name.startswith("_") and name != "_":
            self.error(node, f"name '{name}' is not allowed (names starting with '_' are private)")
        elif name in _FORBIDDEN_NAMES:
            self.error(node, f"name '{name}' is not allowed")
        else:
            super().check_name(node, name)

    def _refuse(self, node: ast.AST, message: str) -> _Visited:
        self.error(node, message)
        return node

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> _Visited:
        return self._refuse(node, "import statements are not allowed")

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node: ast.ClassDef) -> _Visited:
        return self._refuse(node, "class definitions are not allowed")

    def visit_Global(self, node: ast.Global) -> _Visited:
        return self._refuse(node, "global statements are not allowed")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> _Visited:
        return self._refuse(node, "nonlocal statements are not allowed")

    def visit_Yield(self, node: ast.Yield | ast.YieldFrom) -> _Visited:
        return self._refuse(node, "yield is not allowed")

    visit_YieldFrom = visit_Yield

    def visit_With(self, node: ast.With) -> _Visited:
        return self._refuse(node, "with statements are not allowed")

    def visit_Constant(self, node: ast.Constant) -> _Visited:
        if isinstance(node.value, bytes):
            return self._refuse(node, "bytes literals are not allowed")
        return super().visit_Constant(node)

    def visit_Call(self, node: ast.Call) -> _Visited:
        if isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_NAMES:
            return self._refuse(node, f"name '{node.func.id}' is not allowed")  # before RestrictedPython's wording
        return super().visit_Call(node)

    def visit_Attribute(self, node: ast.Attribute) -> _Visited:
        problem = attribute_problem(node.attr)
        if problem:
            return self._refuse(node, problem)
        return super().visit_Attribute(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> _Visited:
        problem = _handler_problem(node.type)
        if problem:
            return self._refuse(node, problem)
        return super().visit_ExceptHandler(node)

    def visit_Try(self, node: ast.Try) -> _Visited:
        escape = _finally_escape(node.finalbody)
        if escape is not None:
            keyword = type(escape).__name__.lower()
            return self._refuse(escape, f"'{keyword}' inside 'finally' is not allowed (it would hide errors)")
        return super().visit_Try(node)

    def visit_BinOp(self, node: ast.BinOp) -> _Visited:
        node = _in_place(node, super().visit_BinOp(node))
        hook = _OPERATOR_HOOKS.get(type(node.op))
        return _hook_call(hook, [node.left, node.right], node) if hook else node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> _Visited:
        node = _in_place(node, super().visit_FormattedValue(node))
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        node.value = _hook_call("_format_", [node.value, ast.Constant(node.conversion), spec], node)
        node.conversion, node.format_spec = -1, None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> _Visited:
        node = _in_place(node, super().visit_FunctionDef(node))
        guard = ast.Name("_guard_call_", ast.Load())
        copy_locations(guard, node)
        node.decorator_list.append(guard)
        return node

    def visit_Lambda(self, node: ast.Lambda) -> _Visited:
        return _hook_call("_guard_call_", [_in_place(node, super().visit_Lambda(node))], node)


def _handler_problem(error_type: ast.expr | None) -> str | None:
    if error_type is None:
        return "a bare 'except:' is not allowed; name the errors to catch, e.g. 'except ValueError:'"
    types = error_type.elts if isinstance(error_type, ast.Tuple) else [error_type]
    names = [name.id for name in types if isinstance(name, ast.Name)]
    if len(names) != len(types):
        return "except clauses must name error types, e.g. 'except (ValueError, KeyError):'"
    for name in names:
        if name in _UNCATCHABLE:
            return f"catching {name} is not allowed"
        if name not in CATCHABLE_ERROR_NAMES:
            return f"'{name}' is not an error type scripts can catch"
    return None


def _finally_escape(statements: list[ast.stmt]) -> ast.stmt | None:
    """A return/break/continue that would leave a `finally:` block, dropping the pending error."""
    for statement in statements:
        escape = _escape_in(statement, in_loop=False)
        if escape is not None:
            return escape
    return None


def _escape_in(node: ast.AST, in_loop: bool) -> ast.stmt | None:
    if isinstance(node, ast.Return):
        return node
    if isinstance(node, (ast.Break, ast.Continue)):
        return None if in_loop else node
    if isinstance(node, _SCOPES):
        return None
    loop_body = {id(statement) for statement in node.body} if isinstance(node, (ast.For, ast.While)) else set()
    for child in ast.iter_child_nodes(node):
        escape = _escape_in(child, in_loop or id(child) in loop_body)
        if escape is not None:
            return escape
    return None


@dataclass(frozen=True)
class _Outcome:
    code: CodeType | None
    problem: str = ""
    line: int | None = None
    syntax: bool = False

    def code_or_raise(self) -> CodeType:
        if self.code is None:
            raise (SandboxSyntaxError if self.syntax else SandboxViolation)(self.problem, self.line)
        return self.code


@functools.lru_cache(maxsize=1024)
def _compile(source: str, mode: _Mode) -> _Outcome:
    if len(source) > MAX_SOURCE_LENGTH:
        return _Outcome(None, f"scripts may be at most {MAX_SOURCE_LENGTH:,} characters long")
    tree: ast.Expression | ast.Module
    try:
        tree = ast.parse(source.strip(), FILENAME, "eval") if mode == "eval" else ast.parse(source, FILENAME, "exec")
    except SyntaxError as err:
        return _Outcome(None, f"syntax error: {err.msg}", err.lineno, syntax=True)
    except (ValueError, RecursionError, MemoryError) as err:
        return _Outcome(None, f"the text cannot be read as Python ({err})", syntax=True)
    compile_restricted = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compile_restricted(tree, FILENAME, policy=_Policy)
    except SyntaxError as err:  # found by compile() itself, e.g. 'return' outside a function
        return _Outcome(None, f"syntax error: {err.msg}", err.lineno, syntax=True)
    except RecursionError:
        return _Outcome(None, "the text is nested too deeply")
    if result.errors:
        refusal = result.errors[0]
        return _Outcome(None, str(refusal), refusal.line if isinstance(refusal, _Refusal) else None)
    return _Outcome(result.code)


def compile_script(source: str) -> CodeType:
    """Compiled code of a script (exec mode); raises SandboxViolation."""
    return _compile(source, "exec").code_or_raise()


def compile_expression(source: str) -> CodeType:
    """Compiled code of an expression (eval mode); raises SandboxViolation."""
    return _compile(source, "eval").code_or_raise()


def check_script(source: str) -> None:
    """Deploy-time check of a script: raises SandboxViolation(message, line) if it would be refused."""
    compile_script(source)


def check_expression(source: str) -> None:
    """Deploy-time check of an expression: raises SandboxViolation(message, line) if it would be refused."""
    compile_expression(source)
