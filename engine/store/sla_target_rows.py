"""Managers' SLA targets per definition version (element None: the whole process) (`uow.sla_targets`)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.sla.set_targets import SetTarget, SetTargets
from engine.store.tables import SLA_TARGET


class SlaTargetRepository:
    """Managers' SLA targets inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def set_targets_of(self, definition_id: int) -> SetTargets:
        """Element id (None: the whole process) -> its target, for one definition version."""
        return {row.element_id: SetTarget(row.duration, row.calendar) for row in self.session.execute(
            select(SLA_TARGET.c.element_id, SLA_TARGET.c.duration, SLA_TARGET.c.calendar)
            .where(SLA_TARGET.c.definition_id == definition_id))}

    def save(self, definition_id: int, element_id: str | None, target: SetTarget, set_by: str | None,
             now: datetime) -> None:
        """Set the target of a task (element_id None: of the whole process) of one version."""
        this = (SLA_TARGET.c.definition_id == definition_id) & (
            SLA_TARGET.c.element_id.is_(None) if element_id is None else SLA_TARGET.c.element_id == element_id)
        values = {"duration": target.duration, "calendar": target.calendar, "set_by": set_by, "set_at": now}
        if self.session.scalar(select(SLA_TARGET.c.id).where(this)) is None:
            self.session.execute(insert(SLA_TARGET).values(definition_id=definition_id, element_id=element_id,
                                                             **values))
        else:
            self.session.execute(update(SLA_TARGET).where(this).values(values))
