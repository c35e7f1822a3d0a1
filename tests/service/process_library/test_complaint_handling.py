"""Complaint handling: answered, reworked, disputed; the 10-day reminder and the 15-day deadline."""
from __future__ import annotations

from engine.services import instances
from engine.services.due_jobs import run_due_jobs
from tests.helpers.process_library import (MONDAY_10_SHANGHAI, events, extra_user, finished, open_tasks, performed,
                                           refused, serve, utc, work)


COMPLAINT = {"customer_id": "C-1001", "customer_name": "Li Wei", "complaint_channel": "app",
             "complaint_category": "fees_charges", "severity": "medium",
             "complaint_summary": "Charged an annual card fee that was waived.", "regulatory_reportable": False}
RESPONSE = {"resolution": "upheld_compensation", "compensation_amount": 200,
            "response_text": "We refunded the fee and added CNY 200 for the inconvenience."}


def complaint_answered(ctx, drafter="iris", rework=False):
    case = instances.start(ctx, "complaint_handling", business_key="CMP-42", user="cara")
    work(ctx, case.id, "register_complaint", "cara", COMPLAINT)
    work(ctx, case.id, "investigate", "iris",
         {"root_cause": "system_error", "complaint_upheld": True, "investigation_notes": "Waiver flag lost."})
    work(ctx, case.id, "draft_response", drafter, RESPONSE)
    if rework:
        work(ctx, case.id, "approve_response", "nora", {"response_approved": False,
                                                            "manager_comment": "Apologise explicitly."})
        work(ctx, case.id, "draft_response", drafter,
             {**RESPONSE, "response_text": "We apologise: we refunded the fee and added CNY 200."})
    approval = open_tasks(ctx, case.id)["approve_response"]
    assert approval.candidate_groups == ("complaint_managers",) and approval.lane == "complaint_resolution"
    work(ctx, case.id, "approve_response", "nora", {"response_approved": True})
    assert serve(ctx)["completed"] == 1
    return case.id


def test_complaint_answered_followed_up_surveyed_and_closed(bank):
    case_id = complaint_answered(bank)
    work(bank, case_id, "follow_up", "cara", {"customer_reached": True, "customer_accepts_resolution": True})
    work(bank, case_id, "satisfaction_survey", "cara", {"satisfaction_score": 4, "would_recommend": True})
    work(bank, case_id, "analyse_feedback", "eve",
         {"feedback_theme": "process", "improvement_needed": False, "analysis_notes": "One-off system error."})
    detail = finished(bank, case_id)
    v = detail.variables
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
    v = detail.variables
    assert v["closure_type"] == "disputed" and v["action_title"] == "Migrate fee waivers to the card system"
    assert v["response_text"].startswith("We apologise")
    assert [e for e, _ in performed(detail)].count("draft_response") == 2


def test_complaint_response_drafter_cannot_approve_it(bank):
    both = extra_user(bank, "ines", "complaint_resolution", "complaint_managers")
    case = instances.start(bank, "complaint_handling", user="cara")
    work(bank, case.id, "register_complaint", "cara", COMPLAINT)
    work(bank, case.id, "investigate", both,
         {"root_cause": "staff_error", "complaint_upheld": True, "investigation_notes": "Wrong fee code."})
    work(bank, case.id, "draft_response", both, RESPONSE)
    refused(bank, case.id, "approve_response", both)
    work(bank, case.id, "approve_response", "nora", {"response_approved": True})
    assert serve(bank)["completed"] == 1


# --- timer and SLA paths (the clock starts on Monday 2 March 2026, 10:00 in Shanghai) ---------

def test_complaint_reminder_after_10_and_breach_report_after_15_business_days(open_bank, clock):
    bank = open_bank(at=MONDAY_10_SHANGHAI)
    case = instances.start(bank, "complaint_handling", business_key="CMP-7", user="cara")
    work(bank, case.id, "register_complaint", "cara", COMPLAINT)
    clock.set(utc(2026, 3, 16, 1, 59))
    run_due_jobs(bank)
    assert set(open_tasks(bank, case.id)) == {"investigate"}
    clock.set(utc(2026, 3, 16, 2, 0))  # 10 business days after registration: non-interrupting reminder
    run_due_jobs(bank)
    waiting = open_tasks(bank, case.id)
    assert set(waiting) == {"investigate", "expedite_complaint"}
    assert waiting["expedite_complaint"].candidate_groups == ("complaint_managers",)
    work(bank, case.id, "expedite_complaint", "nora", {"expedite_action": "Asked cards ops for the log today."})
    assert set(open_tasks(bank, case.id)) == {"investigate"}
    clock.set(utc(2026, 3, 23, 1, 59))
    run_due_jobs(bank)
    assert set(open_tasks(bank, case.id)) == {"investigate"}
    clock.set(utc(2026, 3, 23, 2, 0))  # 15 business days: the regulatory deadline is missed
    run_due_jobs(bank)
    assert set(open_tasks(bank, case.id)) == {"investigate", "report_deadline_breach"}
    work(bank, case.id, "report_deadline_breach", "nora",
         {"interim_reply_sent": True, "regulator_notified": True, "breach_explanation": "Card system log delayed."})
    work(bank, case.id, "investigate", "iris",
         {"root_cause": "system_error", "complaint_upheld": True, "investigation_notes": "Waiver flag lost."})
    work(bank, case.id, "draft_response", "iris", RESPONSE)
    work(bank, case.id, "approve_response", "nora", {"response_approved": True})
    serve(bank)
    work(bank, case.id, "follow_up", "cara", {"customer_reached": True, "customer_accepts_resolution": True})
    work(bank, case.id, "satisfaction_survey", "cara", {"satisfaction_score": 3, "would_recommend": False})
    work(bank, case.id, "analyse_feedback", "eve",
         {"feedback_theme": "speed", "improvement_needed": False, "analysis_notes": "Slow log retrieval."})
    detail = finished(bank, case.id)
    assert detail.variables["regulator_notified"] is True and detail.variables["complaint_status"] == "closed"
    assert [e.element_id for e in events(bank, case.id, "timer_fired")] == ["reminder_10_days",
                                                                                  "deadline_15_days"]
    assert ("expedite_complaint", "nora") in performed(detail)
    assert ("report_deadline_breach", "nora") in performed(detail)


def test_complaint_answered_in_time_never_reminds(open_bank, clock):
    bank = open_bank(at=MONDAY_10_SHANGHAI)
    case = instances.start(bank, "complaint_handling", user="cara")
    work(bank, case.id, "register_complaint", "cara", COMPLAINT)
    work(bank, case.id, "investigate", "iris",
         {"root_cause": "process_error", "complaint_upheld": False, "investigation_notes": "Fee was due."})
    work(bank, case.id, "draft_response", "iris", {**RESPONSE, "resolution": "not_upheld",
                                                       "compensation_amount": 0})
    work(bank, case.id, "approve_response", "nora", {"response_approved": True})
    serve(bank)
    clock.set(utc(2026, 3, 30, 2, 0))
    run_due_jobs(bank)
    assert set(open_tasks(bank, case.id)) == {"follow_up"}
    assert events(bank, case.id, "timer_fired") == []


def test_the_approver_sees_the_response_drafted_inside_the_subprocess(bank):
    """What the steps of the investigation subprocess set is the case's data while the subprocess runs
    (the approving form shows the letter read-only); found by the browser journeys."""
    case = instances.start(bank, "complaint_handling", business_key="CMP-43", user="cara")
    work(bank, case.id, "register_complaint", "cara", COMPLAINT)
    work(bank, case.id, "investigate", "iris",
         {"root_cause": "system_error", "complaint_upheld": True, "investigation_notes": "Waiver flag lost."})
    assert instances.get_instance(bank, case.id).variables["root_cause"] == "system_error"
    work(bank, case.id, "draft_response", "iris", RESPONSE)
    variables = instances.get_instance(bank, case.id).variables
    assert variables["response_text"] == RESPONSE["response_text"] and variables["severity"] == "medium"
    assert "response_text" in [f["id"] for f in open_tasks(bank, case.id)["approve_response"].form]
