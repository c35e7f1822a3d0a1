"""Account opening: risk rating, the second KYC officer for high-risk customers, rejections."""
from __future__ import annotations

import pytest

from engine.errors import PermissionDenied
from engine.services import instances, tasks
from tests.helpers.process_library import finished, open_tasks, performed, refused, serve, work


APPLICANT = {"customer_name": "Grace Hopper", "customer_id": "C-2001", "id_document_type": "resident_id",
             "id_document_number": "110101199001011234", "date_of_birth": "1990-01-01",
             "country_of_residence": "CN", "occupation": "salaried", "account_type": "savings",
             "expected_monthly_turnover": 20000, "pep": False}
VERIFIED = {"id_verified": True, "verification_method": "in_person", "source_of_funds": "salary"}
WELCOME = {"welcome_channel": "branch", "debit_card_issued": True, "online_banking_activated": True}


def account_application(ctx, verifier="kai", verified=VERIFIED, **applicant):
    case = instances.start(ctx, "account_opening", business_key="ACC-1", user="bea")
    work(ctx, case.id, "capture_application", "bea", {**APPLICANT, **applicant})
    work(ctx, case.id, "verify_identity", verifier, verified)
    serve(ctx)
    return case.id


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
    v = detail.variables
    assert (v["risk_rating"], v["monitoring_level"]) == (rating, monitoring)
    assert v["aml_hit"] is False and v["account_opened"] is True and v["account_number"].startswith("62")
    assert performed(detail) == [("capture_application", "bea"), ("verify_identity", "kai"),
                                 ("aml_screening", "test-worker"), ("create_account", "test-worker"),
                                 ("welcome_customer", "bea")]


def test_high_risk_account_approved_by_a_second_kyc_officer(bank):
    case_id = account_application(bank, pep=True)
    approval = open_tasks(bank, case_id)["high_risk_approval"]
    assert approval.candidate_groups == ("kyc_compliance",)
    refused(bank, case_id, "high_risk_approval", "kai")
    with pytest.raises(PermissionDenied, match="four-eyes"):
        tasks.assign(bank, approval.id, "mona", "kai")
    work(bank, case_id, "high_risk_approval", "kim",
         {"enhanced_due_diligence_done": True, "approval_decision": "approve", "approval_comment": "EDD complete."})
    serve(bank)
    work(bank, case_id, "welcome_customer", "bea", WELCOME)
    detail = finished(bank, case_id)
    assert detail.variables["risk_rating"] == "high"
    assert detail.variables["monitoring_level"] == "enhanced_due_diligence"
    assert detail.variables["account_opened"] is True
    assert ("verify_identity", "kai") in performed(detail) and ("high_risk_approval", "kim") in performed(detail)


REJECTION_NOTICE = {"customer_informed_via": "letter", "rejection_letter_reference": "REJ-2026-001"}


def test_high_risk_account_rejected_with_reason(bank):
    case_id = account_application(bank, country_of_residence="US", expected_monthly_turnover=900000)
    work(bank, case_id, "high_risk_approval", "kim",
         {"enhanced_due_diligence_done": True, "approval_decision": "reject",
          "approval_comment": "Source of funds not plausible."})
    work(bank, case_id, "inform_rejection", "bea", REJECTION_NOTICE)
    detail = finished(bank, case_id)
    v = detail.variables
    assert v["application_status"] == "rejected" and "account_number" not in v
    assert v["rejection_reason"] == "high-risk customer not approved: Source of funds not plausible."


def test_unverified_identity_is_rejected_without_screening(bank):
    case_id = account_application(bank, verified={**VERIFIED, "id_verified": False})
    work(bank, case_id, "inform_rejection", "bea", REJECTION_NOTICE)
    detail = finished(bank, case_id)
    assert detail.variables["rejection_reason"] == "identity could not be verified"
    assert "aml_screening" not in [e for e, _ in performed(detail)]


def test_sanctions_hit_is_rejected(bank):
    case_id = account_application(bank, customer_name="Ivan Sanctioned")
    work(bank, case_id, "inform_rejection", "bea", REJECTION_NOTICE)
    detail = finished(bank, case_id)
    assert detail.variables["aml_hit"] is True and "risk_rating" not in detail.variables
    assert detail.variables["rejection_reason"] == "AML screening: name on sanctions list"
