"""Process definition versions and deployments, as the store returns them and the services hand them on.

`DefinitionRecord` is one stored version (with when its deployment was made); `runnable_definition`
is the one place a `RunnableDefinition` (what the runtime runs and the definition cache keeps) is
built from it. The deploy result, the designer's overview and a version's detail page are records too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.errors import DeployProblem
from engine.runtime.specs import ProcessSpecs, RunnableDefinition


@dataclass(frozen=True, kw_only=True)
class DefinitionRecord:
    """One version of one executable process; `source_sha256` detects identical re-uploads."""

    id: int
    key: str
    version: int
    name: str | None
    deployment_id: int
    deployed_at: datetime  # when its deployment was made
    active: bool  # an inactive version starts no new case
    sla_target: str | None  # the end-to-end SLA the model gives (ISO 8601 duration)
    sla_calendar: str | None
    # camunda:candidateStarterGroups / candidateStarterUsers (both empty: any staff member may start it).
    starter_groups: tuple[str, ...]
    starter_users: tuple[str, ...]
    source_sha256: str
    source_files: tuple[int, ...]  # the deployment files the spec is built from
    elements: dict[str, dict[str, Any]]  # element id -> metadata read at deploy (lane, candidates, form, SLA...)


def runnable_definition(definition: DefinitionRecord, specs: ProcessSpecs) -> RunnableDefinition:
    """The version ready to run, with its parsed specs (deploy builds them from the upload, a restart
    from the stored files)."""
    return RunnableDefinition(id=definition.id, key=definition.key, version=definition.version,
                              name=definition.name, sla_target=definition.sla_target,
                              sla_calendar=definition.sla_calendar, elements=definition.elements, specs=specs,
                              starter_groups=definition.starter_groups, starter_users=definition.starter_users)


@dataclass(frozen=True, kw_only=True)
class NewDeploymentFile:
    """A BPMN or DMN file about to be stored with its deployment."""

    name: str
    kind: str  # bpmn | dmn
    sha256: str
    content: bytes


@dataclass(frozen=True, kw_only=True)
class DeploymentFileRecord(NewDeploymentFile):
    """A stored file of a deployment."""

    id: int


@dataclass(frozen=True, kw_only=True)
class DeployedVersion:
    """What a deployment did to one process: a `new` version, or none (`unchanged`: an identical re-upload)."""

    key: str
    version: int
    name: str | None
    status: str  # new | unchanged


@dataclass(frozen=True, kw_only=True)
class DeploymentRecord:
    """The result of a deployment: its id (None when nothing changed), per process its version, and the
    problems that did not stop it (`warnings`)."""

    id: int | None
    definitions: tuple[DeployedVersion, ...]
    warnings: tuple[DeployProblem, ...]


@dataclass(frozen=True, kw_only=True)
class ProcessVersions:
    """A process in the designer's workspace: its versions, newest first, and the one new cases start on."""

    key: str
    name: str | None  # the newest version's name
    versions: tuple[DefinitionRecord, ...]
    starting_version: int | None  # None: no version is active


@dataclass(frozen=True, kw_only=True)
class ElementDetail:
    """One flow node as the designer page shows it. `assignee_is_user` is False only for a literal
    assignee who is not a user (an expression names someone per case)."""

    id: str
    type: str
    name: str | None
    lane: str | None
    documentation: str | None
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    assignee: str | None
    assignee_is_user: bool
    sla: str | None
    sla_calendar: str | None
    form: tuple[dict[str, Any], ...]  # the form's public fields


@dataclass(frozen=True, kw_only=True)
class DefinitionDetail:
    """A definition version as the designer page shows it: the version, its siblings (and the one new
    cases start on), lanes, every flow node and the files it was deployed from."""

    definition: DefinitionRecord
    versions: tuple[DefinitionRecord, ...]
    starting_version: int | None
    lanes: tuple[str, ...]
    elements: tuple[ElementDetail, ...]  # in the order of the file
    files: tuple[str, ...]
