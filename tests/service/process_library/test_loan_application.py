"""Loan application: scoring, underwriting, approval by authority, contract and disbursement, declines,
four-eyes; the underwriting SLA escalation and the withdrawal after 10 business days.
"""
from __future__ import annotations

import pytest

from engine.errors import PermissionDenied
from engine.services import instances, tasks, users
from engine.services.due_jobs import run_due_jobs
from tests.helpers.process_library import (MONDAY_10_SHANGHAI, events, extra_user, finished, iso, open_tasks,
                                           performed, refused, serve, task_status, utc, work)


def loan_intake(customer_id="C-1001", amount=200000, term=120, income=30000, debt=2000, collateral="none"):
    return {"customer_id": customer_id, "customer_name": "Li Wei", "applicant_user": "carl",
            "loan_product": "consumer", "amount": amount, "term_months": term, "monthly_income": income,
            "existing_debt_monthly": debt, "collateral": collateral}


def loan_to_underwriting(ctx, intake, documents_complete=True):
    case = instances.start(ctx, "loan_application", business_key="LOAN-1", user="olga")
    work(ctx, case.id, "loan_intake", "olga", intake)
    work(ctx, case.id, "document_check", "olga",
         {"documents_complete": documents_complete, "missing_documents": "" if documents_complete else "payslips"})
    return case.id


def underwrite(ctx, case_id, decision="approve", amount=200000, user="uwe"):
    work(ctx, case_id, "underwriter_review", user,
         {"underwriter_decision": decision, "approved_amount": amount, "interest_rate_pct": 4.2,
          "underwriting_notes": "Stable income." if decision == "approve" else "Income not sustainable."})


def contract_to_disbursement(ctx, case_id, preparer="lena", releaser="luis"):
    work(ctx, case_id, "prepare_contract", preparer,
         {"contract_number": "LC-2026-0001", "disbursement_account": "6222000011112222",
          "first_repayment_date": "2026-03-05"})
    sign = open_tasks(ctx, case_id)["sign_contract"]
    assert sign.assignee == "carl" and sign.status == "claimed"
    work(ctx, case_id, "sign_contract", "carl", {"contract_signed": True, "signature_method": "e_signature"})
    work(ctx, case_id, "disbursement_release", releaser, {"funds_checked": True})
    assert serve(ctx)["completed"] == 1


def test_loan_within_manager_authority_is_approved_signed_and_disbursed(bank):
    case_id = loan_to_underwriting(bank, loan_intake())
    serve(bank)
    assert open_tasks(bank, case_id)["underwriter_review"].candidate_groups == ("underwriters",)
    underwrite(bank, case_id)
    approval = open_tasks(bank, case_id)
    assert set(approval) == {"manager_approval"}
    assert approval["manager_approval"].candidate_groups == ("credit_managers",)
    work(bank, case_id, "manager_approval", "max", {"approval_decision": "approve", "approval_comment": "Fine."})
    contract_to_disbursement(bank, case_id)
    detail = finished(bank, case_id)
    v = detail.variables
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
    assert upload.assignee == "carl" and upload.lane == "applicants"
    assert [t.element_id for t in tasks.list_tasks(bank, user="carl")] == ["provide_documents"]
    work(bank, case_id, "provide_documents", "carl", {"documents_uploaded": "payslips Jan-Mar 2026"})
    work(bank, case_id, "document_check", "olga", {"documents_complete": True})
    serve(bank)
    underwrite(bank, case_id, amount=800000)
    assert set(open_tasks(bank, case_id)) == {"committee_approval"}
    work(bank, case_id, "committee_approval", "cecil", {"approval_decision": "approve", "approval_comment": "OK"})
    contract_to_disbursement(bank, case_id)
    detail = finished(bank, case_id)
    v = detail.variables
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
    v = detail.variables
    assert (v["bureau_score"], v["credit_grade"], v["recommendation"]) == (444, "D", "decline")
    assert v["application_status"] == "declined" and v["decline_reason"] == "credit scoring: grade D"
    assert "underwriter_review" not in [e for e, _ in performed(detail)]


def test_loan_referred_by_scoring_and_declined_by_the_underwriter(bank):
    case_id = loan_to_underwriting(bank, loan_intake("C-1009", amount=50000, term=60, income=20000, debt=1000,
                                                     collateral="property"))
    serve(bank)
    underwrite(bank, case_id, decision="decline", amount=0)
    work(bank, case_id, "inform_decline", "olga", DECLINE_LETTER)
    v = finished(bank, case_id).variables
    assert (v["credit_grade"], v["recommendation"]) == ("C", "refer")
    assert v["decline_reason"] == "underwriting: Income not sustainable."


def test_loan_declined_by_the_credit_manager(bank):
    case_id = loan_to_underwriting(bank, loan_intake())
    serve(bank)
    underwrite(bank, case_id)
    work(bank, case_id, "manager_approval", "mona", {"approval_decision": "decline",
                                                     "approval_comment": "Sector concentration limit reached."})
    work(bank, case_id, "inform_decline", "olga", DECLINE_LETTER)
    v = finished(bank, case_id).variables
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
    assert detail.variables["contract_signed"] is False and "disbursed" not in detail.variables
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


# --- timer and SLA paths (the clock starts on Monday 2 March 2026, 10:00 in Shanghai) ---------

def test_underwriting_sla_breach_escalates_to_a_credit_manager(open_bank, clock):
    bank = open_bank(at=MONDAY_10_SHANGHAI)
    case_id = loan_to_underwriting(bank, loan_intake())
    serve(bank)
    review = open_tasks(bank, case_id)["underwriter_review"]
    assert iso(review.due_at) == "2026-03-04T02:00:00Z"  # 2 business days: Wednesday 10:00 in Shanghai
    clock.set(utc(2026, 3, 4, 1, 59))
    run_due_jobs(bank)
    assert set(open_tasks(bank, case_id)) == {"underwriter_review"}
    clock.set(utc(2026, 3, 4, 2, 0))
    assert run_due_jobs(bank)["timers"] == 1
    escalated = open_tasks(bank, case_id)
    assert set(escalated) == {"escalated_review"}
    assert escalated["escalated_review"].candidate_groups == ("credit_managers",)
    assert task_status(bank, case_id, "underwriter_review") == ["cancelled"]
    assert [e.element_id for e in events(bank, case_id, "timer_fired")] == ["underwriting_sla_breached"]
    work(bank, case_id, "escalated_review", "mona",
         {"underwriter_decision": "approve", "approved_amount": 200000, "interest_rate_pct": 4.5,
          "underwriting_notes": "Taken over after the SLA breach."})
    # escalated cases go to the credit committee whatever the amount
    assert set(open_tasks(bank, case_id)) == {"committee_approval"}
    work(bank, case_id, "committee_approval", "cecil", {"approval_decision": "approve", "approval_comment": "OK"})
    contract_to_disbursement(bank, case_id)
    detail = finished(bank, case_id)
    assert detail.variables["escalated"] is True and detail.variables["disbursed"] is True
    assert ("escalated_review", "mona") in performed(detail) and ("committee_approval", "cecil") in performed(detail)
    assert "underwriter_review" not in [e for e, _ in performed(detail)]


def test_who_underwrote_an_escalated_loan_cannot_approve_it_in_committee(open_bank, clock):
    bank = open_bank(at=MONDAY_10_SHANGHAI)
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
        tasks.claim(bank, committee.id, "dual")
    work(bank, case_id, "committee_approval", "cecil", {"approval_decision": "approve", "approval_comment": "OK"})


def test_loan_withdrawn_when_the_customer_misses_10_business_days(open_bank, clock):
    bank = open_bank(at=MONDAY_10_SHANGHAI)
    case_id = loan_to_underwriting(bank, loan_intake(), documents_complete=False)
    upload = open_tasks(bank, case_id)["provide_documents"]
    assert upload.assignee == "carl" and iso(upload.due_at) == "2026-03-16T02:00:00Z"
    clock.set(utc(2026, 3, 13, 9, 0))  # Friday 17:00 in Shanghai: 9 business days
    run_due_jobs(bank)
    assert set(open_tasks(bank, case_id)) == {"provide_documents"}
    clock.set(utc(2026, 3, 16, 1, 59))  # Monday 09:59
    run_due_jobs(bank)
    assert set(open_tasks(bank, case_id)) == {"provide_documents"}
    clock.set(utc(2026, 3, 16, 2, 0))  # Monday 10:00: 10 business days
    run_due_jobs(bank)
    detail = finished(bank, case_id)
    assert detail.variables["application_status"] == "withdrawn"
    assert detail.variables["withdrawal_reason"] == "documents not provided within 10 business days"
    assert task_status(bank, case_id, "provide_documents") == ["cancelled"]
    assert [e.element_id for e in events(bank, case_id, "timer_fired")] == ["documents_overdue"]
    assert performed(detail) == [("loan_intake", "olga"), ("document_check", "olga")]


def test_documents_returned_in_time_cancel_the_withdrawal_timer(open_bank, clock):
    bank = open_bank(at=MONDAY_10_SHANGHAI)
    case_id = loan_to_underwriting(bank, loan_intake(), documents_complete=False)
    clock.set(utc(2026, 3, 12, 2, 0))
    work(bank, case_id, "provide_documents", "carl", {"documents_uploaded": "payslips"})
    clock.set(utc(2026, 3, 17, 2, 0))
    run_due_jobs(bank)
    assert set(open_tasks(bank, case_id)) == {"document_check"}
    assert events(bank, case_id, "timer_fired") == []
