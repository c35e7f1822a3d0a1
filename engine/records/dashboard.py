"""The operations dashboard's records: the rows its read model returns (times as aware UTC datetimes) and
the pages the dashboard service answers with (times as ISO text, durations in seconds, as shown).

The metrics document inside a page stays the JSON of docs/metrics-json.md (`ProcessPage.metrics`), so
the page shows exactly what `bankflow metrics --json` prints.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.records.analytics import Figure, Statistics

# --- what the dashboard's read model returns -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class NamedVersion:
    """A version of a process that has cases (the overview lists each process once, by its newest name)."""

    key: str
    name: str | None
    version: int


@dataclass(frozen=True, kw_only=True)
class VersionChoice:
    """A deployed version of one process, as the process page offers it."""

    id: int
    version: int
    name: str | None
    sla_calendar: str | None


@dataclass(frozen=True, kw_only=True)
class HistogramCount:
    """How many cases completed in the window have a cycle time in bin `bin` (0-based)."""

    bin: int
    n: Figure


@dataclass(frozen=True, kw_only=True)
class FlowCount:
    """Cases started (`kind` arrivals) or completed (completions) on one UTC day (YYYY-MM-DD)."""

    day: str
    kind: str
    n: Figure


@dataclass(frozen=True, kw_only=True)
class SlowExecution:
    """One execution of an activity among its slowest (wait and work only for human tasks)."""

    instance_id: int
    business_key: str | None
    started_at: datetime | None
    ended_at: datetime | None
    by: str | None
    wait: Figure | None
    work: Figure | None
    duration: Figure | None


@dataclass(frozen=True, kw_only=True)
class ChartRows:
    """The aggregates behind a process page's charts and drill-down."""

    histogram: tuple[HistogramCount, ...]
    trend: tuple[Statistics, ...]
    flow: tuple[FlowCount, ...]
    slowest: tuple[SlowExecution, ...]


@dataclass(frozen=True, kw_only=True)
class LateTask:
    """An open task at risk or breached (`sla`), with its case and process."""

    id: int
    name: str | None
    element_id: str
    status: str
    assignee: str | None
    created_at: datetime | None
    due_at: datetime | None
    lane: str | None
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    four_eyes_with: str | None
    sla: str
    instance_id: int
    business_key: str | None
    process: str
    process_name: str | None


@dataclass(frozen=True, kw_only=True)
class LateTaskCount:
    """How many late tasks one process has per candidate group (None: offered to no group)."""

    process: str
    group: str | None
    at_risk: Figure | None
    breached: Figure | None


# --- what the dashboard service answers with ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WeekPoint:
    """Cycle time of the cases completed in one ISO week (its Monday, YYYY-MM-DD)."""

    week: str
    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True, kw_only=True)
class Window:
    """The window a page covers, as ISO text (`since` None: from the beginning)."""

    since: str | None
    until: str | None


@dataclass(frozen=True, kw_only=True)
class OverviewRow:
    """One process on `/dashboard`: the figures of its metrics document, and the weekly median trend."""

    process: str
    name: str
    started: int
    completed: int
    open: int
    cycle_time_median: float | None
    cycle_time_p90: float | None
    sla: dict[str, Any]  # the document's `sla` object (docs/metrics-json.md)
    oldest_open_started_at: str | None
    trend: tuple[WeekPoint, ...]


@dataclass(frozen=True, kw_only=True)
class Overview:
    """`/dashboard`: every process with cases, and the versions one may choose."""

    window: Window
    version: int | None
    versions: tuple[int, ...]
    processes: tuple[OverviewRow, ...]


@dataclass(frozen=True, kw_only=True)
class Heat:
    """An activity's value of one measure and its heat (0..1; None without a value)."""

    value: float | int | None
    heat: float | None


@dataclass(frozen=True, kw_only=True)
class HistogramBar:
    """One bar of the cycle-time histogram: the cases with a cycle time in [from_seconds, to_seconds)."""

    from_seconds: float
    to_seconds: float
    count: int


@dataclass(frozen=True, kw_only=True)
class DayFlow:
    """Cases started and completed on one UTC day."""

    day: str
    arrivals: int
    completions: int


@dataclass(frozen=True, kw_only=True)
class GroupBacklog:
    """The open tasks of one staff group (the open-work chart; customer groups are left out)."""

    group: str
    backlog: int


@dataclass(frozen=True, kw_only=True)
class SlowCase:
    """A row of an activity's slowest cases: times as ISO text, durations in seconds."""

    instance_id: int
    business_key: str | None
    started_at: str | None
    ended_at: str | None
    by: str | None
    wait: float | None
    work: float | None
    duration: float | None


@dataclass(frozen=True, kw_only=True)
class ProcessPage:
    """Everything `/dashboard/<key>` shows: the metrics document, the heat of each activity per measure,
    the charts' figures and the drill-down of one activity (`element`, its entry of the document)."""

    process: str
    name: str | None
    version: int | None
    versions: tuple[int, ...]
    business_time: bool
    has_calendars: bool
    metrics: dict[str, Any]  # exactly `bankflow metrics --json` (docs/metrics-json.md)
    heat: dict[str, dict[str, Heat]]  # element id -> measure -> heat
    histogram: tuple[HistogramBar, ...]
    trend: tuple[WeekPoint, ...]
    flow: tuple[DayFlow, ...]
    groups: tuple[GroupBacklog, ...]
    element: dict[str, Any] | None
    slowest: tuple[SlowCase, ...]


@dataclass(frozen=True, kw_only=True)
class SlaBoardTask:
    """A late task on the SLA board, with the people it can be handed to (`candidates`, least busy first)."""

    task_id: int
    process: str
    process_name: str
    task: str
    element_id: str
    sla: str
    status: str
    assignee: str | None
    groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    created_at: str | None
    due_at: str | None
    instance_id: int
    business_key: str | None
    candidates: tuple[Any, ...]  # engine.services.tasks.Candidate: a name, and how many tasks they hold


@dataclass(frozen=True, kw_only=True)
class SlaBoardCount:
    """Late tasks of one process and candidate group."""

    process: str
    process_name: str
    group: str | None
    at_risk: int
    breached: int


@dataclass(frozen=True, kw_only=True)
class ProcessChoice:
    """A process key with the name of its newest version (the board's process filter)."""

    key: str
    name: str


@dataclass(frozen=True, kw_only=True)
class SlaBoard:
    """`/dashboard/sla`: late tasks (at most `limit`), their counts per process and group, the filters."""

    now: str | None
    process: str | None
    group: str | None
    processes: tuple[ProcessChoice, ...]
    limit: int
    tasks: tuple[SlaBoardTask, ...]
    counts: tuple[SlaBoardCount, ...]
