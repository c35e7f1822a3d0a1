"""The JSON shapes of DESIGN §2, §6 and §7 that the CLI, the web app and the API all print.

This is the one place they are built. Times are ISO 8601 in UTC; other tools
parse these keys, so they change only with the design document (the contract is
copied in docs/json-contract.md).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Mapping, Protocol, TypedDict

from engine.bpmn.forms import public_fields
from engine.errors import DeployProblem
from engine.sla.business_calendar import AlwaysOpenCalendar, Calendar
from engine.store.instance_rows import InstanceRecord
from engine.store.models import ProcessDefinition, User

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DefinitionVersion(Protocol):
    key: str
    version: int


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def definition_view(definition: ProcessDefinition) -> dict[str, Any]:
    return {
        "key": definition.key,
        "version": definition.version,
        "name": definition.name,
        "deployed_at": iso(definition.deployment.deployed_at),
        "deployment_id": definition.deployment_id,
        "active": definition.active,
        "sla_target": definition.sla_target,
        "starter_groups": list(definition.starter_groups),
        "starter_users": list(definition.starter_users),
    }


def instance_summary(instance: InstanceRecord, definition: DefinitionVersion) -> dict[str, Any]:
    return {
        "id": instance.id,
        "definition_key": definition.key,
        "version": definition.version,
        "status": instance.status,
        "business_key": instance.business_key,
        "started_at": iso(instance.started_at),
        "started_by": instance.started_by,
        "ended_at": iso(instance.ended_at),
        "incident": (
            {"element_id": instance.incident_element, "message": instance.incident_message}
            if instance.status == "incident" else None
        ),
    }


def task_view(task: Mapping[str, Any]) -> dict[str, Any]:
    """A human task row (a mapping of its columns)."""
    return {
        "id": task["id"],
        "instance_id": task["instance_id"],
        "element_id": task["element_id"],
        "name": task["name"],
        "lane": task["lane"],
        "candidate_groups": list(task["candidate_groups"]),
        "candidate_users": list(task["candidate_users"]),
        "assignee": task["assignee"],
        "status": task["status"],
        "priority": task["priority"],
        "created_at": iso(task["created_at"]),
        "claimed_at": iso(task["claimed_at"]),
        "completed_at": iso(task["completed_at"]),
        "completed_by": task["completed_by"],
        "due_at": iso(task["due_at"]),
        "sla_status": task["sla_status"],
        "form": public_fields(task["form"]),
    }


def event_view(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event row (a mapping of its columns)."""
    return {
        "type": event["type"],
        "element_id": event["element_id"],
        "actor": event["actor"],
        "at": iso(event["at"]),
        "task_id": event["task_id"],
        "payload": event["payload"],
    }


def instance_detail(instance: InstanceRecord, definition: DefinitionVersion, tasks: list[Mapping[str, Any]],
                    events: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        **instance_summary(instance, definition),
        "variables": instance.variables,
        "tasks": [task_view(t) for t in tasks],
        "history": [event_view(e) for e in events],
    }


def deploy_problem_view(problem: DeployProblem) -> dict[str, Any]:
    """A deploy problem or warning: the file, element and line it is at, and what is wrong."""
    return {"file": problem.file, "element": problem.element, "line": problem.line, "message": problem.message}


def user_view(user: User) -> dict[str, Any]:
    return {"name": user.name, "email": user.email, "roles": list(user.roles),
            "groups": [g.name for g in user.groups], "disabled": user.disabled, "locale": user.locale,
            "timezone": user.timezone}


def notification_view(n: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": n["id"], "kind": n["kind"], "message": n["message"], "message_id": n["message_id"],
            "params": n["params"], "instance_id": n["instance_id"], "task_id": n["task_id"],
            "created_at": iso(n["created_at"]), "read_at": iso(n["read_at"])}


def job_view(job: Mapping[str, Any]) -> dict[str, Any]:
    """An external service-task job as a worker fetches it."""
    return {"id": job["id"], "instance_id": job["instance_id"], "element_id": job["element_id"],
            "topic": job["topic"], "variables": job["payload"], "attempts": job["attempts"],
            "locked_by": job["locked_by"], "locked_until": iso(job["locked_until"]), "last_error": job["last_error"]}


def calendar_view(name: str, calendar: Calendar, is_default: bool) -> dict[str, Any]:
    if isinstance(calendar, AlwaysOpenCalendar):
        return {"name": name, "timezone": "UTC", "hours": "always open", "holidays": None, "closed": [],
                "default": is_default}
    return {
        "name": name,
        "timezone": calendar.timezone,
        "hours": {WEEKDAYS[d]: ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in spans)
                  for d, spans in calendar.hours.items()},
        "holidays": "-".join(p for p in (calendar.holiday_country, calendar.holiday_subdivision) if p) or None,
        "closed": sorted(d.isoformat() for d in calendar.closed),
        "default": is_default,
    }


def sla_target_view(key: str, version: int, element_id: str | None, duration: str,
                    calendar: str | None) -> dict[str, Any]:
    return {"key": key, "version": version, "task": element_id, "duration": duration, "calendar": calendar}


def comment_view(comment: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": comment["id"], "instance_id": comment["instance_id"], "author": comment["author"],
            "at": iso(comment["at"]), "body": comment["body"]}


class WaitView(TypedDict):
    """One thing a running case waits for besides people: a service job, a timer, a message or signal."""

    kind: Literal["service", "timer", "message", "signal"]
    element_id: str
    name: str | None  # the element's name
    on_element_id: str | None  # a boundary event: the activity it sits on ...
    on_name: str | None  # ... and that activity's name
    topic: str | None  # service: the job's topic; message, signal: its name
    due_at: str | None  # timer: when it fires; service: since when the job waits
    overdue: bool  # timer: due already, fires on the next worker pass
    answered_here: bool  # service: one of bankflow's connectors answers the topic (else an external worker)
    worker: str | None  # service: the worker working on it now
    attempts: int  # service: failed attempts so far
    last_error: str | None  # service: why the last attempt failed
    retry_at: str | None  # service: when a failed job is tried again
    retries_left: int | None  # service, after a failure: the worker's retries left before the case's incident


def wait_view(kind: str, element_id: str, name: str | None, on_element_id: str | None = None,
              on_name: str | None = None, topic: str | None = None, due_at: datetime | None = None,
              overdue: bool = False, answered_here: bool = False, worker: str | None = None, attempts: int = 0,
              last_error: str | None = None, retry_at: datetime | None = None,
              retries_left: int | None = None) -> WaitView:
    return WaitView(kind=kind, element_id=element_id, name=name, on_element_id=on_element_id,  # type: ignore
                    on_name=on_name, topic=topic, due_at=iso(due_at), overdue=overdue, answered_here=answered_here,
                    worker=worker, attempts=attempts, last_error=last_error, retry_at=iso(retry_at),
                    retries_left=retries_left)
