"""Business calendars as loaded from TOML: one row per calendar, its source text kept."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.store.models import BusinessCalendarRow


class StoredCalendar(NamedTuple):
    name: str
    source: str  # the TOML text it was loaded from
    is_default: bool


def all_calendars(session: Session) -> list[StoredCalendar]:
    return [StoredCalendar(r.name, r.source, r.is_default) for r in session.execute(
        select(BusinessCalendarRow.name, BusinessCalendarRow.source, BusinessCalendarRow.is_default)
        .order_by(BusinessCalendarRow.name))]


def has_calendars(session: Session) -> bool:
    return session.scalar(select(BusinessCalendarRow.id).limit(1)) is not None


def save_calendars(session: Session, source: str, defaults: dict[str, bool], now: datetime) -> None:
    """Add or replace calendars (name -> whether it is the default); a new default unsets the old one."""
    if any(defaults.values()):
        session.execute(update(BusinessCalendarRow).values(is_default=False))
    existing = {r.name: r for r in session.scalars(select(BusinessCalendarRow)
                                                      .where(BusinessCalendarRow.name.in_(list(defaults))))}
    for name, is_default in defaults.items():
        row = existing.get(name) or BusinessCalendarRow(name=name)
        row.source, row.is_default, row.loaded_at = source, is_default, now
        session.add(row)
    session.flush()
