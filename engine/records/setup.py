"""What setting a database up did: `bankflow init-db` and `bankflow demo` (docs/json-contract.md)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.records.definitions import DeployedVersion


@dataclass(frozen=True, kw_only=True)
class DatabaseReport:
    """The schema `created`, `upgraded` or already `current`; whether the default calendar was loaded now;
    the database's URL without its password."""

    schema: str
    default_calendar_loaded: bool
    database: str


@dataclass(frozen=True, kw_only=True)
class DemoReport:
    """The database set up, the library deployed from it (per process its version) and the demo users added;
    `history` is the simulation's report when simulated history was made."""

    database: DatabaseReport
    library: str
    definitions: tuple[DeployedVersion, ...]
    users_added: tuple[str, ...]
    history: dict[str, Any] | None
