"""Simulated back-office systems for the demo and the tests.

Deterministic stand-ins for the systems a real bank would call (core banking,
credit bureau, AML screening, a chatbot): same input, same answer, no network.
"""
from __future__ import annotations

import hashlib
from typing import Any

from engine.connectors import ConnectorError

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


HANDLERS = {
    "core_banking_create_account": create_account,
    "credit_bureau_report": credit_report,
    "aml_screening": aml_screening,
    "chatbot_answer": chatbot_answer,
    "transaction_history": transaction_history,
}
