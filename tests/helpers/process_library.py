"""The bank's process library (processes/) as the tests read and drive it.

Reading the XML (for the structure tests) and driving a case through the service layer
(claim and complete a task, answer service tasks with the demo connectors, check the
end state). The deployed library itself is the `bank` / `open_bank` fixture in
tests/service/process_library/conftest.py.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from engine.bpmn.elements import FLOW_NODE_TAGS
from engine.connectors import default_registry
from engine.errors import PermissionDenied
from engine.records.instances import CaseDetail, CaseSummary
from engine.records.tasks import TaskRecord
from engine.services import instances, tasks, users
from engine.services.worker import run_connectors

LIBRARY = Path(__file__).resolve().parents[2] / "processes"
MODELS = ["customer_needs_identification", "product_design", "marketing_campaign", "customer_enquiry",
          "account_opening", "loan_application", "complaint_handling", "service_evaluation"]
DECISIONS = ["account_risk_rating", "credit_decision"]
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}
# Business-day timers and SLAs run on the default business calendar (head office,
# Asia/Shanghai, 09:00-17:00 on working days, Chinese public holidays). Timer tests start
# on Monday 2 March 2026, 10:00 in Shanghai: no holidays in the weeks that follow, so
# "10 business days" is Monday 16 March, 10:00.
MONDAY_10_SHANGHAI = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


# --- reading the XML -------------------------------------------------------------------------

def model_tree(name: str) -> etree._ElementTree:
    return etree.parse(str(LIBRARY / f"{name}.bpmn"))


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def flow_nodes(process: etree._Element) -> list[etree._Element]:
    return [e for e in process.iter() if isinstance(e.tag, str)
            and etree.QName(e).namespace == NS["bpmn"] and local(e) in FLOW_NODE_TAGS]


def properties(node: etree._Element) -> dict[str, str]:
    return {p.get("name"): p.get("value")
            for p in node.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS)}


# --- driving the models -------------------------------------------------------------------------

def open_tasks(ctx, instance_id) -> dict[str, TaskRecord]:
    found = tasks.list_tasks(ctx, instance_id=instance_id)
    by_element = {t.element_id: t for t in found}
    assert len(by_element) == len(found), found
    return by_element


def work(ctx, instance_id, element_id, user, data=None) -> CaseSummary:
    """`user` claims the open task of `element_id` (unless it is theirs already) and completes it."""
    waiting = open_tasks(ctx, instance_id)
    assert element_id in waiting, f"{element_id} is not open; open tasks: {sorted(waiting)}"
    task = waiting[element_id]
    if task.assignee != user:
        tasks.claim(ctx, task.id, user)
    return tasks.complete(ctx, task.id, user, data or {}).instance


def serve(ctx) -> dict:
    """Answer every waiting service task with the demo connectors."""
    return run_connectors(ctx, default_registry(), "test-worker")


def finished(ctx, instance_id) -> CaseDetail:
    detail = instances.get_instance(ctx, instance_id)
    assert detail.status == "completed", (detail.status, detail.incident_message)
    assert tasks.list_tasks(ctx, instance_id=instance_id) == []
    return detail


def performed(detail) -> list[tuple[str, str]]:
    """Who did what: completed user and service tasks in order, with the performer."""
    return [(e.element_id, e.actor) for e in detail.history
            if e.type in ("task_completed", "service_completed")]


def extra_user(ctx, name, *groups):
    users.add_user(ctx, name, "secret123", groups=list(groups))
    return name


def refused(ctx, instance_id, element_id, user):
    task = open_tasks(ctx, instance_id)[element_id]
    with pytest.raises(PermissionDenied, match="four-eyes"):
        tasks.claim(ctx, task.id, user)
    return task


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def events(ctx, instance_id, type_):
    return [e for e in instances.get_instance(ctx, instance_id).history if e.type == type_]


def task_status(ctx, instance_id, element_id):
    return [t.status for t in instances.get_instance(ctx, instance_id).tasks if t.element_id == element_id]
