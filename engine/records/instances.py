"""A process instance (a case) as the store returns it and the services hand it on.

`InstanceRecord` is the whole row, for running the case; `CaseSummary` and `CaseDetail` are what
lists, start and retry results and the case's own view show (docs/json-contract.md, "Instances").
Records are frozen: a change is `dataclasses.replace(record, ...)` written with `uow.instances.save`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.records.history import EventRecord
from engine.records.tasks import TaskRecord
from engine.statuses import InstanceStatus, SlaStatus


@dataclass(frozen=True, kw_only=True)
class NewInstance:
    """A case about to be inserted: every column of `process_instance` but those the database sets."""

    definition_id: int  # the process version it runs
    status: InstanceStatus
    started_at: datetime
    started_by: str | None
    business_key: str | None
    state: dict[str, Any]  # the serialized workflow, without its spec
    variables: dict[str, Any]  # the latest process variables, as JSON
    ended_at: datetime | None = None
    next_due_at: datetime | None = None  # the earliest timer it waits for
    incident_element: str | None = None
    incident_message: str | None = None
    due_at: datetime | None = None  # the end-to-end SLA, fixed at start
    sla_status: SlaStatus | None = None


@dataclass(frozen=True, kw_only=True)
class InstanceRecord(NewInstance):
    """A stored case; `lock_version` guards its next save (a lost update is a Conflict)."""

    id: int
    lock_version: int


@dataclass(frozen=True, kw_only=True)
class CaseSummary:
    """A case as lists, start and retry show it: its row without state and variables, and its process."""

    id: int
    definition_key: str
    version: int
    process_name: str | None
    status: InstanceStatus
    business_key: str | None
    started_at: datetime
    started_by: str | None
    ended_at: datetime | None
    incident_element: str | None  # set while the case is in incident ...
    incident_message: str | None  # ... with what went wrong


@dataclass(frozen=True, kw_only=True)
class Wait:
    """One thing a running case waits for besides people: a service job, a timer, a message or signal."""

    kind: str  # service, timer, message or signal
    element_id: str
    name: str | None  # the element's name
    on_element_id: str | None = None  # a boundary event: the activity it sits on ...
    on_name: str | None = None  # ... and that activity's name
    topic: str | None = None  # service: the job's topic; message, signal: its name
    due_at: datetime | None = None  # timer: when it fires; service: since when the job waits
    overdue: bool = False  # timer: due already, fires on the next worker pass
    answered_here: bool = False  # service: one of bankflow's connectors answers the topic (else an external worker)
    worker: str | None = None  # service: the worker working on it now
    attempts: int = 0  # service: failed attempts so far
    last_error: str | None = None  # service: why the last attempt failed
    retry_at: datetime | None = None  # service: when a failed job is tried again
    retries_left: int | None = None  # service, after a failure: the worker's retries left before the incident


@dataclass(frozen=True, kw_only=True)
class CaseDetail(CaseSummary):
    """One case in full: its variables, every human task, its history and what else it waits for."""

    variables: dict[str, Any]
    tasks: tuple[TaskRecord, ...]  # every human task of the case, oldest first
    history: tuple[EventRecord, ...]  # oldest first
    waiting: tuple[Wait, ...]  # soonest first; none unless the case is running
