"""Business calendars as loaded from TOML: one row per calendar, its source text kept (`uow.calendars`).

Only `engine.services.execution.refresh_calendars` reads them, into `ctx.calendars`, which parses them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.records.calendars import StoredCalendar
from engine.store.tables import CALENDAR


class CalendarRepository:
    """Stored business calendars inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[StoredCalendar]:
        return [StoredCalendar(name=row.name, source=row.source, is_default=row.is_default)
                for row in self.session.execute(select(CALENDAR.c.name, CALENDAR.c.source, CALENDAR.c.is_default)
                                                .order_by(CALENDAR.c.name))]

    def any(self) -> bool:
        return self.session.scalar(select(CALENDAR.c.id).limit(1)) is not None

    def save(self, source: str, defaults: dict[str, bool], now: datetime) -> None:
        """Add or replace calendars (name -> whether it is the default); a new default unsets the old one."""
        if any(defaults.values()):
            self.session.execute(update(CALENDAR).values(is_default=False))
        existing = set(self.session.scalars(select(CALENDAR.c.name).where(CALENDAR.c.name.in_(list(defaults)))))
        for name, is_default in defaults.items():
            values = {"source": source, "is_default": is_default, "loaded_at": now}
            if name in existing:
                self.session.execute(update(CALENDAR).where(CALENDAR.c.name == name).values(values))
            else:
                self.session.execute(insert(CALENDAR).values(name=name, **values))
