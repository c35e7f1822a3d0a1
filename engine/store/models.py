"""The data model of docs/architecture.md §2 as SQLAlchemy 2.0 typed models.

Times are stored as timezone-aware UTC datetimes (`UtcDateTime`), so SQLite and
PostgreSQL return the same values. JSON columns hold small documents (forms,
payloads, workflow state) that are read whole and never queried inside.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """A DateTime that always comes back timezone-aware in UTC (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass a timezone-aware UTC time")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Deployment(Base):
    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    deployed_by: Mapped[str | None] = mapped_column(String(100))
    deployed_at: Mapped[datetime]

    files: Mapped[list[DeploymentFile]] = relationship(back_populates="deployment", order_by="DeploymentFile.id")


class DeploymentFile(Base):
    __tablename__ = "deployment_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))  # bpmn | dmn
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)

    deployment: Mapped[Deployment] = relationship(back_populates="files")


class ProcessDefinition(Base):
    """One version of one executable process; `source_sha256` detects identical re-uploads."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_definition_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int]
    name: Mapped[str | None] = mapped_column(String(255))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    sla_target: Mapped[str | None] = mapped_column(String(50))
    sla_calendar: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)  # an inactive version starts no new case
    # camunda:candidateStarterGroups / candidateStarterUsers (both empty: any staff member may start it).
    starter_groups: Mapped[list[Any]] = mapped_column(default=list)
    starter_users: Mapped[list[Any]] = mapped_column(default=list)
    source_sha256: Mapped[str] = mapped_column(String(64))
    # deployment_file ids the spec is built from (its own file, called processes, DMN).
    source_files: Mapped[list[Any]] = mapped_column(default=list)
    # Per-element metadata read at deploy (lanes, candidates, forms, SLA...): element id -> dict.
    elements: Mapped[dict[str, Any]] = mapped_column(default=dict)

    deployment: Mapped[Deployment] = relationship()


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_instance_status_due", "status", "next_due_at"),
        # analytics: a process's cases by start and by completion
        Index("ix_instance_definition_started", "definition_id", "started_at"),
        Index("ix_instance_definition_ended", "definition_id", "status", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # running|completed|incident|cancelled
    started_at: Mapped[datetime]
    started_by: Mapped[str | None] = mapped_column(String(100))
    ended_at: Mapped[datetime | None]
    # Serialized workflow state without the spec (see engine.runtime.serializer).
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The latest process variables as plain JSON, for display and search without a restore.
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Optimistic lock: every write is one UPDATE ... WHERE lock_version = ? (engine.store.*_rows).
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    next_due_at: Mapped[datetime | None]  # the earliest timer this instance waits for (jobs fire it)
    incident_element: Mapped[str | None] = mapped_column(String(200))
    incident_message: Mapped[str | None] = mapped_column(Text)
    # Process-level SLA (end to end), fixed at start.
    due_at: Mapped[datetime | None]
    sla_status: Mapped[str | None] = mapped_column(String(20))

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined")


class HumanTask(Base):
    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_task_status_assignee", "status", "assignee"),
        Index("ix_task_instance_status", "instance_id", "status"),
        Index("ix_task_completed", "completed_at"),  # analytics: a time window's completed tasks
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36), unique=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(200))
    candidate_groups: Mapped[list[Any]] = mapped_column(default=list)
    candidate_users: Mapped[list[Any]] = mapped_column(default=list)
    assignee: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))  # open|claimed|completed|cancelled
    priority: Mapped[int] = mapped_column(default=50)
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime | None]
    sla_status: Mapped[str | None] = mapped_column(String(20))
    # The calendar the task's SLA counts on (None: the default), for business-time analytics.
    sla_calendar: Mapped[str | None] = mapped_column(String(100))
    form: Mapped[list[Any]] = mapped_column(default=list)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Four-eyes: whoever completed these elements' tasks (comma-separated) in the case may not act on this one.
    four_eyes_with: Mapped[str | None] = mapped_column(String(200))
    # Optimistic lock: every write is one UPDATE ... WHERE lock_version = ? (engine.store.*_rows).
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    instance: Mapped[ProcessInstance] = relationship()
    candidates: Mapped[list[TaskCandidate]] = relationship(cascade="all, delete-orphan")


class TaskCandidate(Base):
    """One candidate group or user of a task, so work lists filter in SQL with an index."""

    __tablename__ = "task_candidate"
    __table_args__ = (Index("ix_candidate_kind_name", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # group | user
    name: Mapped[str] = mapped_column(String(100))


class Activity(Base):
    """One executed flow node: the source for heatmaps and the XES export."""

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_instance_open", "instance_id", "ended_at"),
        Index("ix_activity_element", "element_id"),
        Index("ix_activity_ended", "ended_at"),  # analytics: a time window's finished activities
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    element_type: Mapped[str] = mapped_column(String(60))
    name: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(20), default="active")  # active|completed|cancelled


class Event(Base):
    """Append-only audit log: rows are inserted, never updated or deleted."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_instance_at", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    type: Mapped[str] = mapped_column(String(40), index=True)
    element_id: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Job(Base):
    """Work the engine waits on outside a request: due timers, SLA checks, external service tasks."""

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_due", "kind", "due_at", "locked_until"),
        Index("ix_job_topic", "kind", "topic"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"), index=True)
    definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))
    kind: Mapped[str] = mapped_column(String(30))  # external | timer | timer_start | sla_at_risk | sla_breach
    spiff_task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime]
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # What an external worker gets: the task's variables when the job was created.
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class WorkerHeartbeat(Base):
    """A worker's latest pass (one row per worker id), so the web app can tell when no worker runs and
    timers, service tasks and SLA checks wait; rows of workers gone for a day are dropped."""

    __tablename__ = "worker_heartbeat"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime]  # its first pass
    last_pass_at: Mapped[datetime]
    interval_seconds: Mapped[float | None]  # seconds between its passes (None: a single pass, `--once`)
    passes: Mapped[int] = mapped_column(default=0)


class BusinessCalendarRow(Base):
    """A business calendar as loaded from TOML; `source` is the file it came from."""

    __tablename__ = "business_calendar"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    source: Mapped[str] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(default=False)
    loaded_at: Mapped[datetime]


class SlaTarget(Base):
    """A manager's SLA target for a definition version (element_id None: the whole process)."""

    __tablename__ = "sla_override"  # the table's first name, kept: renaming it would need a migration for no gain
    __table_args__ = (UniqueConstraint("definition_id", "element_id", name="uq_sla_override"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    element_id: Mapped[str | None] = mapped_column(String(200))
    duration: Mapped[str] = mapped_column(String(50))
    calendar: Mapped[str | None] = mapped_column(String(100))
    set_by: Mapped[str | None] = mapped_column(String(100))
    set_at: Mapped[datetime]


class Notification(Base):
    """An in-app message to one user (escalations, SLA breaches)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_name", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(String(100))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)  # English, as mailed; pages say `message_id` with `params`
    message_id: Mapped[str | None] = mapped_column(String(40))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(default=False)  # a disabled user cannot sign in
    # Made up by the simulator to work simulated history: never listed as staff, never signs in.
    simulated: Mapped[bool] = mapped_column(default=False)
    # Failed sign-ins since `failed_since`; 5 within 15 minutes lock the user until `locked_until`.
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    failed_since: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(String(10))  # "en" or "zh_Hans"; None: the browser's
    timezone: Mapped[str | None] = mapped_column(String(60))  # IANA name; None: the bank's default

    groups: Mapped[list[Group]] = relationship(secondary="membership", order_by="Group.name")


class SignInSession(Base):
    """One sign-in: the browser's cookie holds the token whose SHA-256 is `token_hash` (a leaked table
    gives no usable cookie). Every request looks it up; signing out, or an admin's change to the user,
    sets `revoked_at`, and a session older than the sign-in lifetime is refused."""

    __tablename__ = "sign_in_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    last_seen_at: Mapped[datetime]  # updated at most every few minutes, not on every request
    revoked_at: Mapped[datetime | None]


class Group(Base):
    __tablename__ = "app_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str | None] = mapped_column(String(200))  # what pages call it, in English ...
    title_zh: Mapped[str | None] = mapped_column(String(200))  # ... and in Chinese


class Membership(Base):
    __tablename__ = "membership"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("app_group.id"), primary_key=True)


class Comment(Base):
    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    body: Mapped[str] = mapped_column(Text)
