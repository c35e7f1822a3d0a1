"""Errors the service layer raises; entry points map them to exit codes or HTTP codes.

Every message is written for the person who caused it (a designer, a clerk), never
a raw library exception.
"""
from __future__ import annotations

from dataclasses import dataclass


class BankflowError(Exception):
    """Base of every error a user can cause and read."""

    def problems(self) -> list[str]:
        """One line per problem, as printed by the CLI."""
        return [str(self)]


class NotFound(BankflowError):
    pass


class PermissionDenied(BankflowError):
    pass


class DatabaseProblem(BankflowError):
    """The database cannot be used (unreachable, no schema); the message says what to do."""


class Conflict(BankflowError):
    """The object was changed by someone else, or is no longer in a state that allows the action."""


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidData(BankflowError):
    """Submitted data failed validation; carries one problem per bad field."""

    def __init__(self, field_problems: list[FieldProblem], summary: str = "invalid data"):
        self.field_problems = list(field_problems)
        super().__init__(f"{summary}: " + "; ".join(str(p) for p in self.field_problems))

    def problems(self) -> list[str]:
        return [str(p) for p in self.field_problems]


@dataclass(frozen=True)
class DeployProblem:
    """One reason a file cannot be deployed: where it is and what is wrong."""

    file: str
    message: str
    element: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element:
            where += f" [{self.element}]"
        return f"{where}: {self.message}"


class DeployError(BankflowError):
    """A deployment was refused; nothing was stored."""

    def __init__(self, deploy_problems: list[DeployProblem]):
        self.deploy_problems = list(deploy_problems)
        super().__init__("; ".join(str(p) for p in self.deploy_problems))

    def problems(self) -> list[str]:
        return [str(p) for p in self.deploy_problems]
