"""Class 5: the designer's test case. Only designers and admins may start one (the service decides), and it
starts the version the page shows, through that version's start form, like /start/<key>."""
from __future__ import annotations

import pytest

from engine.bpmn.intake import SourceFile
from engine.errors import InvalidData, PermissionDenied
from engine.services import deployments, instances, tasks


def intake_process(name: str, maximum: int) -> SourceFile:
    """`intake`: a start form with a required whole number (at most `maximum`), then one user task."""
    return SourceFile("intake.bpmn", f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bankflow.test">
  <bpmn:process id="intake" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="amount" label="Amount" type="long"><camunda:validation>
        <camunda:constraint name="required" /><camunda:constraint name="max" config="{maximum}" />
      </camunda:validation></camunda:formField>
    </camunda:formData></bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="credit_officers">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""".encode())


@pytest.fixture
def two_versions(bank):
    """`intake` v1 (amount at most 100) and v2 (at most 1,000,000), both active."""
    deployments.deploy(bank, [intake_process("Intake v1", 100)])
    deployments.deploy(bank, [intake_process("Intake v2", 1000000)])
    return bank


def cases_of(ctx) -> list:
    return instances.search(ctx).cases


def test_staff_may_not_start_a_test_case_of_a_process_they_may_start(bank, client, sign_in, token):
    sign_in("olga")  # staff; may start loan_review (it names no starters)
    assert client.get("/start/loan_review").status_code == 200
    assert client.get("/designer/definitions/loan_review/1/test-case").status_code == 403
    response = client.post("/designer/definitions/loan_review/1/test-case",
                           data={"csrf_token": token("/tasks"), "business_key": "TEST-x"})
    assert response.status_code == 403
    assert cases_of(bank) == []
    with pytest.raises(PermissionDenied):
        instances.start_test_case(bank, "loan_review", 1, user="olga")


def test_a_test_case_starts_the_version_the_page_shows_through_its_start_form(two_versions, client, sign_in,
                                                                               token):
    sign_in("dana")  # a designer
    page = client.get("/designer/definitions/intake?version=1").get_data(as_text=True)
    assert 'href="/designer/definitions/intake/1/test-case"' in page

    form = client.get("/designer/definitions/intake/1/test-case")
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    assert 'name="amount"' in text and 'value="TEST-intake"' in text and "Intake v1" in text

    # Posting without the form's values no longer skips it: the required field is required.
    refused = client.post("/designer/definitions/intake/1/test-case", data={"csrf_token": token("/tasks")})
    assert refused.status_code == 400
    assert 'id="amount-problem">is required<' in refused.get_data(as_text=True)
    # Version 1's own form decides: 500 is within v2's bound, not within v1's.
    refused = client.post("/designer/definitions/intake/1/test-case",
                          data={"csrf_token": token("/tasks"), "amount": "500", "business_key": "TEST-1"})
    assert refused.status_code == 400 and 'id="amount-problem">must be at most 100<' in refused.get_data(as_text=True)
    assert cases_of(two_versions) == []

    started = client.post("/designer/definitions/intake/1/test-case",
                          data={"csrf_token": token("/tasks"), "amount": "75", "business_key": "TEST-1"})
    assert started.status_code == 302
    [case] = cases_of(two_versions)
    assert (case.definition_key, case.version, case.business_key) == ("intake", 1, "TEST-1")
    assert instances.get_instance(two_versions, case.id).variables["amount"] == 75
    assert tasks.list_tasks(two_versions, instance_id=case.id)[0].element_id == "review"


def test_the_service_refuses_skipping_the_start_form(two_versions):
    with pytest.raises(InvalidData) as refused:
        instances.start_test_case(two_versions, "intake", 2, user="dana")
    assert [p.field for p in refused.value.field_problems] == ["amount"]
    case = instances.start_test_case(two_versions, "intake", 2, user="ada", form={"amount": "500"})
    assert (case.version, case.business_key, case.started_by) == (2, "TEST-intake", "ada")
