"""Errors of the script sandbox, worded for the process designer who wrote the script."""
from __future__ import annotations


class SandboxViolation(Exception):
    """A script or expression uses something the sandbox does not allow.

    Raised with the line by `check_script` / `check_expression` (deploy time), and without one by
    the run-time guards, for accesses that can only be recognised while the script runs.
    """

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class SandboxSyntaxError(SandboxViolation, SyntaxError):
    """The text is not valid Python.

    Also a SyntaxError because SpiffWorkflow relies on that: its DMN engine retries a cell such as
    `> 650` as `v > 650` when validation raises SyntaxError, and its error reports read `lineno`.
    """

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message, line)
        self.lineno = line or 0


class ScriptLimitExceeded(Exception):
    """A script used more CPU time or memory than allowed, or asked for a result that is too large.

    An ordinary Exception at the API boundary; the signal that interrupts a running script is a
    private BaseException (see limits) that is converted into this one.
    """
