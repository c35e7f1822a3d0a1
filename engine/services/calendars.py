"""Load and list business calendars (DESIGN §5; format in docs/calendars.md)."""
from __future__ import annotations

from typing import Any

from engine.errors import N_
from engine.services.context import EngineContext
from engine.services.execution import refresh_calendars
from engine.services.limits import check_lengths
from engine.services.unit_of_work import unit_of_work
from engine.services.users import acting, require_role
from engine.sla.business_calendar import (
    ALWAYS_OPEN_NAME, DEFAULT_CALENDARS_FILE, AlwaysOpenCalendar, default_calendars_text, parse_calendars)
from engine.store import calendar_rows
from engine.store.history_rows import record
from engine.store.models import BusinessCalendarRow
from engine.views import calendar_view


def load_calendars(ctx: EngineContext, toml_text: str, source_name: str,
                   user: str | None = None) -> list[dict[str, Any]]:
    """Add or replace the calendars of a TOML file; a calendar marked default becomes the default.
    Needs `manager` or `admin`."""
    calendars = parse_calendars(toml_text, source_name)
    check_lengths(N_("cannot load the calendars"),
                  *[("calendar", name, BusinessCalendarRow.name) for name in calendars])
    with unit_of_work(ctx) as session:
        actor = acting(session, user)
        require_role(actor, "manager", "admin", to=N_("load business calendars"))
        now = ctx.clock.now()
        calendar_rows.save_calendars(session, toml_text, {n: c.is_default for n, c in calendars.items()}, now)
        record(session, "calendars_loaded", now, actor=actor.name,
               payload={"source": source_name, "calendars": sorted(calendars)})
        refresh_calendars(ctx, session, force=True)
    return list_calendars(ctx)


def ensure_default_calendars(ctx: EngineContext) -> bool:
    """Give a new database the shipped default calendar; True when it was loaded now."""
    with unit_of_work(ctx, read_only=True) as session:
        if calendar_rows.has_calendars(session):
            return False
    load_calendars(ctx, default_calendars_text(), DEFAULT_CALENDARS_FILE)
    return True


def list_calendars(ctx: EngineContext) -> list[dict[str, Any]]:
    with unit_of_work(ctx, read_only=True) as session:
        rows = calendar_rows.all_calendars(session)
    views = [calendar_view(r.name, parse_calendars(r.source, r.name)[r.name], r.is_default) for r in rows]
    views.append(calendar_view(ALWAYS_OPEN_NAME, AlwaysOpenCalendar(), not any(v["default"] for v in views)))
    return views
