"""Timer events that read bankflow's clock and business calendars.

SpiffWorkflow's own timer definitions read `datetime.now()`; these read the clock
and calendars carried by the workflow's script engine, so tests and the
simulator control time, and a timer marked with the `timerCalendar` property
counts working time ("10 business days"). A due timer fires on the first worker
pass at or after its due time: late after downtime, never lost.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.runtime.spiff import has_fired, keep_timer_value, mark_fired, timer_value
from engine.sla.durations import (
    LATEST,
    Cycle,
    DurationError,
    parse_cycle as parse_repeating_interval,
    parse_iso_datetime,
    parse_iso_duration,
    working_due,
)


def _engine(task: Task) -> Any:
    return task.workflow.top_workflow.script_engine


def _now(task: Task) -> datetime:
    return _engine(task).clock.now()


def timer_literal(text: str) -> str:
    """A timer value as written in the file, without the quotes a designer may put around it."""
    text = (text or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in ("'", '"') and text[0] not in text[1:-1]:
        return text[1:-1].strip()
    return text


def due_after(start: datetime, duration_text: str, calendar_name: str | None, task: Task | None = None,
              calendars: Any = None) -> datetime:
    """Start plus a duration: working time on a calendar when one is named, else calendar time."""
    if calendar_name:
        registry = calendars if calendars is not None else _engine(task).calendars
        return working_due(registry.get(calendar_name), start, duration_text)
    return parse_iso_duration(duration_text).after(start)


def _value_text(value: Any, kind: str) -> str:
    """What a timer expression gave, which must be text (an ISO 8601 value)."""
    if not isinstance(value, str):
        raise DurationError("the timer's %(kind)s expression gave %(type)s %(value)s, not an ISO 8601 text",
                            kind=kind, type=type(value).__name__, value=repr(str(value)[:40]))
    return value


@contextmanager
def _reported_at(task: Task) -> Iterator[None]:
    """A timer value that cannot be used is an incident at the timer's event."""
    try:
        yield
    except (DurationError, OverflowError, KeyError) as err:
        raise WorkflowTaskException(f"the timer's value cannot be used: {err}", task=task, exception=err) from None


class CalendarAware(TimerEventDefinition):
    """Timer definitions that remember the `timerCalendar` of their event."""

    def __init__(self, name: str, expression: str, calendar: str | None = None, **kwargs: Any):
        super().__init__(name, expression, **kwargs)
        self.calendar = calendar


class FiresOnce(CalendarAware):
    """A timer due at one instant, computed the first time it is asked and kept in the task."""

    def due(self, my_task: Task, value: str) -> datetime:
        raise NotImplementedError

    def has_fired(self, my_task: Task) -> bool:
        event_value = timer_value(my_task)
        if event_value is None:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            with _reported_at(my_task):
                event_value = self.due(my_task, value).isoformat()
            keep_timer_value(my_task, event_value)
        if TimerEventDefinition.get_datetime(event_value) <= _now(my_task):
            mark_fired(my_task)
        return has_fired(my_task)


class ClockedDateTimer(FiresOnce, TimeDateEventDefinition):
    def due(self, my_task: Task, value: str) -> datetime:
        return parse_iso_datetime(_value_text(value, "timeDate"))


class ClockedDurationTimer(FiresOnce, DurationTimerEventDefinition):
    def due(self, my_task: Task, value: str) -> datetime:
        return due_after(_now(my_task), _value_text(value, "timeDuration"), self.calendar, my_task)


class ClockedCycleTimer(CalendarAware, CycleTimerEventDefinition):
    """A repeating timer (a non-interrupting boundary event, say). It fires at most once each
    time the workflow looks at the clock: after downtime the missed occurrences are skipped and
    the next one is the first after now, computed directly."""

    def cycle_complete(self, my_task: Task) -> bool:
        event_value = timer_value(my_task)
        now = _now(my_task)
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            with _reported_at(my_task):
                schedule = parse_cycle(_value_text(expression, "timeCycle"), now)
            event_value = {"cycles": schedule.cycles, "next": schedule.first.isoformat(),
                           "duration": schedule.duration}
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event <= now:
                with _reported_at(my_task):
                    following = next_occurrence(next_event, event_value["duration"], now)
                event_value["next"] = following.isoformat()
                event_value["cycles"] = 0 if following >= LATEST else event_value["cycles"] - 1
                ready = True
        else:  # every occurrence is past: the event is over
            mark_fired(my_task)
        keep_timer_value(my_task, event_value)
        return ready


@dataclass(frozen=True)
class CycleSchedule:
    cycles: int  # -1: forever
    first: datetime
    duration: str  # ISO duration between occurrences


def cycle_parts(expression: str) -> tuple[int, datetime | None, str]:
    """`R3/PT1H`, `R/P30D`, `R/2026-01-05T09:00:00Z/P1W` as (cycles or -1, explicit start, duration);
    bounded (see `engine.sla.durations`), a zero or sub-second period refused."""
    cycle = parse_repeating_interval(timer_literal(expression))
    return cycle.repetitions, cycle.start, cycle.period.text


def parse_cycle(expression: str, now: datetime) -> CycleSchedule:
    """How many occurrences, when the next is due, and how often. A cycle that names its start
    keeps to the grid of that start: the first occurrence at or after now (a start in 1970 is
    not replayed occurrence by occurrence)."""
    cycle = parse_repeating_interval(timer_literal(expression))
    if cycle.start is None:
        first = cycle.period.after(now)
    else:
        first = cycle.next_after(cycle.start, now, strictly=False)
    return CycleSchedule(cycle.repetitions, first, cycle.period.text)


def next_occurrence(previous: datetime, duration: str, now: datetime, calendar: str | None = None,
                    calendars: Any = None) -> datetime:
    """The occurrence after `previous` of a cycle of `duration`, skipping those already past:
    the first after `now` on the grid of `previous`, in one step (on a business calendar, one
    period of working time after `previous`, or after now when that is past too)."""
    if calendar:
        following = due_after(previous, duration, calendar, calendars=calendars)
        return following if following > now else due_after(now, duration, calendar, calendars=calendars)
    return Cycle(-1, previous, parse_iso_duration(duration)).next_after(previous, now)


def next_due(task: Task) -> datetime | None:
    """When a waiting timer task is due, from what its definition recorded."""
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition) or not task.has_state(TaskState.WAITING):
        return None
    event_value = timer_value(task)
    if isinstance(event_value, dict):
        return datetime.fromisoformat(event_value["next"]) if event_value.get("cycles") else None
    return TimerEventDefinition.get_datetime(event_value) if event_value else None


def first_occurrence(kind: str, expression: str, now: datetime, calendar: str | None,
                     calendars: Any) -> datetime:
    """The first due time of a timer start event, for scheduling a periodic process (its value
    is a literal, checked at deploy)."""
    literal = timer_literal(expression)
    if kind == "cycle":
        return parse_cycle(literal, now).first
    if kind == "duration":
        return due_after(now, literal, calendar, calendars=calendars)
    return parse_iso_datetime(literal)


def check_timer_literal(kind: str, text: str) -> None:
    """Raise DurationError when a literal timer value (`timeDate`, `timeDuration`, `timeCycle`)
    is not a bounded ISO 8601 value of its kind."""
    literal = timer_literal(text)
    if kind in ("timeDuration", "duration"):
        parse_iso_duration(literal)
    elif kind in ("timeDate", "date"):
        parse_iso_datetime(literal)
    else:
        parse_repeating_interval(literal)
