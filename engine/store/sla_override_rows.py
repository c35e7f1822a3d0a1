"""Managers' SLA targets per definition version (element None: the whole process)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.sla.target_overrides import Override
from engine.store.models import SlaOverride


def overrides_of(session: Session, definition_id: int) -> dict[str | None, Override]:
    """Element id (None: the whole process) -> override, for one definition version."""
    return {row.element_id: Override(row.duration, row.calendar) for row in session.execute(
        select(SlaOverride.element_id, SlaOverride.duration, SlaOverride.calendar)
        .where(SlaOverride.definition_id == definition_id))}


def save_override(session: Session, definition_id: int, element_id: str | None, override: Override,
                  set_by: str | None, now: datetime) -> None:
    row = session.scalar(select(SlaOverride).where(
        SlaOverride.definition_id == definition_id,
        SlaOverride.element_id.is_(None) if element_id is None else SlaOverride.element_id == element_id))
    row = row or SlaOverride(definition_id=definition_id, element_id=element_id)
    row.duration, row.calendar, row.set_by, row.set_at = override.duration, override.calendar, set_by, now
    session.add(row)
    session.flush()
