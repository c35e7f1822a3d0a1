"""Load and list business calendars (docs/architecture.md §5; format in docs/calendars.md)."""
from __future__ import annotations

from engine.errors import N_
from engine.policy.roles import SUPERVISORS
from engine.records.calendars import CalendarRecord
from engine.services.context import EngineContext
from engine.services.execution import refresh_calendars
from engine.services.limits import check_lengths
from engine.services.unit_of_work import unit_of_work
from engine.services.users import acting, require_role
from engine.sla.business_calendar import (
    ALWAYS_OPEN_NAME, DEFAULT_CALENDARS_FILE, builtin_24x7, default_calendars_text, parse_calendars)
from engine.store.models import BusinessCalendarRow


def load_calendars(ctx: EngineContext, toml_text: str, source_name: str,
                   user: str | None = None) -> list[CalendarRecord]:
    """Add or replace the calendars of a TOML file; a calendar marked default becomes the default.
    Needs `manager` or `admin`."""
    calendars = parse_calendars(toml_text, source_name)
    check_lengths(N_("cannot load the calendars"),
                  *[("calendar", name, BusinessCalendarRow.name) for name in calendars])
    with unit_of_work(ctx) as uow:
        actor = acting(uow, user)
        require_role(actor, *SUPERVISORS, to=N_("load business calendars"))
        now = ctx.clock.now()
        uow.calendars.save(toml_text, {n: c.is_default for n, c in calendars.items()}, now)
        uow.history.record("calendars_loaded", now, actor=actor.name,
                           payload={"source": source_name, "calendars": sorted(calendars)})
        refresh_calendars(ctx, uow, force=True)
    return list_calendars(ctx)


def ensure_default_calendars(ctx: EngineContext) -> bool:
    """Give a new database the shipped default calendar; True when it was loaded now."""
    with unit_of_work(ctx, read_only=True) as uow:
        if uow.calendars.any():
            return False
    load_calendars(ctx, default_calendars_text(), DEFAULT_CALENDARS_FILE)
    return True


def list_calendars(ctx: EngineContext) -> list[CalendarRecord]:
    """The stored calendars by name, then 24x7 (the default when no stored one is), as `ctx.calendars`
    holds them once re-read."""
    with unit_of_work(ctx, read_only=True) as uow:
        refresh_calendars(ctx, uow, force=True)
    calendars, default = ctx.calendars.in_force()
    records = [CalendarRecord(name=name, calendar=calendars[name], is_default=name == default)
               for name in sorted(calendars)]
    return records + [CalendarRecord(name=ALWAYS_OPEN_NAME, calendar=builtin_24x7(), is_default=default is None)]
