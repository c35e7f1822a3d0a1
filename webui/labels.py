"""Words for the engine's codes (statuses, event types, roles, kinds of BPMN element), so pages show them in
the user's language.

Listed here as literal messages so that the catalogue extraction finds them.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from engine.policy.roles import Role
from engine.statuses import InstanceStatus, TaskStatus

LABELS: dict[str, object] = {
    TaskStatus.OPEN: _l("open"), TaskStatus.CLAIMED: _l("claimed"), TaskStatus.COMPLETED: _l("completed"),
    TaskStatus.CANCELLED: _l("cancelled"), InstanceStatus.RUNNING: _l("running"),
    InstanceStatus.INCIDENT: _l("incident"), "new": _l("new"), "unchanged": _l("unchanged"),
    "instance_started": _l("Case started"), "task_created": _l("Task created"), "task_claimed": _l("Task claimed"),
    "task_unclaimed": _l("Task given back"), "task_assigned": _l("Task assigned"),
    "task_completed": _l("Task completed"), "task_cancelled": _l("Task cancelled"),
    "service_completed": _l("Service answered"), "timer_fired": _l("Timer fired"),
    "sla_breached": _l("SLA breached"), "escalated": _l("Escalated"), "retried": _l("Retried"),
    "instance_completed": _l("Case completed"), "commented": _l("Comment added"),
}
# Roles and kinds of BPMN element, as the engine's messages name them (engine.errors.Code).
LABELS.update({
    Role.ADMIN: _l("admin"), Role.DESIGNER: _l("designer"), Role.MANAGER: _l("manager"), Role.STAFF: _l("staff"),
    "process": _l("process"), "task": _l("task"), "userTask": _l("user task"), "manualTask": _l("manual task"),
    "scriptTask": _l("script task"), "serviceTask": _l("service task"), "businessRuleTask": _l("business rule task"),
    "sendTask": _l("send task"), "receiveTask": _l("receive task"), "callActivity": _l("call activity"),
    "subProcess": _l("subprocess"), "adHocSubProcess": _l("ad-hoc subprocess"), "transaction": _l("transaction"),
    "startEvent": _l("start event"), "endEvent": _l("end event"), "boundaryEvent": _l("boundary event"),
    "intermediateCatchEvent": _l("intermediate catch event"),
    "intermediateThrowEvent": _l("intermediate throw event"), "exclusiveGateway": _l("exclusive gateway"),
    "parallelGateway": _l("parallel gateway"), "inclusiveGateway": _l("inclusive gateway"),
    "eventBasedGateway": _l("event based gateway"), "complexGateway": _l("complex gateway"),
    "sequenceFlow": _l("sequence flow"),
})


def label(code: str | None) -> str:
    """The code in the user's language; codes without a word are shown as they are."""
    return str(LABELS.get(code or "", code or ""))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(label=label)

