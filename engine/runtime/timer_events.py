"""Timer events that read bankflow's clock and business calendars.

SpiffWorkflow's own timer definitions read `datetime.now()`; these read the clock
and calendars carried by the workflow's script engine, so tests and the
simulator control time, and a timer marked with the `timerCalendar` property
counts working time ("10 business days"). A due timer fires on the first worker
pass at or after its due time: late after downtime, never lost.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.sla.durations import add_calendar_duration, parse_duration, working_due


def _engine(task: Task) -> Any:
    return task.workflow.top_workflow.script_engine


def _now(task: Task) -> datetime:
    return _engine(task).clock.now()


def due_after(start: datetime, duration_text: str, calendar_name: str | None, task: Task | None = None,
              calendars: Any = None) -> datetime:
    """Start plus a duration: working time on a calendar when one is named, else calendar time."""
    if calendar_name:
        registry = calendars if calendars is not None else _engine(task).calendars
        parse_duration(duration_text)
        return working_due(registry.get(calendar_name), start, duration_text)
    return add_calendar_duration(start, duration_text)


class CalendarAware:
    """Timer definitions that remember the `timerCalendar` of their event."""

    def __init__(self, name: str, expression: str, calendar: str | None = None, **kwargs: Any):
        super().__init__(name, expression, **kwargs)
        self.calendar = calendar


class FiresOnce(CalendarAware):
    """A timer due at one instant, computed the first time it is asked and kept in the task."""

    def due(self, my_task: Task, value: str) -> datetime:
        raise NotImplementedError

    def has_fired(self, my_task: Task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            event_value = self.due(my_task, value).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.get_datetime(event_value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockedDateTimer(FiresOnce, TimeDateEventDefinition):
    def due(self, my_task: Task, value: str) -> datetime:
        return TimerEventDefinition.parse_time_or_duration(value)


class ClockedDurationTimer(FiresOnce, DurationTimerEventDefinition):
    def due(self, my_task: Task, value: str) -> datetime:
        return due_after(_now(my_task), value, self.calendar, my_task)


class ClockedCycleTimer(CalendarAware, CycleTimerEventDefinition):
    def cycle_complete(self, my_task: Task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            schedule = parse_cycle(expression, _now(my_task))
            event_value = {"cycles": schedule.cycles, "next": schedule.first.isoformat(),
                           "duration": schedule.duration}
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event <= _now(my_task):
                event_value["next"] = add_calendar_duration(next_event, event_value["duration"]).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


@dataclass(frozen=True)
class CycleSchedule:
    cycles: int  # -1: forever
    first: datetime
    duration: str  # ISO duration between occurrences


def cycle_parts(expression: str) -> tuple[int, datetime | None, str]:
    """`R3/PT1H`, `R/P30D`, `R/2026-01-05T09:00:00Z/P1W` as (cycles or -1, explicit start, duration)."""
    parts = expression.strip().split("/")
    if len(parts) not in (2, 3) or not parts[0].upper().startswith("R"):
        raise ValueError(f"'{expression}' is not an ISO 8601 repeating interval such as R/P1D or R3/PT1H")
    cycles = int(parts[0][1:]) if parts[0][1:] else -1
    start = TimerEventDefinition.get_datetime(parts[1]) if len(parts) == 3 else None
    duration = parts[-1].upper()
    TimerEventDefinition.parse_iso_duration(duration)
    return cycles, start, duration


def parse_cycle(expression: str, now: datetime) -> CycleSchedule:
    """How many occurrences, when the first is due, and how often."""
    cycles, start, duration = cycle_parts(expression)
    return CycleSchedule(cycles, start or add_calendar_duration(now, duration), duration)


def next_due(task: Task) -> datetime | None:
    """When a waiting timer task is due, from what its definition recorded."""
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition) or not task.has_state(TaskState.WAITING):
        return None
    event_value = task._get_internal_data("event_value")
    if isinstance(event_value, dict):
        return datetime.fromisoformat(event_value["next"]) if event_value.get("cycles") else None
    return TimerEventDefinition.get_datetime(event_value) if event_value else None


def first_occurrence(kind: str, expression: str, now: datetime, calendar: str | None,
                     calendars: Any) -> datetime:
    """The first due time of a timer start event, for scheduling a periodic process."""
    if kind == "cycle":
        return parse_cycle(expression, now).first
    if kind == "duration":
        return due_after(now, expression, calendar, calendars=calendars)
    return TimerEventDefinition.get_datetime(expression)
