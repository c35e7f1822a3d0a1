"""What the analytics read models return: the rows the metrics statements aggregate, as typed records.

The store builds them (engine/store/read_models/metrics.py); `engine.analytics.report` shapes them into
the metrics document of docs/metrics-json.md. Figures are what the database computed: an integer, a
float, or (PostgreSQL's sums of integers and averages) a Decimal; the report converts and rounds them.
Timestamps are aware UTC datetimes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

Figure = int | float | Decimal


@dataclass(frozen=True, kw_only=True)
class Scope:
    """What one metrics call looks at: versions of one process, a window [since, until), a group."""

    definition_ids: tuple[int, ...]
    since: datetime | None
    until: datetime
    elements: tuple[str, ...] | None = None  # --group: only these elements (None: all)
    group: str | None = None
    # calendar of each definition's cycle time and non-human activities (business time only)
    definition_calendars: dict[int, str | None] | None = None


@dataclass(frozen=True, kw_only=True)
class MeasuredVersion:
    """A deployed version of a process, as the metrics read it: its elements' metadata and SLA calendar."""

    id: int
    version: int
    sla_calendar: str | None
    elements: dict[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class CaseFigures:
    """The instances of the scope: counted in the window, the oldest open one, and the end-to-end SLA."""

    started: Figure | None
    completed: Figure | None
    open: Figure | None
    oldest_open_started_at: datetime | None
    first_started_at: datetime | None
    sla_completed: Figure | None
    sla_completed_breached: Figure | None
    sla_open_breached: Figure | None


@dataclass(frozen=True, kw_only=True)
class Statistics:
    """count, mean, max and percentiles of the samples of one (g, m) pair: `g` is what they are grouped by
    (an element id, a week, a path; '' for the cycle time) and `m` the metric (cycle, wait, work, duration)
    or, for the overview's weekly trend, the process key."""

    g: str
    m: str
    n: int
    mean: Figure | None
    max: Figure | None
    p50: Figure | None
    p90: Figure | None
    p95: Figure | None


@dataclass(frozen=True, kw_only=True)
class ActivityCounts:
    """One activity's executions: open at the window's end and start, arrived, completed, and the cases
    in which it arrived more than once (`rework`)."""

    element_id: str
    open: Figure | None
    open_at_start: Figure | None
    arrivals: Figure | None
    completions: Figure | None
    rework: Figure | None


@dataclass(frozen=True, kw_only=True)
class ShareTotal:
    """Seconds spent in one activity (`g`; '' for the whole cycle time) by the cases completed in the window."""

    g: str
    total: Figure | None


@dataclass(frozen=True, kw_only=True)
class BreachCount:
    """SLA breaches of one element (None: the end-to-end SLA); `kind` says which (engine.analytics.report)."""

    element_id: str | None
    kind: str
    n: Figure


@dataclass(frozen=True, kw_only=True)
class ThroughputCount:
    """Cases completed in one period (`kind` day or week, `period` its first day as YYYY-MM-DD)."""

    kind: str
    period: str
    n: Figure


@dataclass(frozen=True, kw_only=True)
class GroupFigures:
    """One candidate group's open tasks, oldest open task, mean handling time and completions."""

    group: str
    backlog: Figure | None
    oldest_open_at: datetime | None
    mean_handling: Figure | None
    completions: Figure | None


@dataclass(frozen=True, kw_only=True)
class RawMetrics:
    """Everything the metrics statements returned, before it is shaped into the metrics document."""

    instances: CaseFigures
    statistics: tuple[Statistics, ...] = ()
    counts: tuple[ActivityCounts, ...] = ()
    shares: tuple[ShareTotal, ...] = ()
    breaches: tuple[BreachCount, ...] = ()
    throughput: tuple[ThroughputCount, ...] = ()
    groups: tuple[GroupFigures, ...] = ()
    variants: tuple[Statistics, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Execution:
    """One executed flow node of a case (the XES export's row): the case, its process version, the node,
    and for a human task when it was claimed, by whom, and who completed it."""

    instance_id: int
    business_key: str | None
    status: str
    definition_key: str
    definition_version: int
    activity_id: int
    element_id: str
    element_type: str
    name: str | None
    started_at: datetime
    ended_at: datetime | None
    state: str
    task_id: int | None
    claimed_at: datetime | None
    assignee: str | None
    completed_by: str | None


@dataclass(frozen=True, kw_only=True)
class NewTask:
    """A human task the simulator has not seen yet: what it needs to queue it and to fill its form."""

    id: int
    instance_id: int
    element_id: str
    priority: int | None
    created_at: datetime
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    assignee: str | None
    status: str
    form: list[Any]


@dataclass(frozen=True, kw_only=True)
class WorkInSight:
    """What the simulator sees after an instant: service tasks waiting for a connector, when the next job
    falls due, and the tasks created since the last look."""

    external_jobs: int
    next_job_due: datetime | None
    new_tasks: tuple[NewTask, ...]


@dataclass(frozen=True, kw_only=True)
class HeldTask:
    """A task a simulated person still holds."""

    task_id: int
    assignee: str


@dataclass(frozen=True, kw_only=True)
class XesExport:
    """What an XES export wrote: one trace per case, one event per lifecycle transition."""

    traces: int
    events: int


@dataclass(frozen=True, kw_only=True)
class CsvFile:
    """One table written as a CSV file."""

    path: str
    rows: int


@dataclass(frozen=True, kw_only=True)
class CsvExport:
    """What a CSV export wrote: into which folder, for which processes, each table's file (by table name)."""

    directory: str
    processes: tuple[str, ...]
    files: dict[str, CsvFile]
