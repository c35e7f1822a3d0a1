"""The bank's process library (processes/): how the models are drawn and declared, that
they deploy, the demo users, the decision tables, and every non-timer path of every
model driven to its end through the service layer (instances, tasks, worker).

Paths that need a timer or an SLA breach to fire are in test_process_library_timers.py.
"""
from __future__ import annotations

import re
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from engine.services import calendars, demo_data, deployments, instances, tasks, users
from engine.bpmn.elements import FLOW_NODE_TAGS, split_list
from engine.bpmn.intake import SourceFile
from engine.connectors import default_registry
from engine.errors import PermissionDenied
from engine.services.worker import run_connectors

LIBRARY = Path(__file__).resolve().parents[3] / "processes"
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


# --- structure of the files ------------------------------------------------------------------

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


# --- deployment and demo users -----------------------------------------------------------------

def test_the_whole_library_deploys_and_redeploying_it_changes_nothing(ctx):
    first = deployments.deploy(ctx, deployments.read_sources([LIBRARY]), user=None)
    assert {(d["key"], d["version"], d["status"]) for d in first["definitions"]} == {(m, 1, "new") for m in MODELS}
    again = deployments.deploy(ctx, deployments.read_sources([LIBRARY]))
    assert again["deployment_id"] is None and {d["status"] for d in again["definitions"]} == {"unchanged"}
    targets = {d["key"]: d["sla_target"] for d in deployments.list_definitions(ctx)}
    assert targets["account_opening"] == "P3D" and all(targets.values())


def test_demo_users_cover_every_lane_and_role(ctx):
    text = (LIBRARY / "demo_users.toml").read_text(encoding="utf-8")
    assert text.startswith("# DEMO-ONLY CREDENTIALS.")
    report = demo_data.load_demo(ctx, LIBRARY)
    assert len(report["definitions"]) == len(MODELS)
    seeded = {u["name"]: u for u in users.list_users(ctx)}
    assert set(report["users_added"]) == set(tomllib.loads(text)["users"]) == set(seeded)
    members = {g for u in seeded.values() for g in u["groups"]}
    roles = {r for u in seeded.values() for r in u["roles"]}
    assert {"admin", "designer", "manager", "staff"} <= roles
    groups = set()
    for name in MODELS:
        process = model_tree(name).getroot().find("bpmn:process", NS)
        groups |= {lane.get("name") for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)}
        groups |= {g.strip() for t in process.iter("{%s}userTask" % NS["bpmn"])
                   for g in (t.get("{%s}candidateGroups" % NS["camunda"]) or "").split(",") if g.strip()}
    assert groups - members == set(), "every lane and candidate group has a demo user"


# --- driving the models -------------------------------------------------------------------------

@pytest.fixture
def bank(ctx):
    """The shipped calendar, the library and the demo users, as `bankflow serve` sets them up."""
    calendars.ensure_default_calendars(ctx)
    demo_data.load_demo(ctx, LIBRARY)
    return ctx


def open_tasks(ctx, instance_id) -> dict[str, dict]:
    found = tasks.list_tasks(ctx, instance_id=instance_id)
    by_element = {t["element_id"]: t for t in found}
    assert len(by_element) == len(found), found
    return by_element


def work(ctx, instance_id, element_id, user, data=None) -> dict:
    """`user` claims the open task of `element_id` (unless it is theirs already) and completes it."""
    waiting = open_tasks(ctx, instance_id)
    assert element_id in waiting, f"{element_id} is not open; open tasks: {sorted(waiting)}"
    task = waiting[element_id]
    if task["assignee"] != user:
        tasks.claim(ctx, task["id"], user)
    return tasks.complete(ctx, task["id"], user, data or {})["instance"]


def serve(ctx) -> dict:
    """Answer every waiting service task with the demo connectors."""
    return run_connectors(ctx, default_registry(), "test-worker")


def finished(ctx, instance_id) -> dict:
    detail = instances.get_instance(ctx, instance_id)
    assert detail["status"] == "completed", (detail["status"], detail["incident"])
    assert tasks.list_tasks(ctx, instance_id=instance_id) == []
    return detail


def performed(detail) -> list[tuple[str, str]]:
    """Who did what: completed user and service tasks in order, with the performer."""
    return [(e["element_id"], e["actor"]) for e in detail["history"]
            if e["type"] in ("task_completed", "service_completed")]


def extra_user(ctx, name, *groups):
    users.add_user(ctx, name, "secret123", groups=list(groups))
    return name


def refused(ctx, instance_id, element_id, user):
    task = open_tasks(ctx, instance_id)[element_id]
    with pytest.raises(PermissionDenied, match="four-eyes"):
        tasks.claim(ctx, task["id"], user)
    return task


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- 1. customer needs identification ------------------------------------------------------------

PLAN = {"study_title": "Retail needs 2026", "segment": "retail", "target_sample_size": 400,
        "focus_group_sessions": 3, "study_deadline": "2026-03-31"}


def needs_research(ctx, top_need_focus="digital_self_service", churn="low", researcher="maya"):
    case = instances.start(ctx, "customer_needs_identification", business_key="NEEDS-1", user=researcher)
    work(ctx, case["id"], "plan_study", researcher, PLAN)
    assert set(open_tasks(ctx, case["id"])) == {"questionnaire_survey", "focus_group"}
    work(ctx, case["id"], "questionnaire_survey", researcher,
         {"responses_received": 300, "survey_channel": "online", "top_need_survey": "digital_self_service",
          "survey_satisfaction": 7.5})
    work(ctx, case["id"], "focus_group", researcher,
         {"participants": 24, "top_need_focus_group": top_need_focus, "focus_group_notes": "App is too slow."})
    assert serve(ctx)["completed"] == 1
    work(ctx, case["id"], "interpret_analytics", "dora",
         {"digital_share_pct": 68.0, "churn_risk": churn, "analytics_summary": "Digital share rising."})
    return case["id"]


DRAFT = {"report_summary": "Retail customers want faster digital self-service.", "priority_need":
         "digital_self_service", "recommended_actions": "Redesign the app's payment flows."}


def test_needs_study_approved_updates_crm_and_briefs_relationship_managers(bank):
    case_id = needs_research(bank)
    assert open_tasks(bank, case_id)["draft_needs_report"]["candidate_groups"] == ["market_research"]
    work(bank, case_id, "draft_needs_report", "maya", DRAFT)
    approval = open_tasks(bank, case_id)["approve_needs_report"]
    assert approval["candidate_groups"] == ["retail_management"]
    work(bank, case_id, "approve_needs_report", "hugo", {"report_decision": "approve", "approval_comment": "Go."})
    assert serve(bank)["completed"] == 1
    work(bank, case_id, "brief_relationship_managers", "rita",
         {"briefing_date": "2026-02-02", "branches_briefed": 42, "follow_up_campaign": True})
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert v["primary_need"] == "digital_self_service" and v["needs_aligned"] is True
    assert v["response_rate_pct"] == 75.0 and v["history_analysed"] is True
    assert v["crm_updated"] is True and v["crm_contacts_logged"] == 324 and v["crm_interaction_id"].startswith("CRM-")
    assert v["report_decision"] == "approve" and v["branches_briefed"] == 42
    assert performed(detail) == [
        ("plan_study", "maya"), ("questionnaire_survey", "maya"), ("focus_group", "maya"),
        ("transaction_analysis", "test-worker"), ("interpret_analytics", "dora"), ("draft_needs_report", "maya"),
        ("approve_needs_report", "hugo"), ("crm_update", "test-worker"), ("brief_relationship_managers", "rita")]


def test_needs_report_sent_back_for_rework_then_approved(bank):
    case_id = needs_research(bank)
    work(bank, case_id, "draft_needs_report", "maya", DRAFT)
    work(bank, case_id, "approve_needs_report", "hugo",
         {"report_decision": "rework", "approval_comment": "Quantify the fee issue."})
    redraft = {**DRAFT, "report_summary": "Retail customers want faster self-service; fees matter to 30%."}
    work(bank, case_id, "draft_needs_report", "maya", redraft)
    work(bank, case_id, "approve_needs_report", "hugo", {"report_decision": "approve"})
    serve(bank)
    work(bank, case_id, "brief_relationship_managers", "rita",
         {"briefing_date": "2026-02-02", "branches_briefed": 5, "follow_up_campaign": False})
    detail = finished(bank, case_id)
    assert detail["variables"]["report_summary"] == redraft["report_summary"]
    assert [e for e, _ in performed(detail)].count("draft_needs_report") == 2
    assert [e for e, _ in performed(detail)].count("approve_needs_report") == 2


def test_needs_report_rejected_closes_the_study_without_crm_update(bank):
    case_id = needs_research(bank, top_need_focus="lower_fees", churn="high")
    work(bank, case_id, "draft_needs_report", "maya", DRAFT)
    work(bank, case_id, "approve_needs_report", "hugo", {"report_decision": "reject", "approval_comment": "Too thin."})
    detail = finished(bank, case_id)
    v = detail["variables"]
    # survey and focus groups disagree and churn risk is high: the focus group's need leads
    assert v["needs_aligned"] is False and v["primary_need"] == "lower_fees"
    assert "crm_updated" not in v
    assert performed(detail)[-1] == ("approve_needs_report", "hugo")


def test_needs_report_author_cannot_approve_it(bank):
    both = extra_user(bank, "remy", "market_research", "retail_management")
    case_id = needs_research(bank, researcher=both)
    work(bank, case_id, "draft_needs_report", both, DRAFT)
    refused(bank, case_id, "approve_needs_report", both)
    work(bank, case_id, "approve_needs_report", "hugo", {"report_decision": "reject"})
    assert finished(bank, case_id)["variables"]["report_decision"] == "reject"


# --- 2. product design and development ---------------------------------------------------------

CONCEPT = {"product_name": "Green Saver", "product_type": "deposit", "target_segment": "youth",
           "customer_need": "Saving for the first flat", "uses_ai": False, "uses_blockchain": False,
           "target_launch": "2026-09-01"}


def product_designed(ctx, concept=CONCEPT, owner="pam"):
    case = instances.start(ctx, "product_design", business_key="PRD-1", user=owner)
    work(ctx, case["id"], "define_product_concept", owner, concept)
    assert set(open_tasks(ctx, case["id"])) == {"marketing_brief", "rd_design", "risk_review"}
    work(ctx, case["id"], "marketing_brief", "mia",
         {"price_positioning": "value", "key_message": "Your first flat, sooner.", "expected_customers_year1": 20000})
    work(ctx, case["id"], "rd_design", "ravi",
         {"design_summary": "Goal-based savings pots.", "feature_count": 6, "development_cost": 1200000,
          "development_weeks": 16})
    work(ctx, case["id"], "risk_review", "rosa",
         {"product_risk_level": "low", "risk_conditions": "", "regulatory_approval_needed": False})
    return case["id"]


def codesign(ctx, case_id, verdict):
    work(ctx, case_id, "run_codesign", "pam",
         {"panel_size": 12, "customer_verdict": verdict, "customer_feedback": "Needs a round-up feature."})


def test_product_accepted_by_customers_and_approved_by_committee(bank):
    case_id = product_designed(bank)
    codesign(bank, case_id, "accepted")
    assert set(open_tasks(bank, case_id)) == {"committee_approval"}, "no AI/blockchain: no technology review"
    work(bank, case_id, "committee_approval", "pia",
         {"committee_decision": "approve", "committee_comment": "Launch in Q3.", "launch_quarter": "2026-Q3"})
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert v["product_status"] == "approved" and v["product_code"] == "PRD-DEPOSIT-1" and v["codesign_round"] == 1
    assert performed(detail) == [("define_product_concept", "pam"), ("marketing_brief", "mia"), ("rd_design", "ravi"),
                                 ("risk_review", "rosa"), ("run_codesign", "pam"), ("committee_approval", "pia")]


def test_ai_product_reworked_after_a_rejected_round_then_technology_review(bank):
    case_id = product_designed(bank, {**CONCEPT, "product_name": "Robo Saver", "uses_ai": True})
    codesign(bank, case_id, "rejected")
    work(bank, case_id, "revise_design", "ravi", {"revision_summary": "Added round-up.", "features_changed": 1})
    codesign(bank, case_id, "accepted")
    work(bank, case_id, "technology_review", "tom",
         {"architecture_approved": True, "model_explainability": "documented", "security_findings": "none"})
    work(bank, case_id, "committee_approval", "pia", {"committee_decision": "approve", "committee_comment": "OK"})
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert v["codesign_round"] == 2 and v["product_code"] == "PRD-DEPOSIT-2" and v["architecture_approved"] is True
    assert [e for e, _ in performed(detail)][4:] == ["run_codesign", "revise_design", "run_codesign",
                                                     "technology_review", "committee_approval"]


def test_product_shelved_when_customers_reject_every_co_design_round(bank):
    case_id = product_designed(bank, {**CONCEPT, "uses_blockchain": True})
    for _ in range(2):
        codesign(bank, case_id, "rejected")
        work(bank, case_id, "revise_design", "ravi", {"revision_summary": "Changed fees.", "features_changed": 2})
    codesign(bank, case_id, "rejected")
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert v["product_status"] == "shelved" and v["codesign_round"] == 3
    assert v["shelved_reason"] == "customers rejected the design in 3 co-design rounds"
    assert "technology_review" not in [e for e, _ in performed(detail)]


def test_product_rejected_by_committee_records_lessons_learned(bank):
    case_id = product_designed(bank)
    codesign(bank, case_id, "accepted")
    work(bank, case_id, "committee_approval", "pia",
         {"committee_decision": "reject", "committee_comment": "Margin too thin."})
    work(bank, case_id, "record_rejection", "pam", {"lessons_learned": "Price the product before co-design."})
    detail = finished(bank, case_id)
    assert detail["variables"]["committee_decision"] == "reject" and "product_status" not in detail["variables"]
    assert performed(detail)[-2:] == [("committee_approval", "pia"), ("record_rejection", "pam")]


def test_product_owner_cannot_approve_their_own_product(bank):
    both = extra_user(bank, "paolo", "product_management", "product_committee")
    case_id = product_designed(bank, owner=both)
    work(bank, case_id, "run_codesign", "pam",
         {"panel_size": 5, "customer_verdict": "accepted", "customer_feedback": "Fine."})
    refused(bank, case_id, "committee_approval", both)
    work(bank, case_id, "committee_approval", "pia", {"committee_decision": "approve", "committee_comment": "OK"})
    assert finished(bank, case_id)["variables"]["product_status"] == "approved"


# --- 3. marketing campaign (up to the 30-day wait; the rest is in the timer tests) --------------

BRIEF = {"campaign_name": "Spring Savers", "product_name": "Green Saver", "target_segment": "youth",
         "campaign_goal": "acquisition", "campaign_budget": 500000, "launch_date": "2026-03-01"}
CONTENT = {"articles_count": 4, "videos_count": 2, "social_posts_count": 30,
           "content_package_url": "https://dam.bank.example/spring-savers"}


def campaign_to_compliance(ctx, producer="cleo"):
    case = instances.start(ctx, "marketing_campaign", business_key="CMP-1", user="mia")
    work(ctx, case["id"], "campaign_brief", "mia", BRIEF)
    assert set(open_tasks(ctx, case["id"])) == {"online_plan", "offline_plan"}
    work(ctx, case["id"], "online_plan", "dina",
         {"online_channels": "mobile app, WeChat", "online_budget": 300000, "expected_impressions": 2000000})
    work(ctx, case["id"], "offline_plan", "ben",
         {"branches_involved": 40, "offline_materials": "posters", "offline_budget": 150000})
    work(ctx, case["id"], "produce_content", producer, CONTENT)
    return case["id"]


def test_campaign_content_reworked_until_compliant_then_launched_and_waiting_30_days(bank):
    case_id = campaign_to_compliance(bank)
    work(bank, case_id, "compliance_review", "cole",
         {"compliance_decision": "rework", "risk_disclosure_present": False, "compliance_findings": "No disclosure"})
    work(bank, case_id, "produce_content", "cleo", {**CONTENT, "videos_count": 3})
    work(bank, case_id, "compliance_review", "cole", {"compliance_decision": "approved", "risk_disclosure_present": True})
    assert serve(bank)["completed"] == 1
    detail = instances.get_instance(bank, case_id)
    assert detail["status"] == "running" and open_tasks(bank, case_id) == {}, "waits 30 days for the review"
    v = detail["variables"]
    assert v["campaign_published"] is True and v["published_channels"] == 3 and v["campaign_id"].startswith("CMP-")
    assert v["planned_budget"] == 450000 and v["budget_within_limit"] is True
    assert performed(detail) == [
        ("campaign_brief", "mia"), ("online_plan", "dina"), ("offline_plan", "ben"), ("produce_content", "cleo"),
        ("compliance_review", "cole"), ("produce_content", "cleo"), ("compliance_review", "cole"),
        ("launch_campaign", "test-worker")]


def test_content_producer_cannot_review_their_own_content(bank):
    both = extra_user(bank, "cora", "content_studio", "compliance")
    case_id = campaign_to_compliance(bank, producer=both)
    refused(bank, case_id, "compliance_review", both)
    work(bank, case_id, "compliance_review", "cole", {"compliance_decision": "approved", "risk_disclosure_present": True})
    assert serve(bank)["completed"] == 1


# --- 4. customer enquiry ------------------------------------------------------------------------------

def enquiry(ctx, question):
    return instances.start(ctx, "customer_enquiry", {"customer_id": "C-1001", "customer_name": "Li Wei",
                                                     "channel": "app", "question": question},
                           business_key="ENQ-1", user="dave")["id"]


def test_enquiry_answered_by_the_chatbot(bank):
    case_id = enquiry(bank, "What are your opening hours?")
    assert serve(bank)["completed"] == 1
    detail = finished(bank, case_id)
    assert detail["variables"]["answered_by"] == "chatbot"
    assert detail["variables"]["final_answer"].startswith("Branches are open 09:00-17:00")
    assert performed(detail) == [("chatbot", "test-worker")]


def test_enquiry_escalated_to_an_agent_who_answers_within_four_hours(bank, clock):
    case_id = enquiry(bank, "Why was I charged twice for my transfer?")
    serve(bank)
    agent_task = open_tasks(bank, case_id)["agent_answer"]
    assert agent_task["candidate_groups"] == ["contact_centre"]
    assert agent_task["due_at"] == iso(clock.now() + timedelta(hours=4)), "PT4H on the 24x7 calendar"
    clock.advance(hours=1)
    work(bank, case_id, "agent_answer", "anna",
         {"answer_text": "The second charge was reversed today.", "enquiry_category": "payments",
          "needs_specialist": False})
    detail = finished(bank, case_id)
    assert detail["variables"]["answered_by"] == "contact_centre"
    assert detail["variables"]["final_answer"] == "The second charge was reversed today."
    assert detail["variables"]["bot_resolved"] is False
    [done] = [t for t in detail["tasks"] if t["element_id"] == "agent_answer"]
    assert done["completed_by"] == "anna" and done["sla_status"] != "breached"
    assert performed(detail) == [("chatbot", "test-worker"), ("agent_answer", "anna")]


def test_enquiry_the_agent_hands_to_a_product_specialist(bank):
    case_id = enquiry(bank, "Can I hedge my mortgage against rate rises?")
    serve(bank)
    work(bank, case_id, "agent_answer", "anna",
         {"answer_text": "A mortgage specialist will call you today.", "enquiry_category": "loans",
          "needs_specialist": True})
    work(bank, case_id, "specialist_answer", "sam",
         {"specialist_answer_text": "Yes: switch to a 5-year fixed rate.", "product_area": "mortgages"})
    detail = finished(bank, case_id)
    assert detail["variables"]["answered_by"] == "product_specialist"
    assert detail["variables"]["final_answer"] == "Yes: switch to a 5-year fixed rate."
    assert performed(detail)[1:] == [("agent_answer", "anna"), ("specialist_answer", "sam")]


# --- 5. account opening -------------------------------------------------------------------------------

APPLICANT = {"customer_name": "Grace Hopper", "customer_id": "C-2001", "id_document_type": "resident_id",
             "id_document_number": "110101199001011234", "date_of_birth": "1990-01-01",
             "country_of_residence": "CN", "occupation": "salaried", "account_type": "savings",
             "expected_monthly_turnover": 20000, "pep": False}
VERIFIED = {"id_verified": True, "verification_method": "in_person", "source_of_funds": "salary"}
WELCOME = {"welcome_channel": "branch", "debit_card_issued": True, "online_banking_activated": True}


def account_application(ctx, verifier="kai", verified=VERIFIED, **applicant):
    case = instances.start(ctx, "account_opening", business_key="ACC-1", user="bea")
    work(ctx, case["id"], "capture_application", "bea", {**APPLICANT, **applicant})
    work(ctx, case["id"], "verify_identity", verifier, verified)
    serve(ctx)
    return case["id"]


@pytest.mark.parametrize("applicant, rating, monitoring", [
    ({}, "low", "standard"),
    ({"occupation": "self_employed"}, "medium", "enhanced"),
    ({"expected_monthly_turnover": 250000}, "medium", "enhanced"),
    ({"country_of_residence": "SG", "expected_monthly_turnover": 50000}, "medium", "enhanced"),
])
def test_low_and_medium_risk_accounts_open_without_approval(bank, applicant, rating, monitoring):
    case_id = account_application(bank, **applicant)
    assert set(open_tasks(bank, case_id)) == {"welcome_customer"}
    work(bank, case_id, "welcome_customer", "bea", WELCOME)
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert (v["risk_rating"], v["monitoring_level"]) == (rating, monitoring)
    assert v["aml_hit"] is False and v["account_opened"] is True and v["account_number"].startswith("62")
    assert performed(detail) == [("capture_application", "bea"), ("verify_identity", "kai"),
                                 ("aml_screening", "test-worker"), ("create_account", "test-worker"),
                                 ("welcome_customer", "bea")]


def test_high_risk_account_approved_by_a_second_kyc_officer(bank):
    case_id = account_application(bank, pep=True)
    approval = open_tasks(bank, case_id)["high_risk_approval"]
    assert approval["candidate_groups"] == ["kyc_compliance"]
    refused(bank, case_id, "high_risk_approval", "kai")
    with pytest.raises(PermissionDenied, match="four-eyes"):
        tasks.assign(bank, approval["id"], "mona", "kai")
    work(bank, case_id, "high_risk_approval", "kim",
         {"enhanced_due_diligence_done": True, "approval_decision": "approve", "approval_comment": "EDD complete."})
    serve(bank)
    work(bank, case_id, "welcome_customer", "bea", WELCOME)
    detail = finished(bank, case_id)
    assert detail["variables"]["risk_rating"] == "high"
    assert detail["variables"]["monitoring_level"] == "enhanced_due_diligence"
    assert detail["variables"]["account_opened"] is True
    assert ("verify_identity", "kai") in performed(detail) and ("high_risk_approval", "kim") in performed(detail)


REJECTION_NOTICE = {"customer_informed_via": "letter", "rejection_letter_reference": "REJ-2026-001"}


def test_high_risk_account_rejected_with_reason(bank):
    case_id = account_application(bank, country_of_residence="US", expected_monthly_turnover=900000)
    work(bank, case_id, "high_risk_approval", "kim",
         {"enhanced_due_diligence_done": True, "approval_decision": "reject",
          "approval_comment": "Source of funds not plausible."})
    work(bank, case_id, "inform_rejection", "bea", REJECTION_NOTICE)
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert v["application_status"] == "rejected" and "account_number" not in v
    assert v["rejection_reason"] == "high-risk customer not approved: Source of funds not plausible."


def test_unverified_identity_is_rejected_without_screening(bank):
    case_id = account_application(bank, verified={**VERIFIED, "id_verified": False})
    work(bank, case_id, "inform_rejection", "bea", REJECTION_NOTICE)
    detail = finished(bank, case_id)
    assert detail["variables"]["rejection_reason"] == "identity could not be verified"
    assert "aml_screening" not in [e for e, _ in performed(detail)]


def test_sanctions_hit_is_rejected(bank):
    case_id = account_application(bank, customer_name="Ivan Sanctioned")
    work(bank, case_id, "inform_rejection", "bea", REJECTION_NOTICE)
    detail = finished(bank, case_id)
    assert detail["variables"]["aml_hit"] is True and "risk_rating" not in detail["variables"]
    assert detail["variables"]["rejection_reason"] == "AML screening: name on sanctions list"


# --- 6. loan application (timer paths: withdrawal and escalation are in the timer tests) ---------------

def loan_intake(customer_id="C-1001", amount=200000, term=120, income=30000, debt=2000, collateral="none"):
    return {"customer_id": customer_id, "customer_name": "Li Wei", "applicant_user": "carl",
            "loan_product": "consumer", "amount": amount, "term_months": term, "monthly_income": income,
            "existing_debt_monthly": debt, "collateral": collateral}


def loan_to_underwriting(ctx, intake, documents_complete=True):
    case = instances.start(ctx, "loan_application", business_key="LOAN-1", user="olga")
    work(ctx, case["id"], "loan_intake", "olga", intake)
    work(ctx, case["id"], "document_check", "olga",
         {"documents_complete": documents_complete, "missing_documents": "" if documents_complete else "payslips"})
    return case["id"]


def underwrite(ctx, case_id, decision="approve", amount=200000, user="uwe"):
    work(ctx, case_id, "underwriter_review", user,
         {"underwriter_decision": decision, "approved_amount": amount, "interest_rate_pct": 4.2,
          "underwriting_notes": "Stable income." if decision == "approve" else "Income not sustainable."})


def contract_to_disbursement(ctx, case_id, preparer="lena", releaser="luis"):
    work(ctx, case_id, "prepare_contract", preparer,
         {"contract_number": "LC-2026-0001", "disbursement_account": "6222000011112222",
          "first_repayment_date": "2026-03-05"})
    sign = open_tasks(ctx, case_id)["sign_contract"]
    assert sign["assignee"] == "carl" and sign["status"] == "claimed"
    work(ctx, case_id, "sign_contract", "carl", {"contract_signed": True, "signature_method": "e_signature"})
    work(ctx, case_id, "disbursement_release", releaser, {"funds_checked": True})
    assert serve(ctx)["completed"] == 1


def test_loan_within_manager_authority_is_approved_signed_and_disbursed(bank):
    case_id = loan_to_underwriting(bank, loan_intake())
    serve(bank)
    assert open_tasks(bank, case_id)["underwriter_review"]["candidate_groups"] == ["underwriters"]
    underwrite(bank, case_id)
    approval = open_tasks(bank, case_id)
    assert set(approval) == {"manager_approval"} and approval["manager_approval"]["candidate_groups"] == [
        "credit_managers"]
    work(bank, case_id, "manager_approval", "max", {"approval_decision": "approve", "approval_comment": "Fine."})
    contract_to_disbursement(bank, case_id)
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert v["bureau_score"] == 841 and v["monthly_instalment"] == 1667 and v["dti_pct"] == 12.2
    assert (v["credit_grade"], v["recommendation"]) == ("A", "approve") and v["escalated"] is False
    assert v["disbursed"] is True and v["disbursed_amount"] == 200000 and v["disbursement_reference"].startswith("DSB-")
    assert performed(detail) == [
        ("loan_intake", "olga"), ("document_check", "olga"), ("credit_bureau", "test-worker"),
        ("underwriter_review", "uwe"), ("manager_approval", "max"), ("prepare_contract", "lena"),
        ("sign_contract", "carl"), ("disbursement_release", "luis"), ("disburse", "test-worker")]


def test_loan_documents_reworked_by_the_customer_then_committee_approves_a_large_loan(bank):
    case_id = loan_to_underwriting(bank, loan_intake("C-1003", amount=800000, term=240, income=40000, debt=5000),
                                   documents_complete=False)
    upload = open_tasks(bank, case_id)["provide_documents"]
    assert upload["assignee"] == "carl" and upload["lane"] == "applicants"
    assert [t["element_id"] for t in tasks.list_tasks(bank, user="carl")] == ["provide_documents"]
    work(bank, case_id, "provide_documents", "carl", {"documents_uploaded": "payslips Jan-Mar 2026"})
    work(bank, case_id, "document_check", "olga", {"documents_complete": True})
    serve(bank)
    underwrite(bank, case_id, amount=800000)
    assert set(open_tasks(bank, case_id)) == {"committee_approval"}
    work(bank, case_id, "committee_approval", "cecil", {"approval_decision": "approve", "approval_comment": "OK"})
    contract_to_disbursement(bank, case_id)
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert (v["bureau_score"], v["dti_pct"], v["credit_grade"]) == (689, 20.8, "B")
    assert v["documents_uploaded"] == "payslips Jan-Mar 2026" and v["disbursed_amount"] == 800000
    assert [e for e, _ in performed(detail)][:4] == ["loan_intake", "document_check", "provide_documents",
                                                    "document_check"]
    assert ("committee_approval", "cecil") in performed(detail)


DECLINE_LETTER = {"decline_letter_sent": True, "letter_channel": "post"}


def test_loan_declined_by_credit_scoring(bank):
    case_id = loan_to_underwriting(bank, loan_intake("C-1009", amount=50000, term=60, income=20000, debt=1000))
    serve(bank)
    work(bank, case_id, "inform_decline", "olga", DECLINE_LETTER)
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert (v["bureau_score"], v["credit_grade"], v["recommendation"]) == (444, "D", "decline")
    assert v["application_status"] == "declined" and v["decline_reason"] == "credit scoring: grade D"
    assert "underwriter_review" not in [e for e, _ in performed(detail)]


def test_loan_referred_by_scoring_and_declined_by_the_underwriter(bank):
    case_id = loan_to_underwriting(bank, loan_intake("C-1009", amount=50000, term=60, income=20000, debt=1000,
                                                     collateral="property"))
    serve(bank)
    underwrite(bank, case_id, decision="decline", amount=0)
    work(bank, case_id, "inform_decline", "olga", DECLINE_LETTER)
    v = finished(bank, case_id)["variables"]
    assert (v["credit_grade"], v["recommendation"]) == ("C", "refer")
    assert v["decline_reason"] == "underwriting: Income not sustainable."


def test_loan_declined_by_the_credit_manager(bank):
    case_id = loan_to_underwriting(bank, loan_intake())
    serve(bank)
    underwrite(bank, case_id)
    work(bank, case_id, "manager_approval", "mona", {"approval_decision": "decline",
                                                     "approval_comment": "Sector concentration limit reached."})
    work(bank, case_id, "inform_decline", "olga", DECLINE_LETTER)
    v = finished(bank, case_id)["variables"]
    assert v["decline_reason"] == "credit approval: Sector concentration limit reached."


def test_loan_offer_not_signed_by_the_customer(bank):
    case_id = loan_to_underwriting(bank, loan_intake())
    serve(bank)
    underwrite(bank, case_id)
    work(bank, case_id, "manager_approval", "max", {"approval_decision": "approve", "approval_comment": "Fine."})
    work(bank, case_id, "prepare_contract", "lena",
         {"contract_number": "LC-2026-0002", "disbursement_account": "6222000011112222",
          "first_repayment_date": "2026-03-05"})
    work(bank, case_id, "sign_contract", "carl", {"contract_signed": False, "signature_method": "e_signature"})
    detail = finished(bank, case_id)
    assert detail["variables"]["contract_signed"] is False and "disbursed" not in detail["variables"]
    assert performed(detail)[-1] == ("sign_contract", "carl")


def test_loan_underwriter_cannot_approve_and_contract_preparer_cannot_release(bank):
    both = extra_user(bank, "ulrich", "underwriters", "credit_managers", "credit_committee")
    case_id = loan_to_underwriting(bank, loan_intake())
    serve(bank)
    underwrite(bank, case_id, user=both)
    refused(bank, case_id, "manager_approval", both)
    work(bank, case_id, "manager_approval", "max", {"approval_decision": "approve", "approval_comment": "Fine."})
    work(bank, case_id, "prepare_contract", "lena",
         {"contract_number": "LC-2026-0003", "disbursement_account": "6222000011112222",
          "first_repayment_date": "2026-03-05"})
    work(bank, case_id, "sign_contract", "carl", {"contract_signed": True, "signature_method": "in_branch"})
    refused(bank, case_id, "disbursement_release", "lena")
    work(bank, case_id, "disbursement_release", "luis", {"funds_checked": True})
    serve(bank)
    detail = finished(bank, case_id)
    assert ("underwriter_review", both) in performed(detail) and ("disbursement_release", "luis") in performed(detail)

    big = loan_to_underwriting(bank, loan_intake(amount=900000, term=240, income=60000))
    serve(bank)
    underwrite(bank, big, amount=900000, user=both)
    refused(bank, big, "committee_approval", both)


# --- 7. complaint handling (reminder and deadline timers are in the timer tests) ----------------------

COMPLAINT = {"customer_id": "C-1001", "customer_name": "Li Wei", "complaint_channel": "app",
             "complaint_category": "fees_charges", "severity": "medium",
             "complaint_summary": "Charged an annual card fee that was waived.", "regulatory_reportable": False}
RESPONSE = {"resolution": "upheld_compensation", "compensation_amount": 200,
            "response_text": "We refunded the fee and added CNY 200 for the inconvenience."}


def complaint_answered(ctx, drafter="iris", rework=False):
    case = instances.start(ctx, "complaint_handling", business_key="CMP-42", user="cara")
    work(ctx, case["id"], "register_complaint", "cara", COMPLAINT)
    work(ctx, case["id"], "investigate", "iris",
         {"root_cause": "system_error", "complaint_upheld": True, "investigation_notes": "Waiver flag lost."})
    work(ctx, case["id"], "draft_response", drafter, RESPONSE)
    if rework:
        work(ctx, case["id"], "approve_response", "nora", {"response_approved": False,
                                                            "manager_comment": "Apologise explicitly."})
        work(ctx, case["id"], "draft_response", drafter,
             {**RESPONSE, "response_text": "We apologise: we refunded the fee and added CNY 200."})
    approval = open_tasks(ctx, case["id"])["approve_response"]
    assert approval["candidate_groups"] == ["complaint_managers"] and approval["lane"] == "complaint_resolution"
    work(ctx, case["id"], "approve_response", "nora", {"response_approved": True})
    assert serve(ctx)["completed"] == 1
    return case["id"]


def test_complaint_answered_followed_up_surveyed_and_closed(bank):
    case_id = complaint_answered(bank)
    work(bank, case_id, "follow_up", "cara", {"customer_reached": True, "customer_accepts_resolution": True})
    work(bank, case_id, "satisfaction_survey", "cara", {"satisfaction_score": 4, "would_recommend": True})
    work(bank, case_id, "analyse_feedback", "eve",
         {"feedback_theme": "process", "improvement_needed": False, "analysis_notes": "One-off system error."})
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert v["response_sent"] is True and v["letter_reference"].startswith("LTR-")
    assert v["complaint_status"] == "closed" and v["closure_type"] == "accepted" and v["satisfaction_score"] == 4
    assert performed(detail) == [
        ("register_complaint", "cara"), ("investigate", "iris"), ("draft_response", "iris"),
        ("approve_response", "nora"), ("send_response", "test-worker"), ("follow_up", "cara"),
        ("satisfaction_survey", "cara"), ("analyse_feedback", "eve")]


def test_complaint_response_reworked_customer_disputes_and_an_improvement_action_opens(bank):
    case_id = complaint_answered(bank, rework=True)
    work(bank, case_id, "follow_up", "cara", {"customer_reached": True, "customer_accepts_resolution": False,
                                               "follow_up_notes": "Wants a written apology from the branch."})
    work(bank, case_id, "satisfaction_survey", "cara", {"satisfaction_score": 2, "would_recommend": False})
    work(bank, case_id, "analyse_feedback", "eve",
         {"feedback_theme": "communication", "improvement_needed": True, "analysis_notes": "Fee waivers get lost."})
    work(bank, case_id, "open_improvement_action", "eve",
         {"action_title": "Migrate fee waivers to the card system", "action_owner": "cards operations",
          "action_due_date": "2026-06-30"})
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert v["closure_type"] == "disputed" and v["action_title"] == "Migrate fee waivers to the card system"
    assert v["response_text"].startswith("We apologise")
    assert [e for e, _ in performed(detail)].count("draft_response") == 2


def test_complaint_response_drafter_cannot_approve_it(bank):
    both = extra_user(bank, "ines", "complaint_resolution", "complaint_managers")
    case = instances.start(bank, "complaint_handling", user="cara")
    work(bank, case["id"], "register_complaint", "cara", COMPLAINT)
    work(bank, case["id"], "investigate", both,
         {"root_cause": "staff_error", "complaint_upheld": True, "investigation_notes": "Wrong fee code."})
    work(bank, case["id"], "draft_response", both, RESPONSE)
    refused(bank, case["id"], "approve_response", both)
    work(bank, case["id"], "approve_response", "nora", {"response_approved": True})
    assert serve(bank)["completed"] == 1


# --- 8. service evaluation (the monthly timer start is in the timer tests) ----------------------------

def evaluation_analysed(ctx, improvement_needed, nps=12, csat=3.6):
    case = instances.start(ctx, "service_evaluation", business_key="EVAL-2026-03", user="edna")
    work(ctx, case["id"], "prepare_survey", "eve",
         {"survey_period": "2026-03", "sample_size": 2000, "channels": "mixed", "questionnaire_version": "v7"})
    work(ctx, case["id"], "collect_responses", "eve",
         {"responses": 500, "nps": nps, "csat": csat, "top_issue": "waiting_time"})
    assert serve(ctx)["completed"] == 1
    work(ctx, case["id"], "interpret_feedback", "dora",
         {"key_findings": "Queues at peak hours.", "improvement_needed": improvement_needed,
          "priority_area": "waiting_time"})
    return case["id"]


REPORT = {"report_title": "Customer satisfaction March 2026", "report_summary": "NPS 12, CSAT 3.6; queues."}


def test_ad_hoc_evaluation_without_improvements_is_reported_and_accepted(bank):
    case_id = evaluation_analysed(bank, improvement_needed=False, nps=45, csat=4.4)
    work(bank, case_id, "management_report", "eve", REPORT)
    work(bank, case_id, "review_report", "edna", {"report_decision": "accepted"})
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert v["response_rate_pct"] == 25.0 and v["satisfaction_band"] == "good" and v["report_decision"] == "accepted"
    assert performed(detail) == [("prepare_survey", "eve"), ("collect_responses", "eve"),
                                 ("feedback_analytics", "test-worker"), ("interpret_feedback", "dora"),
                                 ("management_report", "eve"), ("review_report", "edna")]


def test_evaluation_with_improvement_actions_and_a_revised_report(bank):
    case_id = evaluation_analysed(bank, improvement_needed=True)
    work(bank, case_id, "plan_improvements", "otto",
         {"action_plan": "Queue ticketing in 20 branches.", "actions_count": 2, "action_owner": "branch network",
          "target_date": "2026-06-30"})
    work(bank, case_id, "management_report", "eve", REPORT)
    work(bank, case_id, "review_report", "edna", {"report_decision": "revise", "management_comment": "Add costs."})
    work(bank, case_id, "management_report", "eve", {**REPORT, "report_summary": "NPS 12; queues; cost CNY 2m."})
    work(bank, case_id, "review_report", "edna", {"report_decision": "accepted"})
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert v["satisfaction_band"] == "fair" and v["actions_count"] == 2
    assert v["report_summary"] == "NPS 12; queues; cost CNY 2m."
    assert [e for e, _ in performed(detail)].count("review_report") == 2


def test_evaluation_report_author_cannot_accept_it(bank):
    both = extra_user(bank, "erik", "customer_experience", "executive_management")
    case_id = evaluation_analysed(bank, improvement_needed=False)
    work(bank, case_id, "management_report", both, REPORT)
    refused(bank, case_id, "review_report", both)
    work(bank, case_id, "review_report", "edna", {"report_decision": "accepted"})
    assert finished(bank, case_id)["variables"]["report_decision"] == "accepted"


# --- the decision tables --------------------------------------------------------------------------

PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="probe_defs" targetNamespace="http://bankflow.test">
  <bpmn:process id="probe_DECISION" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="decide" camunda:decisionRef="DECISION">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide" />
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def decide(ctx, decision, inputs):
    source = SourceFile(f"probe_{decision}.bpmn", PROBE.replace("DECISION", decision).encode())
    deployments.deploy(ctx, [source, *deployments.read_sources([LIBRARY / f"{decision}.dmn"])])
    case = instances.start(ctx, f"probe_{decision}", inputs)
    detail = instances.get_instance(ctx, case["id"])
    assert detail["status"] == "completed", detail["incident"]
    return detail["variables"]


@pytest.mark.parametrize("inputs, rating, monitoring", [
    ({"pep": True, "country_of_residence": "CN", "expected_monthly_turnover": 1000, "occupation": "student"},
     "high", "enhanced_due_diligence"),
    ({"pep": False, "country_of_residence": "US", "expected_monthly_turnover": 200001, "occupation": "salaried"},
     "high", "enhanced_due_diligence"),
    ({"pep": False, "country_of_residence": "other", "expected_monthly_turnover": 200000, "occupation": "salaried"},
     "medium", "enhanced"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 500001, "occupation": "retired"},
     "high", "enhanced_due_diligence"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 500000, "occupation": "salaried"},
     "medium", "enhanced"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 100001, "occupation": "student"},
     "medium", "enhanced"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 100000, "occupation": "business_owner"},
     "medium", "enhanced"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 100000, "occupation": "salaried"},
     "low", "standard"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 0, "occupation": "retired"},
     "low", "standard"),
])
def test_account_risk_rating_decision(ctx, inputs, rating, monitoring):
    result = decide(ctx, "account_risk_rating", inputs)
    assert (result["risk_rating"], result["monitoring_level"]) == (rating, monitoring)


@pytest.mark.parametrize("score, dti, collateral, grade, recommendation", [
    (700, 35.0, "none", "A", "approve"),
    (850, 35.1, "none", "B", "approve"),
    (700, 50.0, "property", "B", "approve"),
    (600, 40.0, "none", "B", "approve"),
    (699, 40.1, "none", "C", "refer"),
    (650, 50.0, "vehicle", "C", "refer"),
    (600, 50.1, "deposit", "D", "decline"),
    (800, 75.0, "property", "D", "decline"),
    (599, 10.0, "property", "C", "refer"),
    (599, 10.0, "none", "D", "decline"),
    (300, 50.1, "property", "D", "decline"),
])
def test_credit_decision(ctx, score, dti, collateral, grade, recommendation):
    result = decide(ctx, "credit_decision", {"bureau_score": score, "dti_pct": dti, "collateral": collateral})
    assert (result["credit_grade"], result["recommendation"]) == (grade, recommendation)
