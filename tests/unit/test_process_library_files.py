"""The bank's process library (processes/) as files: how the models are drawn and declared,
that every task is documented and every user task has a form and an SLA, and the README.

Deploying and driving the models is in tests/service/process_library/.
"""
from __future__ import annotations

import re

import pytest
from lxml import etree

from engine.bpmn.elements import FLOW_NODE_TAGS, split_list
from engine.connectors import default_registry
from tests.helpers.process_library import DECISIONS, LIBRARY, MODELS, NS, flow_nodes, local, model_tree, properties

TASK_TAGS = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
             "receiveTask"}
ISO_DURATION = re.compile(r"^P(?=\d|T\d)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
ISO_CYCLE = re.compile(r"^R\d*/(P|\d{4}-)")
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
# approving task -> the task whose performer may not also act on it, per model
FOUR_EYES = {
    "customer_needs_identification": {"approve_needs_report": "draft_needs_report"},
    "product_design": {"committee_approval": "define_product_concept"},
    "marketing_campaign": {"compliance_review": "produce_content"},
    "customer_enquiry": {},
    "account_opening": {"high_risk_approval": "verify_identity"},
    "loan_application": {"manager_approval": "underwriter_review, escalated_review",
                         "committee_approval": "underwriter_review, escalated_review",
                         "disbursement_release": "prepare_contract"},
    "complaint_handling": {"approve_response": "draft_response"},
    "service_evaluation": {"review_report": "management_report"},
}


def bounds(shape: etree._Element) -> tuple[float, float, float, float]:
    b = shape.find("dc:Bounds", NS)
    return float(b.get("x")), float(b.get("y")), float(b.get("width")), float(b.get("height"))


def overlaps(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def within(inner, outer, slack=0.0) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack
            and inner[0] + inner[2] <= outer[0] + outer[2] + slack and inner[1] + inner[3] <= outer[1] + outer[3] + slack)


def touches(point, box, slack=2.0) -> bool:
    return within((point[0], point[1], 0, 0), box, slack)


def test_the_library_holds_every_required_model_and_decision():
    assert sorted(p.stem for p in LIBRARY.glob("*.bpmn")) == sorted(MODELS)
    assert sorted(p.stem for p in LIBRARY.glob("*.dmn")) == sorted(DECISIONS)
    assert (LIBRARY / "README.md").is_file() and (LIBRARY / "demo_users.toml").is_file()


@pytest.mark.parametrize("name", MODELS)
def test_one_executable_pool_per_model_with_lanes_for_the_departments(name):
    root = model_tree(name).getroot()
    [process] = root.findall("bpmn:process", NS)
    assert process.get("id") == name and process.get("isExecutable") == "true"
    assert (process.findtext("bpmn:documentation", namespaces=NS) or "").strip()
    [participant] = root.findall("bpmn:collaboration/bpmn:participant", NS)
    assert participant.get("processRef") == name and participant.get("name")
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    assert len(lanes) >= 2
    assert all(SNAKE.match(lane.get("name")) for lane in lanes), [lane.get("name") for lane in lanes]
    top_level = {n.get("id") for n in process if isinstance(n.tag, str) and local(n) in FLOW_NODE_TAGS}
    refs = [r.text for lane in lanes for r in lane.iterfind("bpmn:flowNodeRef", NS)]
    assert sorted(refs) == sorted(top_level), "every top-level flow node sits in exactly one lane"


@pytest.mark.parametrize("name", MODELS)
def test_every_flow_node_lane_and_sequence_flow_is_drawn_without_overlaps(name):
    root = model_tree(name).getroot()
    process = root.find("bpmn:process", NS)
    shapes = {s.get("bpmnElement"): s for s in root.iter("{%s}BPMNShape" % NS["bpmndi"])}
    edges = {e.get("bpmnElement"): e for e in root.iter("{%s}BPMNEdge" % NS["bpmndi"])}
    nodes = {n.get("id"): n for n in flow_nodes(process)}
    participant = root.find("bpmn:collaboration/bpmn:participant", NS)
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    for element_id in [*nodes, participant.get("id"), *(lane.get("id") for lane in lanes)]:
        assert element_id in shapes, f"{element_id} has no BPMNShape"
        x, y, w, h = bounds(shapes[element_id])
        assert w > 0 and h > 0
    pool = bounds(shapes[participant.get("id")])
    for lane in lanes:
        lane_box = bounds(shapes[lane.get("id")])
        assert within(lane_box, pool)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            node = nodes[ref.text]
            slack = 18 if local(node) == "boundaryEvent" else 0  # drawn on its host's edge
            assert within(bounds(shapes[ref.text]), lane_box, slack), f"{ref.text} is drawn outside its lane"
    # no two shapes overlap, except a boundary event on its host and a subprocess around its content
    related = set()
    for node_id, node in nodes.items():
        if node.get("attachedToRef"):
            related.add(frozenset((node_id, node.get("attachedToRef"))))
        parent = node.getparent()
        if local(parent) == "subProcess":
            related.add(frozenset((node_id, parent.get("id"))))
            assert within(bounds(shapes[node_id]), bounds(shapes[parent.get("id")]))
    ids = sorted(nodes)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if frozenset((a, b)) not in related:
                assert not overlaps(bounds(shapes[a]), bounds(shapes[b])), f"{a} and {b} overlap"
    flows = list(process.iter("{%s}sequenceFlow" % NS["bpmn"]))
    assert flows
    for flow in flows:
        assert flow.get("id") in edges, f"{flow.get('id')} has no BPMNEdge"
        points = [(float(p.get("x")), float(p.get("y"))) for p in edges[flow.get("id")].iterfind("di:waypoint", NS)]
        assert len(points) >= 2
        assert touches(points[0], bounds(shapes[flow.get("sourceRef")])), f"{flow.get('id')} does not leave its source"
        assert touches(points[-1], bounds(shapes[flow.get("targetRef")])), f"{flow.get('id')} does not reach its target"


@pytest.mark.parametrize("name", MODELS)
def test_every_task_is_documented_and_every_user_task_has_a_form_and_an_sla(name):
    process = model_tree(name).getroot().find("bpmn:process", NS)
    nodes = flow_nodes(process)
    user_tasks = [n for n in nodes if local(n) == "userTask"]
    assert user_tasks
    for node in nodes:
        if local(node) in TASK_TAGS:
            assert (node.findtext("bpmn:documentation", namespaces=NS) or "").strip(), f"{node.get('id')} undocumented"
            assert node.get("name"), f"{node.get('id')} has no name"
    for task in user_tasks:
        fields = task.findall("bpmn:extensionElements/camunda:formData/camunda:formField", NS)
        editable = [f for f in fields if f.find("camunda:validation/camunda:constraint[@name='readonly']", NS) is None]
        assert editable, f"{task.get('id')} has no form field to fill in"
        for field in fields:
            assert field.get("id").isidentifier() and not field.get("id").startswith("_")
            assert field.get("label") and field.get("type") in {"string", "long", "double", "decimal", "boolean",
                                                                "date", "enum"}
        props = properties(task)
        assert ISO_DURATION.match(props.get("sla", "")), f"{task.get('id')} has no valid sla: {props.get('sla')}"
        assert props.get("slaCalendar", "24x7") in {"24x7", "default"}
    process_sla = properties(process).get("sla", "")
    assert ISO_DURATION.match(process_sla), f"the process has no end-to-end sla: {process_sla!r}"


@pytest.mark.parametrize("name", MODELS)
def test_service_tasks_name_a_topic_the_demo_connectors_serve(name):
    topics = set(default_registry().topics())
    process = model_tree(name).getroot().find("bpmn:process", NS)
    for task in process.iter("{%s}serviceTask" % NS["bpmn"]):
        assert task.get("{%s}type" % NS["camunda"]) == "external"
        assert task.get("{%s}topic" % NS["camunda"]) in topics, task.get("id")


@pytest.mark.parametrize("name", MODELS)
def test_timers_are_bare_iso_8601_and_business_day_timers_name_the_calendar(name):
    process = model_tree(name).getroot().find("bpmn:process", NS)
    for definition in process.iter("{%s}timerEventDefinition" % NS["bpmn"]):
        [spec] = [c for c in definition if isinstance(c.tag, str)]
        text = (spec.text or "").strip()
        assert (ISO_CYCLE.match(text) if local(spec) == "timeCycle" else ISO_DURATION.match(text)), text
        calendar = properties(definition.getparent()).get("timerCalendar")
        assert calendar in (None, "default")


@pytest.mark.parametrize("name", MODELS)
def test_four_eyes_is_declared_where_the_library_says(name):
    process = model_tree(name).getroot().find("bpmn:process", NS)
    user_tasks = {t.get("id"): t for t in process.iter("{%s}userTask" % NS["bpmn"])}
    declared = {tid: properties(t)["fourEyes"] for tid, t in user_tasks.items() if "fourEyes" in properties(t)}
    assert declared == FOUR_EYES[name]
    assert all(preparer in user_tasks for named in declared.values() for preparer in split_list(named))


def test_readme_describes_every_model_and_decision():
    readme = (LIBRARY / "README.md").read_text(encoding="utf-8")
    for name in MODELS + DECISIONS:
        assert f"`{name}`" in readme, name
