"""The JSON shapes of DESIGN §7 that the CLI, the web app and the API all print.

Times are ISO 8601 in UTC; other tools parse these keys, so they change only with
the design document.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from engine.bpmn.forms import public_fields
from engine.store.instance_rows import InstanceRecord
from engine.store.models import ProcessDefinition


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
    }


def instance_summary(instance: InstanceRecord) -> dict[str, Any]:
    return {
        "id": instance.id,
        "definition_key": instance.definition.key,
        "version": instance.definition.version,
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


def instance_detail(instance: InstanceRecord, tasks: list[Mapping[str, Any]],
                    events: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        **instance_summary(instance),
        "variables": instance.variables,
        "tasks": [task_view(t) for t in tasks],
        "history": [event_view(e) for e in events],
    }
