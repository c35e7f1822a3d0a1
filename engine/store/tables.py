"""The mapped tables as Core `Table` objects, for the hot paths.

Service calls that run on every click (work lists, claim, complete, start) read
and write rows with Core statements: an ORM round trip (identity map, unit-of-work
flush, per-object events) costs several times what the SQL itself does. The ORM
models in `models.py` stay the one definition of the schema.
"""
from __future__ import annotations

from engine.store.models import (
    Activity,
    Event,
    Group,
    HumanTask,
    Job,
    Membership,
    ProcessDefinition,
    ProcessInstance,
    SignInSession,
    TaskCandidate,
    User,
    WorkerHeartbeat,
)

ACTIVITY = Activity.__table__
CANDIDATE = TaskCandidate.__table__
DEFINITION = ProcessDefinition.__table__
EVENT = Event.__table__
GROUP = Group.__table__
INSTANCE = ProcessInstance.__table__
JOB = Job.__table__
MEMBERSHIP = Membership.__table__
SIGN_IN_SESSION = SignInSession.__table__
TASK = HumanTask.__table__
USER = User.__table__
WORKER_HEARTBEAT = WorkerHeartbeat.__table__
