"""Every status a case, task, job or SLA can be in, as `StrEnum`s.

The database stores the same strings it always did (a member *is* its string), so no
migration is needed and JSON, CSV and the CLI print the same words. Code compares and
assigns members, never literals: a misspelt status is an AttributeError, not a silent miss.
"""
from __future__ import annotations

from enum import StrEnum


class InstanceStatus(StrEnum):
    """A case: running until it ends, is cancelled or a failure puts it into an incident."""

    RUNNING = "running"
    COMPLETED = "completed"
    INCIDENT = "incident"
    CANCELLED = "cancelled"


INSTANCE_STATUSES = tuple(InstanceStatus)  # in the order pages and messages list them


class TaskStatus(StrEnum):
    """A human task: open to its candidates, claimed by one person, then completed or cancelled."""

    OPEN = "open"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


TASK_STATUSES = tuple(TaskStatus)  # in the order pages and messages list them
ACTIVE_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED)  # a person may still act on the task


class SlaStatus(StrEnum):
    """Where a task or case stands against its SLA target (None: it has no target)."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"


SLA_STATUSES = tuple(SlaStatus)  # in the order pages and messages list them


class WorkerStatus(StrEnum):
    """The background worker as /health and the worker page see it."""

    OK = "ok"
    IDLE = "idle"
    OVERDUE = "overdue"


class JobKind(StrEnum):
    """What a row of the job table waits for."""

    TIMER = "timer"
    TIMER_START = "timer_start"
    EXTERNAL = "external"
    SLA_AT_RISK = "sla_at_risk"
    SLA_BREACH = "sla_breach"


class ActivityState(StrEnum):
    """One executed flow node of the history: active until it completes, or the process moves on without it."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
