"""Jobs (due timers, periodic starts, SLA checks, external service tasks) as the store returns them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.statuses import JobKind


@dataclass(frozen=True, kw_only=True)
class NewJob:
    """A job about to be inserted."""

    kind: JobKind
    due_at: datetime
    instance_id: int | None = None
    task_id: int | None = None  # SLA checks of a task
    definition_id: int | None = None  # periodic starts
    spiff_task_id: str | None = None
    element_id: str | None = None
    topic: str | None = None  # external jobs
    # An external job: the task's variables when it was created; a periodic start: its schedule.
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class JobRecord(NewJob):
    """A stored job. A worker holds it while `locked_until` is ahead; a change is
    `dataclasses.replace(job, ...)` written with `uow.jobs.save`."""

    id: int
    locked_by: str | None
    locked_until: datetime | None
    attempts: int  # failed attempts so far
    last_error: str | None


@dataclass(frozen=True, kw_only=True)
class JobDue:
    """A case's job as writing the case back compares it: which SpiffWorkflow task it waits on, and when."""

    id: int
    spiff_task_id: str
    due_at: datetime
