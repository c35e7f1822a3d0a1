"""The mapped tables as Core `Table` objects, for the hot paths.

Service calls that run on every click (work lists, claim, complete, start) read
and write rows with Core statements: an ORM round trip (identity map, unit-of-work
flush, per-object events) costs several times what the SQL itself does. The ORM
models in `models.py` stay the one definition of the schema.
"""
from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from engine.store.models import (
    Activity,
    BusinessCalendarRow,
    Comment,
    Deployment,
    DeploymentFile,
    Event,
    Group,
    HumanTask,
    Job,
    Membership,
    Notification,
    ProcessDefinition,
    ProcessInstance,
    SignInSession,
    SlaTarget,
    TaskCandidate,
    User,
    WorkerHeartbeat,
)

# `__table__` is typed as a FromClause; every mapped class here has a Table, said once.
ACTIVITY = cast(Table, Activity.__table__)
CALENDAR = cast(Table, BusinessCalendarRow.__table__)
CANDIDATE = cast(Table, TaskCandidate.__table__)
COMMENT = cast(Table, Comment.__table__)
DEFINITION = cast(Table, ProcessDefinition.__table__)
DEPLOYMENT = cast(Table, Deployment.__table__)
DEPLOYMENT_FILE = cast(Table, DeploymentFile.__table__)
EVENT = cast(Table, Event.__table__)
GROUP = cast(Table, Group.__table__)
INSTANCE = cast(Table, ProcessInstance.__table__)
JOB = cast(Table, Job.__table__)
MEMBERSHIP = cast(Table, Membership.__table__)
NOTIFICATION = cast(Table, Notification.__table__)
SIGN_IN_SESSION = cast(Table, SignInSession.__table__)
SLA_TARGET = cast(Table, SlaTarget.__table__)
TASK = cast(Table, HumanTask.__table__)
USER = cast(Table, User.__table__)
WORKER_HEARTBEAT = cast(Table, WorkerHeartbeat.__table__)
