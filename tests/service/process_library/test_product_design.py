"""Product design and development: co-design rounds, the technology review, the committee's decision."""
from __future__ import annotations

from engine.services import instances
from tests.helpers.process_library import extra_user, finished, open_tasks, performed, refused, work


CONCEPT = {"product_name": "Green Saver", "product_type": "deposit", "target_segment": "youth",
           "customer_need": "Saving for the first flat", "uses_ai": False, "uses_blockchain": False,
           "target_launch": "2026-09-01"}


def product_designed(ctx, concept=CONCEPT, owner="pam"):
    case = instances.start(ctx, "product_design", business_key="PRD-1", user=owner)
    work(ctx, case.id, "define_product_concept", owner, concept)
    assert set(open_tasks(ctx, case.id)) == {"marketing_brief", "rd_design", "risk_review"}
    work(ctx, case.id, "marketing_brief", "mia",
         {"price_positioning": "value", "key_message": "Your first flat, sooner.", "expected_customers_year1": 20000})
    work(ctx, case.id, "rd_design", "ravi",
         {"design_summary": "Goal-based savings pots.", "feature_count": 6, "development_cost": 1200000,
          "development_weeks": 16})
    work(ctx, case.id, "risk_review", "rosa",
         {"product_risk_level": "low", "risk_conditions": "", "regulatory_approval_needed": False})
    return case.id


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
    v = detail.variables
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
    v = detail.variables
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
    v = detail.variables
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
    assert detail.variables["committee_decision"] == "reject" and "product_status" not in detail.variables
    assert performed(detail)[-2:] == [("committee_approval", "pia"), ("record_rejection", "pam")]


def test_product_owner_cannot_approve_their_own_product(bank):
    both = extra_user(bank, "paolo", "product_management", "product_committee")
    case_id = product_designed(bank, owner=both)
    work(bank, case_id, "run_codesign", "pam",
         {"panel_size": 5, "customer_verdict": "accepted", "customer_feedback": "Fine."})
    refused(bank, case_id, "committee_approval", both)
    work(bank, case_id, "committee_approval", "pia", {"committee_decision": "approve", "committee_comment": "OK"})
    assert finished(bank, case_id).variables["product_status"] == "approved"
