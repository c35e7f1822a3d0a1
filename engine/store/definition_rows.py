"""Deployments, their files and the process definition versions built from them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from engine.store.models import Deployment, DeploymentFile, ProcessDefinition
from engine.store.tables import DEFINITION

# Built once: every start looks its definition up.
_NEWEST_ACTIVE = (select(DEFINITION.c.id).where(DEFINITION.c.key == bindparam("key"), DEFINITION.c.active.is_(True))
                  .order_by(DEFINITION.c.version.desc()).limit(1))
_VERSION = select(DEFINITION.c.id).where(DEFINITION.c.key == bindparam("key"),
                                         DEFINITION.c.version == bindparam("version"))
_ROW = select(DEFINITION).where(DEFINITION.c.id == bindparam("id"))
_IS_ACTIVE = select(DEFINITION.c.active).where(DEFINITION.c.id == bindparam("id"))


def definition_row(session: Session, definition_id: int) -> Any:
    return session.execute(_ROW, {"id": definition_id}).one()


def definition_id_of(session: Session, key: str, version: int | None = None) -> int | None:
    """The id of the given version of a process, or of its newest active one."""
    if version is None:
        return session.scalar(_NEWEST_ACTIVE, {"key": key})
    return session.scalar(_VERSION, {"key": key, "version": version})


def is_active(session: Session, definition_id: int) -> bool:
    return bool(session.scalar(_IS_ACTIVE, {"id": definition_id}))


def deployed_keys(session: Session) -> list[str]:
    return list(session.scalars(select(DEFINITION.c.key).distinct().order_by(DEFINITION.c.key)))


def get_definition(session: Session, definition_id: int) -> ProcessDefinition:
    return session.get(ProcessDefinition, definition_id)


def latest_definition(session: Session, key: str) -> ProcessDefinition | None:
    return session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key)
                          .order_by(ProcessDefinition.version.desc()).limit(1))


def list_definitions(session: Session, latest_only: bool = False, active_only: bool = False) -> list[ProcessDefinition]:
    """Definition versions by key and version; `latest_only` the newest (active, with `active_only`) of each key."""
    query = select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version)
    if active_only:
        query = query.where(ProcessDefinition.active.is_(True))
    if latest_only:
        newest = select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
        if active_only:
            newest = newest.where(ProcessDefinition.active.is_(True))
        newest = newest.group_by(ProcessDefinition.key).subquery()
        query = query.join(newest, (ProcessDefinition.key == newest.c.key)
                           & (ProcessDefinition.version == newest.c.v))
    return list(session.scalars(query))


def set_active(session: Session, definition_id: int, active: bool) -> None:
    session.execute(update(DEFINITION).where(DEFINITION.c.id == definition_id).values(active=active))


def files_by_id(session: Session, file_ids: list[int]) -> list[DeploymentFile]:
    return list(session.scalars(select(DeploymentFile).where(DeploymentFile.id.in_(file_ids))
                                .order_by(DeploymentFile.id)))


def stored_dmn_files(session: Session) -> list[DeploymentFile]:
    """Every stored DMN file, newest first."""
    return list(session.scalars(select(DeploymentFile).where(DeploymentFile.kind == "dmn")
                                .order_by(DeploymentFile.id.desc())))


def add_deployment(session: Session, name: str, deployed_by: str | None, at: datetime,
                   files: list[DeploymentFile]) -> Deployment:
    deployment = Deployment(name=name, deployed_by=deployed_by, deployed_at=at)
    deployment.files = files
    session.add(deployment)
    session.flush()
    return deployment


def add_definition(session: Session, **columns: Any) -> ProcessDefinition:
    definition = ProcessDefinition(**columns)
    session.add(definition)
    session.flush()
    return definition
