"""Who may start and see a case: pure rules over the actor and what the store knows of the process or case."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from engine.policy.roles import OPERATOR, SUPERVISORS
from engine.records.users import Actor


@dataclass(frozen=True, kw_only=True)
class CaseFacts:
    """What the visibility rule reads of a case: who started it and who held or completed its tasks."""

    started_by: str | None
    workers: frozenset[str]


def may_see_case(actor: Actor, case: CaseFacts) -> bool:
    """Managers and admins see every case; others the cases they started or worked on (hold or completed
    one of its tasks)."""
    return actor.has_role(*SUPERVISORS) or actor.name == case.started_by or actor.name in case.workers


class Startable(Protocol):
    """What the starter rule reads of a process version (camunda:candidateStarterGroups/Users)."""

    @property
    def starter_groups(self) -> Sequence[str]: ...
    @property
    def starter_users(self) -> Sequence[str]: ...


def may_start(actor: Actor, process: Startable) -> bool:
    """Members of the process's starter groups and its starter users, when it names any; else anyone. The
    local operator may start every process."""
    if actor.name == OPERATOR or not (process.starter_groups or process.starter_users):
        return True
    return actor.name in process.starter_users or not actor.groups.isdisjoint(process.starter_groups)
