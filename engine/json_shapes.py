"""The JSON shapes of docs/architecture.md §2, §6 and §7 that the CLI, the web app and the API all print.

This is the one place they are built. Times are ISO 8601 in UTC; other tools
parse these keys, so they change only with docs/architecture.md §7 (the contract is
copied in docs/json-contract.md).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.bpmn.forms import public_fields
from engine.errors import DeployProblem
from engine.records.analytics import CsvExport, XesExport
from engine.records.calendars import CalendarRecord
from engine.records.comments import CommentRecord
from engine.records.definitions import (
    DefinitionDetail, DefinitionRecord, DeployedVersion, DeploymentRecord, ElementDetail, ProcessVersions)
from engine.records.history import EventRecord
from engine.records.instances import CaseDetail, CaseSummary, Wait
from engine.records.jobs import JobRecord
from engine.records.notifications import NotificationRecord
from engine.records.setup import DatabaseReport, DemoReport
from engine.records.sla_targets import SlaTargetRecord
from engine.records.tasks import TaskRecord
from engine.records.users import UserRecord
from engine.records.workers import HealthReport, WorkerState
from engine.sla.business_calendar import AlwaysOpenCalendar
from engine.statuses import InstanceStatus

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def definition_view(definition: DefinitionRecord) -> dict[str, Any]:
    return {
        "key": definition.key,
        "version": definition.version,
        "name": definition.name,
        "deployed_at": iso(definition.deployed_at),
        "deployment_id": definition.deployment_id,
        "active": definition.active,
        "sla_target": definition.sla_target,
        "starter_groups": list(definition.starter_groups),
        "starter_users": list(definition.starter_users),
    }


def instance_summary(case: CaseSummary) -> dict[str, Any]:
    return {
        "id": case.id,
        "definition_key": case.definition_key,
        "version": case.version,
        "status": case.status,
        "business_key": case.business_key,
        "started_at": iso(case.started_at),
        "started_by": case.started_by,
        "ended_at": iso(case.ended_at),
        "incident": (
            {"element_id": case.incident_element, "message": case.incident_message}
            if case.status == InstanceStatus.INCIDENT else None
        ),
    }


def task_view(task: TaskRecord) -> dict[str, Any]:
    """A human task (docs/json-contract.md, "Tasks")."""
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "element_id": task.element_id,
        "name": task.name,
        "lane": task.lane,
        "candidate_groups": list(task.candidate_groups),
        "candidate_users": list(task.candidate_users),
        "assignee": task.assignee,
        "status": task.status,
        "priority": task.priority,
        "created_at": iso(task.created_at),
        "claimed_at": iso(task.claimed_at),
        "completed_at": iso(task.completed_at),
        "completed_by": task.completed_by,
        "due_at": iso(task.due_at),
        "sla_status": task.sla_status,
        "form": public_fields(task.form),
    }


def completion_view(task: TaskRecord, case: CaseSummary) -> dict[str, Any]:
    """A completed task and the case it moved on (`complete --json`)."""
    return {"task": task_view(task), "instance": instance_summary(case)}


def event_view(event: EventRecord) -> dict[str, Any]:
    return {
        "type": event.type,
        "element_id": event.element_id,
        "actor": event.actor,
        "at": iso(event.at),
        "task_id": event.task_id,
        "payload": event.payload,
    }


def instance_detail(case: CaseDetail) -> dict[str, Any]:
    return {
        **instance_summary(case),
        "variables": case.variables,
        "tasks": [task_view(t) for t in case.tasks],
        "history": [event_view(e) for e in case.history],
        "waiting": [wait_view(w) for w in case.waiting],
    }


def deploy_problem_view(problem: DeployProblem) -> dict[str, Any]:
    """A deploy problem or warning: the file, element and line it is at, and what is wrong."""
    return {"file": problem.file, "element": problem.element, "line": problem.line, "message": problem.message}


def deployed_version_view(deployed: DeployedVersion) -> dict[str, Any]:
    return {"key": deployed.key, "version": deployed.version, "name": deployed.name, "status": deployed.status}


def deployment_view(deployment: DeploymentRecord) -> dict[str, Any]:
    """What a deployment did (`deploy --json`)."""
    return {"deployment_id": deployment.id, "definitions": [deployed_version_view(d) for d in deployment.definitions],
            "warnings": [deploy_problem_view(w) for w in deployment.warnings]}


def process_versions_view(process: ProcessVersions) -> dict[str, Any]:
    """A process in the designer's workspace: its versions, newest first."""
    return {"key": process.key, "name": process.name, "versions": [definition_view(v) for v in process.versions],
            "starting_version": process.starting_version}


def element_detail_view(element: ElementDetail) -> dict[str, Any]:
    return {"id": element.id, "type": element.type, "name": element.name, "lane": element.lane,
            "documentation": element.documentation, "candidate_groups": list(element.candidate_groups),
            "candidate_users": list(element.candidate_users), "assignee": element.assignee,
            "assignee_is_user": element.assignee_is_user, "sla": element.sla, "sla_calendar": element.sla_calendar,
            "form": list(element.form)}


def definition_detail_view(detail: DefinitionDetail) -> dict[str, Any]:
    """A definition version as the designer page shows it."""
    return {**definition_view(detail.definition), "sla_calendar": detail.definition.sla_calendar,
            "versions": [definition_view(v) for v in detail.versions], "starting_version": detail.starting_version,
            "lanes": list(detail.lanes), "elements": [element_detail_view(e) for e in detail.elements],
            "files": list(detail.files)}


def user_view(user: UserRecord) -> dict[str, Any]:
    return {"name": user.name, "email": user.email, "roles": list(user.roles), "groups": list(user.groups),
            "disabled": user.disabled, "locale": user.locale, "timezone": user.timezone}


def notification_view(n: NotificationRecord) -> dict[str, Any]:
    return {"id": n.id, "kind": n.kind, "message": n.message, "message_id": n.message_id, "params": n.params,
            "instance_id": n.instance_id, "task_id": n.task_id, "created_at": iso(n.created_at),
            "read_at": iso(n.read_at)}


def job_view(job: JobRecord) -> dict[str, Any]:
    """An external service-task job as a worker fetches it."""
    return {"id": job.id, "instance_id": job.instance_id, "element_id": job.element_id, "topic": job.topic,
            "variables": job.payload, "attempts": job.attempts, "locked_by": job.locked_by,
            "locked_until": iso(job.locked_until), "last_error": job.last_error}


def calendar_view(record: CalendarRecord) -> dict[str, Any]:
    calendar = record.calendar
    if isinstance(calendar, AlwaysOpenCalendar):
        return {"name": record.name, "timezone": "UTC", "hours": "always open", "holidays": None, "closed": [],
                "default": record.is_default}
    return {
        "name": record.name,
        "timezone": calendar.timezone,
        "hours": {WEEKDAYS[d]: ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in spans)
                  for d, spans in calendar.hours.items()},
        "holidays": "-".join(p for p in (calendar.holiday_country, calendar.holiday_subdivision) if p) or None,
        "closed": sorted(d.isoformat() for d in calendar.closed),
        "default": record.is_default,
    }


def sla_target_view(target: SlaTargetRecord) -> dict[str, Any]:
    return {"key": target.key, "version": target.version, "task": target.element_id, "duration": target.duration,
            "calendar": target.calendar}


def database_report_view(report: DatabaseReport) -> dict[str, Any]:
    """What `init-db` did."""
    return {"schema": report.schema, "default_calendar_loaded": report.default_calendar_loaded,
            "database": report.database}


def demo_report_view(report: DemoReport) -> dict[str, Any]:
    """What `demo` did."""
    return {"database": database_report_view(report.database), "library": report.library,
            "definitions": [deployed_version_view(d) for d in report.definitions],
            "users_added": list(report.users_added), "history": report.history}


def worker_status_view(state: WorkerState) -> dict[str, Any]:
    """Whether a worker runs (`status`: ok, idle or overdue), for pages and monitoring."""
    return {"status": state.status, "last_pass_at": iso(state.last_pass_at),
            "waiting_since": iso(state.waiting_since), "minutes": state.minutes}


def health_view(report: HealthReport) -> dict[str, Any]:
    """What /health answers."""
    return {"status": report.status, "database": report.database, "dialect": report.dialect,
            "worker": {"status": report.worker_status, "last_pass_at": iso(report.last_pass_at)}}


def comment_view(comment: CommentRecord) -> dict[str, Any]:
    return {"id": comment.id, "instance_id": comment.instance_id, "author": comment.author, "at": iso(comment.at),
            "body": comment.body}


def wait_view(wait: Wait) -> dict[str, Any]:
    """One thing a running case waits for besides people (see `Wait`)."""
    return {"kind": wait.kind, "element_id": wait.element_id, "name": wait.name, "on_element_id": wait.on_element_id,
            "on_name": wait.on_name, "topic": wait.topic, "due_at": iso(wait.due_at), "overdue": wait.overdue,
            "answered_here": wait.answered_here, "worker": wait.worker, "attempts": wait.attempts,
            "last_error": wait.last_error, "retry_at": iso(wait.retry_at), "retries_left": wait.retries_left}


def xes_export_view(file: str, export: XesExport) -> dict[str, Any]:
    return {"file": file, "traces": export.traces, "events": export.events}


def csv_export_view(export: CsvExport) -> dict[str, Any]:
    return {"directory": export.directory, "processes": list(export.processes),
            "files": {name: {"path": f.path, "rows": f.rows} for name, f in export.files.items()}}
