"""Simulated back-office systems for the demo and the tests.

Deterministic stand-ins for the systems a real bank would call (core banking,
credit bureau, AML screening, a chatbot, the CRM, the marketing platform, the
letter service, the feedback analytics platform): same input, same answer, no
network. The process library in processes/ names these topics; its README lists
which model uses which.
"""
from __future__ import annotations

import hashlib
from typing import Any

from engine.connectors.registry import ConnectorError

SANCTIONED_NAMES = {"ivan sanctioned", "acme shell holdings"}
FAQ = {
    "opening hours": "Branches are open 09:00-17:00, Monday to Friday.",
    "card": "You can block a lost card in the mobile app under Cards > Block.",
    "interest": "Current savings rates are listed on our Rates page.",
}


def _digits(text: str, count: int) -> str:
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[:count]


def create_account(variables: dict[str, Any]) -> dict[str, Any]:
    """Core banking: open the account and return its number."""
    customer = str(variables.get("customer_name") or variables.get("customer_id") or "")
    if not customer:
        raise ConnectorError("core banking refused: no customer_name or customer_id")
    return {"account_number": "62" + _digits(customer, 14), "account_opened": True}


def credit_report(variables: dict[str, Any]) -> dict[str, Any]:
    """Credit bureau: a score from 300 to 850, stable per customer."""
    customer = str(variables.get("customer_id") or variables.get("customer_name") or "")
    if not customer:
        raise ConnectorError("credit bureau refused: no customer_id or customer_name")
    return {"bureau_score": 300 + int(_digits(customer, 6)) % 551, "bureau_checked": True}


def aml_screening(variables: dict[str, Any]) -> dict[str, Any]:
    """AML screening against a (tiny) sanctions list."""
    name = str(variables.get("customer_name") or "").strip().lower()
    hit = name in SANCTIONED_NAMES
    return {"aml_hit": hit, "aml_reason": "name on sanctions list" if hit else ""}


def chatbot_answer(variables: dict[str, Any]) -> dict[str, Any]:
    """The chatbot answers known questions and says when a human is needed."""
    question = str(variables.get("question") or "").lower()
    for keyword, answer in FAQ.items():
        if keyword in question:
            return {"bot_resolved": True, "bot_answer": answer}
    return {"bot_resolved": False, "bot_answer": ""}


def transaction_history(variables: dict[str, Any]) -> dict[str, Any]:
    """Data warehouse: a summary of a customer segment's recent transactions."""
    segment = str(variables.get("segment") or "retail")
    return {"avg_monthly_transactions": 20 + int(_digits(segment, 3)) % 80, "history_analysed": True}


def crm_update(variables: dict[str, Any]) -> dict[str, Any]:
    """CRM: log the study's customer contacts in the interaction history of the segment."""
    segment = str(variables.get("segment") or "")
    if not segment:
        raise ConnectorError("CRM refused: no segment to file the interactions under")
    contacts = int(variables.get("responses_received") or 0) + int(variables.get("participants") or 0)
    key = f"{segment}:{variables.get('study_title') or ''}"
    return {"crm_interaction_id": "CRM-" + _digits(key, 8), "crm_contacts_logged": contacts, "crm_updated": True}


def publish_campaign(variables: dict[str, Any]) -> dict[str, Any]:
    """Marketing platform: schedule the approved content on the planned channels."""
    name = str(variables.get("campaign_name") or "")
    if not name:
        raise ConnectorError("marketing platform refused: no campaign_name")
    channels = [c.strip() for c in str(variables.get("online_channels") or "").split(",") if c.strip()]
    if int(variables.get("branches_involved") or 0) > 0:
        channels.append("branches")
    return {"campaign_id": "CMP-" + _digits(name, 8), "published_channels": len(channels),
            "campaign_published": True}


def disburse_loan(variables: dict[str, Any]) -> dict[str, Any]:
    """Core banking: pay the approved amount out to the disbursement account."""
    amount = int(variables.get("approved_amount") or 0)
    account = str(variables.get("disbursement_account") or "")
    if amount <= 0 or not account:
        raise ConnectorError("core banking refused the disbursement: approved_amount and disbursement_account "
                             "are required")
    reference = "DSB-" + _digits(f"{variables.get('contract_number')}:{account}:{amount}", 10)
    return {"disbursement_reference": reference, "disbursed_amount": amount, "disbursed": True}


def send_customer_letter(variables: dict[str, Any]) -> dict[str, Any]:
    """Letter service: send the approved complaint response to the customer."""
    customer = str(variables.get("customer_id") or variables.get("customer_name") or "")
    text = str(variables.get("response_text") or "")
    if not customer or not text:
        raise ConnectorError("letter service refused: customer_id and response_text are required")
    return {"letter_reference": "LTR-" + _digits(customer + text, 8), "response_sent": True}


def feedback_analytics(variables: dict[str, Any]) -> dict[str, Any]:
    """Feedback analytics platform: response rate and a satisfaction band from NPS and CSAT."""
    responses, sample = int(variables.get("responses") or 0), int(variables.get("sample_size") or 0)
    nps, csat = float(variables.get("nps") or 0), float(variables.get("csat") or 0)
    if sample <= 0:
        raise ConnectorError("feedback analytics refused: sample_size must be positive")
    if nps >= 30 and csat >= 4.0:
        band = "good"
    elif nps < 0 or csat < 3.0:
        band = "poor"
    else:
        band = "fair"
    return {"response_rate_pct": round(responses * 100.0 / sample, 1), "satisfaction_band": band}


HANDLERS = {
    "core_banking_create_account": create_account,
    "core_banking_disburse": disburse_loan,
    "credit_bureau_report": credit_report,
    "aml_screening": aml_screening,
    "chatbot_answer": chatbot_answer,
    "transaction_history": transaction_history,
    "crm_update": crm_update,
    "publish_campaign": publish_campaign,
    "send_customer_letter": send_customer_letter,
    "feedback_analytics": feedback_analytics,
}
