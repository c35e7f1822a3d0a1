"""Deployments, their files and the process definition versions built from them (`uow.definitions`).

A version is read with its deployment's time in one statement, so listing versions costs one
statement whatever their number.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from engine.records.definitions import DefinitionRecord, DeploymentFileRecord, NewDeploymentFile
from engine.store.tables import DEFINITION, DEPLOYMENT, DEPLOYMENT_FILE

AnyRow = Row[Unpack[tuple[Any, ...]]]
_DEFINITIONS = (select(DEFINITION, DEPLOYMENT.c.deployed_at)
                .join(DEPLOYMENT, DEPLOYMENT.c.id == DEFINITION.c.deployment_id))
# Built once: every start looks its definition up.
_NEWEST_ACTIVE = (select(DEFINITION.c.id).where(DEFINITION.c.key == bindparam("key"), DEFINITION.c.active.is_(True))
                  .order_by(DEFINITION.c.version.desc()).limit(1))
_VERSION = select(DEFINITION.c.id).where(DEFINITION.c.key == bindparam("key"),
                                         DEFINITION.c.version == bindparam("version"))
_ROW = _DEFINITIONS.where(DEFINITION.c.id == bindparam("id"))
_IS_ACTIVE = select(DEFINITION.c.active).where(DEFINITION.c.id == bindparam("id"))
_FILES = select(DEPLOYMENT_FILE)


def _definition(row: AnyRow) -> DefinitionRecord:
    return DefinitionRecord(id=row.id, key=row.key, version=row.version, name=row.name, deployment_id=row.deployment_id,
                            deployed_at=row.deployed_at, active=row.active, sla_target=row.sla_target,
                            sla_calendar=row.sla_calendar, starter_groups=tuple(row.starter_groups),
                            starter_users=tuple(row.starter_users), source_sha256=row.source_sha256,
                            source_files=tuple(row.source_files), elements=row.elements)


def _file(row: AnyRow) -> DeploymentFileRecord:
    return DeploymentFileRecord(id=row.id, name=row.name, kind=row.kind, sha256=row.sha256, content=row.content)


class DefinitionRepository:
    """Definition versions, deployments and their files inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, definition_id: int) -> DefinitionRecord:
        return _definition(self.session.execute(_ROW, {"id": definition_id}).one())

    def id_of(self, key: str, version: int | None = None) -> int | None:
        """The id of the given version of a process, or of its newest active one."""
        if version is None:
            return self.session.scalar(_NEWEST_ACTIVE, {"key": key})
        return self.session.scalar(_VERSION, {"key": key, "version": version})

    def is_active(self, definition_id: int) -> bool:
        return bool(self.session.scalar(_IS_ACTIVE, {"id": definition_id}))

    def keys(self) -> list[str]:
        """The keys of every deployed process, sorted."""
        return list(self.session.scalars(select(DEFINITION.c.key).distinct().order_by(DEFINITION.c.key)))

    def latest(self, key: str) -> DefinitionRecord | None:
        """The newest version of a process, active or not."""
        row = self.session.execute(_DEFINITIONS.where(DEFINITION.c.key == key)
                                   .order_by(DEFINITION.c.version.desc()).limit(1)).first()
        return None if row is None else _definition(row)

    def all(self, latest_only: bool = False, active_only: bool = False) -> list[DefinitionRecord]:
        """Definition versions by key and version; `latest_only` the newest (active, with `active_only`) of
        each key."""
        query = _DEFINITIONS.order_by(DEFINITION.c.key, DEFINITION.c.version)
        if active_only:
            query = query.where(DEFINITION.c.active.is_(True))
        if latest_only:
            newest = select(DEFINITION.c.key, func.max(DEFINITION.c.version).label("v"))
            if active_only:
                newest = newest.where(DEFINITION.c.active.is_(True))
            subquery = newest.group_by(DEFINITION.c.key).subquery()
            query = query.join(subquery, (DEFINITION.c.key == subquery.c.key) & (DEFINITION.c.version == subquery.c.v))
        return [_definition(row) for row in self.session.execute(query)]

    def versions_of(self, key: str) -> list[DefinitionRecord]:
        """Every version of one process, oldest first."""
        return [_definition(row) for row in self.session.execute(
            _DEFINITIONS.where(DEFINITION.c.key == key).order_by(DEFINITION.c.version))]

    def set_active(self, definition_id: int, active: bool) -> None:
        self.session.execute(update(DEFINITION).where(DEFINITION.c.id == definition_id).values(active=active))

    def files(self, file_ids: tuple[int, ...]) -> list[DeploymentFileRecord]:
        """Stored files by id, in id order."""
        return [_file(row) for row in self.session.execute(_FILES.where(DEPLOYMENT_FILE.c.id.in_(file_ids))
                                                           .order_by(DEPLOYMENT_FILE.c.id))]

    def dmn_files(self) -> list[DeploymentFileRecord]:
        """Every stored DMN file, newest first."""
        return [_file(row) for row in self.session.execute(
            _FILES.where(DEPLOYMENT_FILE.c.kind == "dmn").order_by(DEPLOYMENT_FILE.c.id.desc()))]

    def add_deployment(self, name: str, deployed_by: str | None, at: datetime,
                       files: list[NewDeploymentFile]) -> tuple[int, dict[str, int]]:
        """Store a deployment with its files; its id, and the id of each file by name."""
        deployment_id = self.session.execute(insert(DEPLOYMENT).values(name=name, deployed_by=deployed_by,
                                                                       deployed_at=at)
                                             .returning(DEPLOYMENT.c.id)).scalar_one()
        file_ids = {file.name: self.session.execute(
            insert(DEPLOYMENT_FILE).values(deployment_id=deployment_id, name=file.name, kind=file.kind,
                                           sha256=file.sha256, content=file.content)
            .returning(DEPLOYMENT_FILE.c.id)).scalar_one() for file in files}
        return deployment_id, file_ids

    def add(self, *, key: str, version: int, name: str | None, deployment_id: int, deployed_at: datetime,
            sla_target: str | None, sla_calendar: str | None, starter_groups: list[str], starter_users: list[str],
            source_sha256: str, source_files: list[int], elements: dict[str, dict[str, Any]]) -> DefinitionRecord:
        """Store a new (active) version."""
        columns = {"key": key, "version": version, "name": name, "deployment_id": deployment_id,
                   "sla_target": sla_target, "sla_calendar": sla_calendar, "active": True,
                   "starter_groups": starter_groups, "starter_users": starter_users, "source_sha256": source_sha256,
                   "source_files": source_files, "elements": elements}
        definition_id = self.session.execute(insert(DEFINITION).values(columns)
                                             .returning(DEFINITION.c.id)).scalar_one()
        return DefinitionRecord(id=definition_id, key=key, version=version, name=name, deployment_id=deployment_id,
                                deployed_at=deployed_at, active=True, sla_target=sla_target, sla_calendar=sla_calendar,
                                starter_groups=tuple(starter_groups), starter_users=tuple(starter_users),
                                source_sha256=source_sha256, source_files=tuple(source_files), elements=elements)
