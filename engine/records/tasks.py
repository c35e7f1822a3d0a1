"""Human tasks as the store returns them and the services hand them on.

`TaskRecord` is a whole `human_task` row (field names are its column names, so pages and the
JSON of `engine.json_shapes` read the same words); `NewTask` is one about to be inserted. Records are
frozen: a change is `dataclasses.replace(task, ...)` written with `uow.tasks.save`, which the
row's `lock_version` guards (a lost update is a Conflict).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.statuses import SlaStatus, TaskStatus


@dataclass(frozen=True, kw_only=True)
class NewTask:
    """A task about to be inserted: every column of `human_task` but those the database sets."""

    instance_id: int
    spiff_task_id: str  # the SpiffWorkflow task it mirrors
    element_id: str
    name: str | None
    lane: str | None
    candidate_groups: tuple[str, ...]  # offered to these groups ...
    candidate_users: tuple[str, ...]  # ... and users; neither: open to all staff
    assignee: str | None
    status: TaskStatus
    priority: int
    created_at: datetime
    claimed_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    due_at: datetime | None  # None: the task has no SLA
    sla_status: SlaStatus | None
    sla_calendar: str | None  # the calendar its SLA counts on (None: the default)
    form: list[dict[str, Any]]  # the fields of camunda:formData
    data: dict[str, Any] | None  # what the form was completed with
    four_eyes_with: str | None  # whoever completed these elements' tasks (comma-separated) may not act on it


@dataclass(frozen=True, kw_only=True)
class TaskRecord(NewTask):
    """A stored task; `lock_version` guards its next save."""

    id: int
    lock_version: int


@dataclass(frozen=True, kw_only=True)
class TaskCompletion:
    """A completed task of a case, as the four-eyes rule reads it: who completed which element."""

    instance_id: int
    element_id: str
    name: str | None
    completed_by: str


@dataclass(frozen=True, kw_only=True)
class InboxRow:
    """A task on a user's inbox, with the process it belongs to and its case's business key."""

    task: TaskRecord
    process_key: str
    process_name: str | None
    business_key: str | None
