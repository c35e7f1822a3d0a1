"""Read what bankflow needs about each flow node straight from the BPMN XML.

SpiffWorkflow's specs know how to run a node; bankflow also needs who may work on
it (lanes, candidate groups and users, assignee), its form, priority, due date and
properties such as `sla`. These are extracted once at deploy into plain dicts that
are stored with the process definition, so the runtime never re-reads XML.
"""
from __future__ import annotations

import re
from typing import Any

from lxml import etree

from engine.errors import Code, Listing, Message

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS, "zeebe": ZEEBE_NS}

# `performer`: who does the work; the analytics show the customer's activities apart.
PERFORMER_PROPERTY = "performer"
CUSTOMER, STAFF = "customer", "staff"
PERSON_TASK_TAGS = {"task", "userTask", "manualTask", "receiveTask"}

FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
    "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
}


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


KIND_NAMES = {"subProcess": "subprocess", "adHocSubProcess": "ad-hoc subprocess"}


def kind_name(tag: str) -> str:
    """An element kind as a designer says it: 'userTask' or 'bpmn:userTask' -> 'user task'."""
    local = tag.rpartition("}")[2].rpartition(":")[2]
    return KIND_NAMES.get(local) or re.sub(r"(?<!^)(?=[A-Z])", " ", local).lower()


def subject(kind: str | None, element_id: str | None) -> str:
    """How a message names an element: "user task Task_1" (just the id when the kind is unknown,
    "the file" when both are); the kind is a code, said in the reader's language."""
    if not element_id:
        return Message("the file")
    if not kind:
        return element_id
    local = kind.rpartition("}")[2].rpartition(":")[2]
    return Message("%(kind)s %(id)s", kind=Code(local, kind_name(local)), id=element_id)


def joined(items: list) -> str:
    """Items for a message: "a", "a and b", "a, b and c"."""
    return Listing(items, "and")


def is_expression(text: str | None) -> bool:
    """Whether an attribute such as `camunda:assignee` is a `${...}` / `#{...}` expression, not a literal."""
    return variable_reference(text) is not None


def split_list(value: str | None) -> list[str]:
    """Camunda's comma-separated lists ('credit, risk') as a clean list."""
    if not value:
        return []
    return [item.strip() for item in value.split(",") if item.strip()]


def lanes_by_node(process: etree._Element) -> dict[str, etree._Element]:
    """Flow node id -> the innermost lane that holds it."""
    result: dict[str, etree._Element] = {}
    # Document order visits outer lanes before their child lanes, so inner lanes win.
    for lane in process.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                result[ref.text.strip()] = lane
    return result


def performer(node: etree._Element, lane: etree._Element | None) -> str:
    """Who does a node's work: `customer` or `staff`.

    The `performer` extension property (Camunda Modeler: Extension properties) on
    the node says it; else the same property on its lane, which marks the lane's
    tasks a person does or waits for (automated steps in it stay the bank's).
    """
    own = properties(node).get(PERFORMER_PROPERTY)
    if own is None and lane is not None and local_name(node) in PERSON_TASK_TAGS:
        own = properties(lane).get(PERFORMER_PROPERTY)
    return CUSTOMER if (own or "").strip().lower() == CUSTOMER else STAFF


def properties(node: etree._Element) -> dict[str, str]:
    """`camunda:properties` and `spiffworkflow:properties` of a node, merged."""
    found: dict[str, str] = {}
    for prop in node.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS):
        if prop.get("name"):
            found[prop.get("name")] = prop.get("value", "")
    for prop in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        if prop.get("name"):
            found[prop.get("name")] = prop.get("value", "")
    return found


def form_fields(node: etree._Element) -> list[dict[str, Any]]:
    """`camunda:formData/formField`s, read with or without a `formKey`."""
    fields = []
    for xml_field in node.iterfind("bpmn:extensionElements/camunda:formData/camunda:formField", NS):
        constraints = {
            c.get("name"): c.get("config")
            for c in xml_field.iterfind("camunda:validation/camunda:constraint", NS)
            if c.get("name")
        }
        field: dict[str, Any] = {
            "id": xml_field.get("id"),
            "label": xml_field.get("label") or xml_field.get("id"),
            "type": xml_field.get("type") or "string",
            "required": "required" in constraints,
            "options": [
                {"id": v.get("id"), "name": v.get("name") or v.get("id")}
                for v in xml_field.iterfind("camunda:value", NS)
            ],
            "default": xml_field.get("defaultValue"),
            "line": xml_field.sourceline,
        }
        for name in ("min", "max", "minlength", "maxlength"):
            if name in constraints:
                field[name] = constraints[name]
        if "readonly" in constraints:
            field["readonly"] = True
        fields.append(field)
    return fields


def documentation(node: etree._Element) -> str | None:
    texts = [d.text.strip() for d in node.iterfind("bpmn:documentation", NS) if d.text and d.text.strip()]
    return "\n".join(texts) or None


def camunda(node: etree._Element, name: str) -> str | None:
    return node.get(f"{{{CAMUNDA_NS}}}{name}")


def describe_node(node: etree._Element, lane: etree._Element | None) -> dict[str, Any]:
    """Everything bankflow keeps about one flow node."""
    info: dict[str, Any] = {
        "type": local_name(node),
        "name": node.get("name"),
        "lane": None if lane is None else lane.get("name") or lane.get("id"),
        "performer": performer(node, lane),
        "line": node.sourceline,
        "documentation": documentation(node),
        "properties": properties(node),
    }
    if info["type"] == "userTask":
        info.update(
            candidate_groups=split_list(camunda(node, "candidateGroups")),
            candidate_users=split_list(camunda(node, "candidateUsers")),
            assignee=camunda(node, "assignee"),
            due_date=camunda(node, "dueDate"),
            priority=camunda(node, "priority"),
            form_key=camunda(node, "formKey"),
            form=form_fields(node),
        )
    elif info["type"] == "startEvent":
        info["form"] = form_fields(node)
    elif info["type"] == "businessRuleTask":
        info["decision_ref"] = decision_ref(node)
    elif info["type"] == "serviceTask":
        info["topic"] = service_topic(node)
    timer = timer_of(node)
    if timer:
        info["timer"] = timer
    return info


TIMER_KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}


def timer_of(node: etree._Element) -> dict[str, Any] | None:
    """The timer of an event as written in the file: kind, value and working-time calendar."""
    definition = node.find("bpmn:timerEventDefinition", NS)
    if definition is None:
        return None
    for child in definition:
        if isinstance(child.tag, str) and local_name(child) in TIMER_KINDS:
            return {"kind": TIMER_KINDS[local_name(child)], "expression": (child.text or "").strip(),
                    "calendar": properties(node).get("timerCalendar"),
                    "interrupting": node.get("cancelActivity", "true") != "false"}
    return None


def service_topic(node: etree._Element) -> str | None:
    """The connector topic a service task waits on.

    `camunda:type="external"` names it with `camunda:topic` (Camunda 8:
    `zeebe:taskDefinition type`); a Java delegate
    reference (`camunda:delegateExpression="${interestService}"`, `camunda:class`,
    `camunda:expression`) cannot run here, so its name becomes the topic and a
    connector registered in code answers it instead (deploy refuses a delegate
    no connector answers).
    """
    if camunda(node, "type") == "external":
        return (camunda(node, "topic") or "").strip() or None
    zeebe_task = node.find("bpmn:extensionElements/zeebe:taskDefinition", NS)
    if zeebe_task is not None and (zeebe_task.get("type") or "").strip():
        return zeebe_task.get("type").strip()
    delegate = java_delegate(node)
    if delegate:
        return variable_reference(delegate[1]) or delegate[1]
    return None


JAVA_DELEGATE_ATTRIBUTES = ("delegateExpression", "class", "expression")


def java_delegate(node: etree._Element) -> tuple[str, str] | None:
    """(attribute, value) of a Camunda 7 Java delegate reference on a task, e.g.
    ("delegateExpression", "${interestService}"), or None."""
    for attribute in JAVA_DELEGATE_ATTRIBUTES:
        value = (camunda(node, attribute) or "").strip()
        if value:
            return attribute, value
    return None


def variable_reference(text: str | None) -> str | None:
    """The name in a `${name}` or `#{name}` reference, or None when `text` is not one."""
    text = (text or "").strip()
    if text.startswith(("${", "#{")) and text.endswith("}"):
        return text[2:-1].strip()
    return None


def referenced_value(text: str | None, data: dict[str, Any]) -> Any:
    """What an attribute such as `camunda:assignee` or `camunda:dueDate` means for a task with
    `data`: the variable's value for a `${name}` reference, else the text itself."""
    name = variable_reference(text)
    return data.get(name) if name is not None else (text.strip() if text else None)


def describe_process(process: etree._Element) -> dict[str, dict[str, Any]]:
    """Element id -> description, for every flow node of a process and its subprocesses."""
    lanes = lanes_by_node(process)
    described = {}
    for node in process.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN_NS:
            continue
        if local_name(node) in FLOW_NODE_TAGS and node.get("id"):
            described[node.get("id")] = describe_node(node, _lane_of(node, process, lanes))
    return described


def _lane_of(node: etree._Element, process: etree._Element,
             lanes: dict[str, etree._Element]) -> etree._Element | None:
    """A node's own lane, else the lane of the subprocess that contains it."""
    while node is not None and node is not process:
        if node.get("id") in lanes:
            return lanes[node.get("id")]
        node = node.getparent()
    return None


def decision_ref(node: etree._Element) -> str | None:
    """The DMN decision a business rule task evaluates: `camunda:decisionRef`, or
    SpiffWorkflow's `spiffworkflow:calledDecisionId`."""
    ref = (camunda(node, "decisionRef") or "").strip()
    if not ref:
        called = node.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NS)
        ref = (called.text or "").strip() if called is not None else ""
    return ref or None


def called_element(node: etree._Element) -> str | None:
    """The process a call activity calls: `calledElement`, or Camunda 8's `zeebe:calledElement processId`."""
    called = (node.get("calledElement") or "").strip()
    if not called:
        zeebe = node.find("bpmn:extensionElements/zeebe:calledElement", NS)
        called = (zeebe.get("processId") or "").strip() if zeebe is not None else ""
    return called or None
