"""Managers' SLA targets per definition version (`bankflow sla set`)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class SlaTargetRecord:
    """The SLA of a task (`element_id`) or, with None, of the whole process, for one version."""

    key: str
    version: int
    element_id: str | None
    duration: str  # ISO 8601
    calendar: str | None  # None: the default calendar
