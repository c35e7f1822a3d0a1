"""Customer needs identification: the study approved, reworked, rejected, and the four-eyes rule."""
from __future__ import annotations

from engine.services import instances
from tests.helpers.process_library import extra_user, finished, open_tasks, performed, refused, serve, work


PLAN = {"study_title": "Retail needs 2026", "segment": "retail", "target_sample_size": 400,
        "focus_group_sessions": 3, "study_deadline": "2026-03-31"}


def needs_research(ctx, top_need_focus="digital_self_service", churn="low", researcher="maya"):
    case = instances.start(ctx, "customer_needs_identification", business_key="NEEDS-1", user=researcher)
    work(ctx, case.id, "plan_study", researcher, PLAN)
    assert set(open_tasks(ctx, case.id)) == {"questionnaire_survey", "focus_group"}
    work(ctx, case.id, "questionnaire_survey", researcher,
         {"responses_received": 300, "survey_channel": "online", "top_need_survey": "digital_self_service",
          "survey_satisfaction": 7.5})
    work(ctx, case.id, "focus_group", researcher,
         {"participants": 24, "top_need_focus_group": top_need_focus, "focus_group_notes": "App is too slow."})
    assert serve(ctx)["completed"] == 1
    work(ctx, case.id, "interpret_analytics", "dora",
         {"digital_share_pct": 68.0, "churn_risk": churn, "analytics_summary": "Digital share rising."})
    return case.id


DRAFT = {"report_summary": "Retail customers want faster digital self-service.", "priority_need":
         "digital_self_service", "recommended_actions": "Redesign the app's payment flows."}


def test_needs_study_approved_updates_crm_and_briefs_relationship_managers(bank):
    case_id = needs_research(bank)
    assert open_tasks(bank, case_id)["draft_needs_report"].candidate_groups == ("market_research",)
    work(bank, case_id, "draft_needs_report", "maya", DRAFT)
    approval = open_tasks(bank, case_id)["approve_needs_report"]
    assert approval.candidate_groups == ("retail_management",)
    work(bank, case_id, "approve_needs_report", "hugo", {"report_decision": "approve", "approval_comment": "Go."})
    assert serve(bank)["completed"] == 1
    work(bank, case_id, "brief_relationship_managers", "rita",
         {"briefing_date": "2026-02-02", "branches_briefed": 42, "follow_up_campaign": True})
    detail = finished(bank, case_id)
    v = detail.variables
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
    assert detail.variables["report_summary"] == redraft["report_summary"]
    assert [e for e, _ in performed(detail)].count("draft_needs_report") == 2
    assert [e for e, _ in performed(detail)].count("approve_needs_report") == 2


def test_needs_report_rejected_closes_the_study_without_crm_update(bank):
    case_id = needs_research(bank, top_need_focus="lower_fees", churn="high")
    work(bank, case_id, "draft_needs_report", "maya", DRAFT)
    work(bank, case_id, "approve_needs_report", "hugo", {"report_decision": "reject", "approval_comment": "Too thin."})
    detail = finished(bank, case_id)
    v = detail.variables
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
    assert finished(bank, case_id).variables["report_decision"] == "reject"
