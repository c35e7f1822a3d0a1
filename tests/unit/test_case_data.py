"""A case's data in the forms' words and order (engine.services.case_data), read from a real model."""
from __future__ import annotations

from pathlib import Path

from engine.bpmn.elements import NS, describe_process
from engine.bpmn.xmlsafe import parse
from engine.runtime.specs import RunnableDefinition
from engine.services.case_data import case_data, element_names

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "case_words.bpmn"


def definition() -> RunnableDefinition:
    process = parse(FIXTURE.read_bytes()).getroot().find("bpmn:process", NS)
    return RunnableDefinition(1, "loan_words", 1, "Loan in words", "P3D", "24x7", describe_process(process), None)


def test_variables_come_in_the_order_the_forms_ask_them_then_the_rest():
    variables = {"zeta": 1, "signed_off": True, "rate_pct": 3.85, "decision": "approve", "checked": True,
                 "first_payment": "2027-01-15", "wants_insurance": False, "amount": 80000, "customer_name": "Li"}
    data = case_data(definition(), variables)
    # start form, then the review task, then the sign-off task; then the rest by what is shown
    assert [d.name for d in data] == ["customer_name", "amount", "wants_insurance", "first_payment", "decision",
                                      "rate_pct", "signed_off", "checked", "zeta"]
    assert [d.label for d in data][:4] == ["Customer name", "Amount (CNY)", "Insurance wanted", "First payment"]
    assert {d.name: d.type for d in data} == {
        "customer_name": "string", "amount": "long", "wants_insurance": "boolean", "first_payment": "date",
        "decision": "enum", "rate_pct": "double", "signed_off": "boolean", "checked": None, "zeta": None}
    decision = next(d for d in data if d.name == "decision")
    assert decision.options == (("approve", "Approve"), ("decline", "Decline")) and decision.value == "approve"


def test_only_the_cases_variables_are_listed_and_a_field_shown_read_only_lends_its_label():
    elements = describe_process(parse(FIXTURE.read_bytes()).getroot().find("bpmn:process", NS))
    elements["start"]["form"] = [f for f in elements["start"]["form"] if f["id"] != "amount"]  # now only shown
    only_shown = RunnableDefinition(1, "loan_words", 1, None, None, None, elements, None)
    data = case_data(only_shown, {"checked": True, "amount": 5, "decision": "decline"})
    assert [(d.name, d.label) for d in data] == [("decision", "Decision"), ("amount", "Amount (CNY)"),
                                                 ("checked", "checked")]


def test_element_names_are_the_named_elements():
    names = element_names(definition())
    assert names["review"] == "Review application" and names["sign_off"] == "Sign off the loan"
    assert all(names.values())
