"""The process library's timer and SLA paths: the worker fires due timers, starts periodic
processes and records SLA breaches (`engine.timers.run_due_jobs`); the tests move the clock.

Business-day timers (`timerCalendar` = default) and SLAs run on the default business
calendar (head office, Asia/Shanghai, 09:00-17:00 on working days, Chinese public
holidays). The tests start on Monday 2 March 2026, 10:00 in Shanghai: no holidays in the
weeks that follow, so "10 business days" is Monday 16 March, 10:00.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.services import calendars, demo_data, instances, tasks, users
from engine.errors import PermissionDenied
from engine.services.due_jobs import run_due_jobs
from tests.service.process_library.test_loan_application import (LIBRARY, BRIEF, COMPLAINT, CONTENT, RESPONSE, finished, loan_intake,
                                        loan_to_underwriting, open_tasks, performed, serve, work,
                                        contract_to_disbursement)

MONDAY_10_SHANGHAI = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def bank(ctx, clock):
    clock.set(MONDAY_10_SHANGHAI)
    calendars.ensure_default_calendars(ctx)  # as `bankflow init-db` does: the shipped head-office calendar
    demo_data.load_demo(ctx, LIBRARY)
    return ctx


def events(ctx, instance_id, type_):
    return [e for e in instances.get_instance(ctx, instance_id)["history"] if e["type"] == type_]


def task_status(ctx, instance_id, element_id):
    return [t["status"] for t in instances.get_instance(ctx, instance_id)["tasks"] if t["element_id"] == element_id]


# --- loan application ---------------------------------------------------------------------------------

def test_underwriting_sla_breach_escalates_to_a_credit_manager(bank, clock):
    case_id = loan_to_underwriting(bank, loan_intake())
    serve(bank)
    review = open_tasks(bank, case_id)["underwriter_review"]
    assert review["due_at"] == "2026-03-04T02:00:00Z"  # 2 business days: Wednesday 10:00 in Shanghai
    clock.set(utc(2026, 3, 4, 1, 59))
    run_due_jobs(bank)
    assert set(open_tasks(bank, case_id)) == {"underwriter_review"}
    clock.set(utc(2026, 3, 4, 2, 0))
    assert run_due_jobs(bank)["timers"] >= 1
    escalated = open_tasks(bank, case_id)
    assert set(escalated) == {"escalated_review"}
    assert escalated["escalated_review"]["candidate_groups"] == ["credit_managers"]
    assert task_status(bank, case_id, "underwriter_review") == ["cancelled"]
    assert [e["element_id"] for e in events(bank, case_id, "timer_fired")] == ["underwriting_sla_breached"]
    work(bank, case_id, "escalated_review", "mona",
         {"underwriter_decision": "approve", "approved_amount": 200000, "interest_rate_pct": 4.5,
          "underwriting_notes": "Taken over after the SLA breach."})
    # escalated cases go to the credit committee whatever the amount
    assert set(open_tasks(bank, case_id)) == {"committee_approval"}
    work(bank, case_id, "committee_approval", "cecil", {"approval_decision": "approve", "approval_comment": "OK"})
    contract_to_disbursement(bank, case_id)
    detail = finished(bank, case_id)
    assert detail["variables"]["escalated"] is True and detail["variables"]["disbursed"] is True
    assert ("escalated_review", "mona") in performed(detail) and ("committee_approval", "cecil") in performed(detail)
    assert "underwriter_review" not in [e for e, _ in performed(detail)]


def test_who_underwrote_an_escalated_loan_cannot_approve_it_in_committee(bank, clock):
    users.add_user(bank, "dual", "secret123", groups=["credit_managers", "credit_committee"])
    case_id = loan_to_underwriting(bank, loan_intake())
    serve(bank)
    clock.set(utc(2026, 3, 4, 2, 0))
    run_due_jobs(bank)
    work(bank, case_id, "escalated_review", "dual",
         {"underwriter_decision": "approve", "approved_amount": 200000, "interest_rate_pct": 4.5,
          "underwriting_notes": "Taken over after the SLA breach."})
    committee = open_tasks(bank, case_id)["committee_approval"]
    with pytest.raises(PermissionDenied, match="four-eyes rule: dual completed 'Underwrite escalated loan'"):
        tasks.claim(bank, committee["id"], "dual")
    work(bank, case_id, "committee_approval", "cecil", {"approval_decision": "approve", "approval_comment": "OK"})


def test_loan_withdrawn_when_the_customer_misses_10_business_days(bank, clock):
    case_id = loan_to_underwriting(bank, loan_intake(), documents_complete=False)
    upload = open_tasks(bank, case_id)["provide_documents"]
    assert upload["assignee"] == "carl" and upload["due_at"] == "2026-03-16T02:00:00Z"
    clock.set(utc(2026, 3, 13, 9, 0))  # Friday 17:00 in Shanghai: 9 business days
    run_due_jobs(bank)
    assert set(open_tasks(bank, case_id)) == {"provide_documents"}
    clock.set(utc(2026, 3, 16, 1, 59))  # Monday 09:59
    run_due_jobs(bank)
    assert set(open_tasks(bank, case_id)) == {"provide_documents"}
    clock.set(utc(2026, 3, 16, 2, 0))  # Monday 10:00: 10 business days
    run_due_jobs(bank)
    detail = finished(bank, case_id)
    assert detail["variables"]["application_status"] == "withdrawn"
    assert detail["variables"]["withdrawal_reason"] == "documents not provided within 10 business days"
    assert task_status(bank, case_id, "provide_documents") == ["cancelled"]
    assert [e["element_id"] for e in events(bank, case_id, "timer_fired")] == ["documents_overdue"]
    assert performed(detail) == [("loan_intake", "olga"), ("document_check", "olga")]


def test_documents_returned_in_time_cancel_the_withdrawal_timer(bank, clock):
    case_id = loan_to_underwriting(bank, loan_intake(), documents_complete=False)
    clock.set(utc(2026, 3, 12, 2, 0))
    work(bank, case_id, "provide_documents", "carl", {"documents_uploaded": "payslips"})
    clock.set(utc(2026, 3, 17, 2, 0))
    run_due_jobs(bank)
    assert set(open_tasks(bank, case_id)) == {"document_check"}
    assert events(bank, case_id, "timer_fired") == []


# --- complaint handling ----------------------------------------------------------------------------------

def test_complaint_reminder_after_10_and_breach_report_after_15_business_days(bank, clock):
    case = instances.start(bank, "complaint_handling", business_key="CMP-7", user="cara")
    work(bank, case["id"], "register_complaint", "cara", COMPLAINT)
    clock.set(utc(2026, 3, 16, 1, 59))
    run_due_jobs(bank)
    assert set(open_tasks(bank, case["id"])) == {"investigate"}
    clock.set(utc(2026, 3, 16, 2, 0))  # 10 business days after registration: non-interrupting reminder
    run_due_jobs(bank)
    waiting = open_tasks(bank, case["id"])
    assert set(waiting) == {"investigate", "expedite_complaint"}
    assert waiting["expedite_complaint"]["candidate_groups"] == ["complaint_managers"]
    work(bank, case["id"], "expedite_complaint", "nora", {"expedite_action": "Asked cards ops for the log today."})
    assert set(open_tasks(bank, case["id"])) == {"investigate"}
    clock.set(utc(2026, 3, 23, 1, 59))
    run_due_jobs(bank)
    assert set(open_tasks(bank, case["id"])) == {"investigate"}
    clock.set(utc(2026, 3, 23, 2, 0))  # 15 business days: the regulatory deadline is missed
    run_due_jobs(bank)
    assert set(open_tasks(bank, case["id"])) == {"investigate", "report_deadline_breach"}
    work(bank, case["id"], "report_deadline_breach", "nora",
         {"interim_reply_sent": True, "regulator_notified": True, "breach_explanation": "Card system log delayed."})
    work(bank, case["id"], "investigate", "iris",
         {"root_cause": "system_error", "complaint_upheld": True, "investigation_notes": "Waiver flag lost."})
    work(bank, case["id"], "draft_response", "iris", RESPONSE)
    work(bank, case["id"], "approve_response", "nora", {"response_approved": True})
    serve(bank)
    work(bank, case["id"], "follow_up", "cara", {"customer_reached": True, "customer_accepts_resolution": True})
    work(bank, case["id"], "satisfaction_survey", "cara", {"satisfaction_score": 3, "would_recommend": False})
    work(bank, case["id"], "analyse_feedback", "eve",
         {"feedback_theme": "speed", "improvement_needed": False, "analysis_notes": "Slow log retrieval."})
    detail = finished(bank, case["id"])
    assert detail["variables"]["regulator_notified"] is True and detail["variables"]["complaint_status"] == "closed"
    assert [e["element_id"] for e in events(bank, case["id"], "timer_fired")] == ["reminder_10_days",
                                                                                  "deadline_15_days"]
    assert ("expedite_complaint", "nora") in performed(detail)
    assert ("report_deadline_breach", "nora") in performed(detail)


def test_complaint_answered_in_time_never_reminds(bank, clock):
    case = instances.start(bank, "complaint_handling", user="cara")
    work(bank, case["id"], "register_complaint", "cara", COMPLAINT)
    work(bank, case["id"], "investigate", "iris",
         {"root_cause": "process_error", "complaint_upheld": False, "investigation_notes": "Fee was due."})
    work(bank, case["id"], "draft_response", "iris", {**RESPONSE, "resolution": "not_upheld",
                                                       "compensation_amount": 0})
    work(bank, case["id"], "approve_response", "nora", {"response_approved": True})
    serve(bank)
    clock.set(utc(2026, 3, 30, 2, 0))
    run_due_jobs(bank)
    assert set(open_tasks(bank, case["id"])) == {"follow_up"}
    assert events(bank, case["id"], "timer_fired") == []


# --- marketing campaign -----------------------------------------------------------------------------------

def launched_campaign(ctx):
    case = instances.start(ctx, "marketing_campaign", business_key="CMP-SPRING", user="mia")
    work(ctx, case["id"], "campaign_brief", "mia", BRIEF)
    work(ctx, case["id"], "online_plan", "dina",
         {"online_channels": "mobile app, WeChat", "online_budget": 300000, "expected_impressions": 2000000})
    work(ctx, case["id"], "offline_plan", "ben",
         {"branches_involved": 40, "offline_materials": "posters", "offline_budget": 150000})
    work(ctx, case["id"], "produce_content", "cleo", CONTENT)
    work(ctx, case["id"], "compliance_review", "cole", {"compliance_decision": "approved",
                                                         "risk_disclosure_present": True})
    serve(ctx)
    return case["id"]


def test_performance_review_appears_30_days_after_launch_then_follow_up(bank, clock):
    case_id = launched_campaign(bank)
    clock.set(utc(2026, 4, 1, 1, 59))
    run_due_jobs(bank)
    assert open_tasks(bank, case_id) == {}
    clock.set(utc(2026, 4, 1, 2, 0))  # 30 calendar days after launch
    run_due_jobs(bank)
    review = open_tasks(bank, case_id)["performance_review"]
    assert review["candidate_groups"] == ["marketing"]
    work(bank, case_id, "performance_review", "mia",
         {"leads_generated": 800, "accounts_opened": 120, "campaign_spend": 420000, "performance_rating": "met"})
    work(bank, case_id, "relationship_follow_up", "rita", {"customers_contacted": 650, "products_sold": 90})
    detail = finished(bank, case_id)
    v = detail["variables"]
    assert v["conversion_rate_pct"] == 15.0 and v["cost_per_account"] == 3500 and v["products_sold"] == 90
    assert [e["element_id"] for e in events(bank, case_id, "timer_fired")] == ["wait_30_days"]
    assert performed(detail)[-2:] == [("performance_review", "mia"), ("relationship_follow_up", "rita")]


def test_campaign_without_leads_closes_after_the_review(bank, clock):
    case_id = launched_campaign(bank)
    clock.set(utc(2026, 4, 2, 0, 0))
    run_due_jobs(bank)
    work(bank, case_id, "performance_review", "mia",
         {"leads_generated": 0, "accounts_opened": 0, "campaign_spend": 10000, "performance_rating": "below"})
    detail = finished(bank, case_id)
    assert detail["variables"]["conversion_rate_pct"] == 0.0 and detail["variables"]["cost_per_account"] == 0
    assert "relationship_follow_up" not in [e for e, _ in performed(detail)]


# --- service evaluation --------------------------------------------------------------------------------------

def test_monthly_timer_starts_a_service_evaluation(bank, clock):
    assert run_due_jobs(bank)["starts"] == 0
    clock.set(utc(2026, 4, 2, 1, 59))
    assert run_due_jobs(bank)["starts"] == 0
    clock.set(utc(2026, 4, 2, 2, 0))  # one month after the library was deployed
    assert run_due_jobs(bank)["starts"] == 1
    [survey] = tasks.list_tasks(bank, group="customer_experience")
    assert survey["element_id"] == "prepare_survey"
    case_id = survey["instance_id"]
    assert instances.get_instance(bank, case_id)["definition_key"] == "service_evaluation"
    work(bank, case_id, "prepare_survey", "eve",
         {"survey_period": "2026-03", "sample_size": 1000, "channels": "online", "questionnaire_version": "v7"})
    work(bank, case_id, "collect_responses", "eve", {"responses": 400, "nps": -5, "csat": 2.9,
                                                     "top_issue": "fees"})
    serve(bank)
    work(bank, case_id, "interpret_feedback", "dora",
         {"key_findings": "Fee complaints.", "improvement_needed": True, "priority_area": "fees"})
    work(bank, case_id, "plan_improvements", "otto", {"action_plan": "Review card fees.", "actions_count": 1,
                                                      "action_owner": "cards", "target_date": "2026-07-01"})
    work(bank, case_id, "management_report", "eve",
         {"report_title": "Satisfaction March 2026", "report_summary": "NPS -5; fees are the main issue."})
    work(bank, case_id, "review_report", "edna", {"report_decision": "accepted"})
    detail = finished(bank, case_id)
    assert detail["variables"]["satisfaction_band"] == "poor" and detail["variables"]["response_rate_pct"] == 40.0
    clock.set(utc(2026, 5, 2, 2, 0))  # and again a month later
    assert run_due_jobs(bank)["starts"] == 1
    assert [t["element_id"] for t in tasks.list_tasks(bank, group="customer_experience")] == ["prepare_survey"]


# --- customer enquiry -------------------------------------------------------------------------------------

def test_enquiry_not_answered_within_four_hours_is_a_recorded_breach(bank, clock):
    case = instances.start(bank, "customer_enquiry", {"customer_id": "C-1001", "customer_name": "Li Wei",
                                                      "channel": "app", "question": "Why was I charged twice?"})
    serve(bank)
    clock.set(utc(2026, 3, 2, 5, 59))
    run_due_jobs(bank)
    assert events(bank, case["id"], "sla_breached") == []
    clock.set(utc(2026, 3, 2, 6, 0))  # 4 hours around the clock
    run_due_jobs(bank)
    [breach] = events(bank, case["id"], "sla_breached")
    assert breach["element_id"] == "agent_answer" and breach["at"] == "2026-03-02T06:00:00Z"
    assert open_tasks(bank, case["id"])["agent_answer"]["sla_status"] == "breached"
    assert len(events(bank, case["id"], "escalated")) == 1
    work(bank, case["id"], "agent_answer", "anna",
         {"answer_text": "Refunded, sorry for the delay.", "enquiry_category": "payments", "needs_specialist": False})
    assert finished(bank, case["id"])["variables"]["answered_by"] == "contact_centre"
