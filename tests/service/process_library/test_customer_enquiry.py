"""Customer enquiry: answered by the chatbot, an agent or a specialist; the 4-hour SLA breach."""
from __future__ import annotations

from datetime import timedelta

from engine.services import instances
from engine.services.due_jobs import run_due_jobs
from tests.helpers.process_library import (MONDAY_10_SHANGHAI, events, finished, iso, open_tasks, performed, serve,
                                           utc, work)


def enquiry(ctx, question):
    return instances.start(ctx, "customer_enquiry", {"customer_id": "C-1001", "customer_name": "Li Wei",
                                                     "channel": "app", "question": question},
                           business_key="ENQ-1", user="dave").id


def test_enquiry_answered_by_the_chatbot(bank):
    case_id = enquiry(bank, "What are your opening hours?")
    assert serve(bank)["completed"] == 1
    detail = finished(bank, case_id)
    assert detail.variables["answered_by"] == "chatbot"
    assert detail.variables["final_answer"].startswith("Branches are open 09:00-17:00")
    assert performed(detail) == [("chatbot", "test-worker")]


def test_enquiry_escalated_to_an_agent_who_answers_within_four_hours(bank, clock):
    case_id = enquiry(bank, "Why was I charged twice for my transfer?")
    serve(bank)
    agent_task = open_tasks(bank, case_id)["agent_answer"]
    assert agent_task.candidate_groups == ("contact_centre",)
    assert iso(agent_task.due_at) == iso(clock.now() + timedelta(hours=4)), "PT4H on the 24x7 calendar"
    clock.advance(hours=1)
    work(bank, case_id, "agent_answer", "anna",
         {"answer_text": "The second charge was reversed today.", "enquiry_category": "payments",
          "needs_specialist": False})
    detail = finished(bank, case_id)
    assert detail.variables["answered_by"] == "contact_centre"
    assert detail.variables["final_answer"] == "The second charge was reversed today."
    assert detail.variables["bot_resolved"] is False
    [done] = [t for t in detail.tasks if t.element_id == "agent_answer"]
    assert done.completed_by == "anna" and done.sla_status == "on_track"
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
    assert detail.variables["answered_by"] == "product_specialist"
    assert detail.variables["final_answer"] == "Yes: switch to a 5-year fixed rate."
    assert performed(detail)[1:] == [("agent_answer", "anna"), ("specialist_answer", "sam")]


# --- timer and SLA paths (the clock starts on Monday 2 March 2026, 10:00 in Shanghai) ---------

def test_enquiry_not_answered_within_four_hours_is_a_recorded_breach(open_bank, clock):
    bank = open_bank(at=MONDAY_10_SHANGHAI)
    case = instances.start(bank, "customer_enquiry", {"customer_id": "C-1001", "customer_name": "Li Wei",
                                                      "channel": "app", "question": "Why was I charged twice?"})
    serve(bank)
    clock.set(utc(2026, 3, 2, 5, 59))
    run_due_jobs(bank)
    assert events(bank, case.id, "sla_breached") == []
    clock.set(utc(2026, 3, 2, 6, 0))  # 4 hours around the clock
    run_due_jobs(bank)
    [breach] = events(bank, case.id, "sla_breached")
    assert breach.element_id == "agent_answer" and iso(breach.at) == "2026-03-02T06:00:00Z"
    assert open_tasks(bank, case.id)["agent_answer"].sla_status == "breached"
    assert len(events(bank, case.id, "escalated")) == 1
    work(bank, case.id, "agent_answer", "anna",
         {"answer_text": "Refunded, sorry for the delay.", "enquiry_category": "payments", "needs_specialist": False})
    assert finished(bank, case.id).variables["answered_by"] == "contact_centre"
