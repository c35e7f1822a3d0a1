"""SLA targets: which duration and calendar apply, and when a task is due (docs/architecture.md §5).

A manager's override for the definition version wins over the model's `sla`
property, which wins over `camunda:dueDate`. `due_at` is fixed when the task is
created (days count working days, hours working time); the at-risk instant is
when 80% of the working time until then is used.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.sla.durations import parse_duration, working_due
from engine.sla.calendar_cache import CalendarCache

AT_RISK_SHARE = 0.8


@dataclass(frozen=True)
class SlaPlan:
    target: str | None  # ISO 8601 duration, None when only a due date was given
    calendar: str | None
    due_at: datetime
    at_risk_at: datetime


def _due_date_value(value: Any) -> datetime | None:
    """`camunda:dueDate` (its `${variable}` already resolved) as a timezone-aware instant."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), timezone.utc)
    if isinstance(value, str) and value:
        try:
            return TimerEventDefinition.get_datetime(value)
        except ValueError:
            return None
    return None


def plan(start: datetime, duration: str | None, calendar: str | None, calendars: CalendarCache,
         due_date: Any = None) -> SlaPlan | None:
    """The SLA of something that starts now, or None when it has no target."""
    cal = calendars.get(calendar)
    if duration:
        parse_duration(duration)
        due: datetime | None = working_due(cal, start, duration)
    elif due_date:
        due = _due_date_value(due_date)
    else:
        return None
    if due is None:
        return None
    return SlaPlan(duration, calendar, due, cal.add(start, cal.between(start, due) * AT_RISK_SHARE))
