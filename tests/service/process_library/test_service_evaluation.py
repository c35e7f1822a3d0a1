"""Service evaluation: ad hoc and monthly (timer-started) surveys, improvement actions, the report."""
from __future__ import annotations

from engine.services import instances, tasks
from engine.services.due_jobs import run_due_jobs
from tests.helpers.process_library import (MONDAY_10_SHANGHAI, extra_user, finished, performed, refused, serve, utc,
                                           work)


def evaluation_analysed(ctx, improvement_needed, nps=12, csat=3.6):
    case = instances.start(ctx, "service_evaluation", business_key="EVAL-2026-03", user="edna")
    work(ctx, case.id, "prepare_survey", "eve",
         {"survey_period": "2026-03", "sample_size": 2000, "channels": "mixed", "questionnaire_version": "v7"})
    work(ctx, case.id, "collect_responses", "eve",
         {"responses": 500, "nps": nps, "csat": csat, "top_issue": "waiting_time"})
    assert serve(ctx)["completed"] == 1
    work(ctx, case.id, "interpret_feedback", "dora",
         {"key_findings": "Queues at peak hours.", "improvement_needed": improvement_needed,
          "priority_area": "waiting_time"})
    return case.id


REPORT = {"report_title": "Customer satisfaction March 2026", "report_summary": "NPS 12, CSAT 3.6; queues."}


def test_ad_hoc_evaluation_without_improvements_is_reported_and_accepted(bank):
    case_id = evaluation_analysed(bank, improvement_needed=False, nps=45, csat=4.4)
    work(bank, case_id, "management_report", "eve", REPORT)
    work(bank, case_id, "review_report", "edna", {"report_decision": "accepted"})
    detail = finished(bank, case_id)
    v = detail.variables
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
    v = detail.variables
    assert v["satisfaction_band"] == "fair" and v["actions_count"] == 2
    assert v["report_summary"] == "NPS 12; queues; cost CNY 2m."
    assert [e for e, _ in performed(detail)].count("review_report") == 2


def test_evaluation_report_author_cannot_accept_it(bank):
    both = extra_user(bank, "erik", "customer_experience", "executive_management")
    case_id = evaluation_analysed(bank, improvement_needed=False)
    work(bank, case_id, "management_report", both, REPORT)
    refused(bank, case_id, "review_report", both)
    work(bank, case_id, "review_report", "edna", {"report_decision": "accepted"})
    assert finished(bank, case_id).variables["report_decision"] == "accepted"


# --- timer and SLA paths (the clock starts on Monday 2 March 2026, 10:00 in Shanghai) ---------

def test_monthly_timer_starts_a_service_evaluation(open_bank, clock):
    bank = open_bank(at=MONDAY_10_SHANGHAI)
    assert run_due_jobs(bank)["starts"] == 0
    clock.set(utc(2026, 4, 2, 1, 59))
    assert run_due_jobs(bank)["starts"] == 0
    clock.set(utc(2026, 4, 2, 2, 0))  # one month after the library was deployed
    assert run_due_jobs(bank)["starts"] == 1
    [survey] = tasks.list_tasks(bank, group="customer_experience")
    assert survey.element_id == "prepare_survey"
    case_id = survey.instance_id
    assert instances.get_instance(bank, case_id).definition_key == "service_evaluation"
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
    assert detail.variables["satisfaction_band"] == "poor" and detail.variables["response_rate_pct"] == 40.0
    clock.set(utc(2026, 5, 2, 2, 0))  # and again a month later
    assert run_due_jobs(bank)["starts"] == 1
    assert [t.element_id for t in tasks.list_tasks(bank, group="customer_experience")] == ["prepare_survey"]
