"""Load and list business calendars (DESIGN §5)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from engine.audit import record
from engine.services.context import EngineContext
from engine.sla.calendar import (
    DEFAULT_CALENDARS_FILE, AlwaysOpenCalendar, default_calendars_text, parse_calendars)
from engine.store.models import BusinessCalendarRow
from engine.services.unit_of_work import unit_of_work


def load_calendars(ctx: EngineContext, toml_text: str, source_name: str,
                   user: str | None = None) -> list[dict[str, Any]]:
    """Add or replace the calendars of a TOML file; a calendar marked default becomes the default."""
    calendars = parse_calendars(toml_text, source_name)
    with unit_of_work(ctx) as session:
        now = ctx.clock.now()
        if any(c.is_default for c in calendars.values()):
            session.execute(update(BusinessCalendarRow).values(is_default=False))
        existing = {r.name: r for r in session.scalars(select(BusinessCalendarRow)
                                                          .where(BusinessCalendarRow.name.in_(calendars)))}
        for name, calendar in calendars.items():
            row = existing.get(name) or BusinessCalendarRow(name=name)
            row.source, row.is_default, row.loaded_at = toml_text, calendar.is_default, now
            session.add(row)
        record(session, "calendars_loaded", now, actor=user, payload={"source": source_name,
                                                                       "calendars": sorted(calendars)})
        session.flush()
        ctx.calendars.refresh(session, force=True)
    return list_calendars(ctx)


def ensure_default_calendars(ctx: EngineContext) -> None:
    """Give a new database the shipped default calendar (done by init-db)."""
    with unit_of_work(ctx) as session:
        if session.scalar(select(BusinessCalendarRow.id).limit(1)) is not None:
            return
    load_calendars(ctx, default_calendars_text(), DEFAULT_CALENDARS_FILE)


def calendar_view(name: str, calendar: Any, is_default: bool) -> dict[str, Any]:
    if isinstance(calendar, AlwaysOpenCalendar):
        return {"name": name, "timezone": "UTC", "hours": "always open", "holidays": None, "closed": [],
                "default": is_default}
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return {
        "name": name,
        "timezone": calendar.timezone,
        "hours": {days[d]: ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in spans) for d, spans in calendar.hours.items()},
        "holidays": "-".join(p for p in (calendar.holiday_country, calendar.holiday_subdivision) if p) or None,
        "closed": sorted(d.isoformat() for d in calendar.closed),
        "default": is_default,
    }


def list_calendars(ctx: EngineContext) -> list[dict[str, Any]]:
    with unit_of_work(ctx, read_only=True) as session:
        rows = session.scalars(select(BusinessCalendarRow).order_by(BusinessCalendarRow.name)).all()
        views = [calendar_view(r.name, parse_calendars(r.source, r.name)[r.name], r.is_default) for r in rows]
    views.append(calendar_view("24x7", AlwaysOpenCalendar(), not any(v["default"] for v in views)))
    return views
