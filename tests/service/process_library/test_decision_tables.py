"""The library's DMN decision tables, each run through a one-task probe process."""
from __future__ import annotations

import pytest

from engine.bpmn.intake import SourceFile
from engine.services import deployments, instances
from tests.helpers.process_library import LIBRARY


PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="probe_defs" targetNamespace="http://bankflow.test">
  <bpmn:process id="probe_DECISION" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="decide" camunda:decisionRef="DECISION">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide" />
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def decide(ctx, decision, inputs):
    source = SourceFile(f"probe_{decision}.bpmn", PROBE.replace("DECISION", decision).encode())
    deployments.deploy(ctx, [source, *deployments.read_sources([LIBRARY / f"{decision}.dmn"])])
    case = instances.start(ctx, f"probe_{decision}", inputs)
    detail = instances.get_instance(ctx, case.id)
    assert detail.status == "completed", detail.incident_message
    return detail.variables


@pytest.mark.parametrize("inputs, rating, monitoring", [
    ({"pep": True, "country_of_residence": "CN", "expected_monthly_turnover": 1000, "occupation": "student"},
     "high", "enhanced_due_diligence"),
    ({"pep": False, "country_of_residence": "US", "expected_monthly_turnover": 200001, "occupation": "salaried"},
     "high", "enhanced_due_diligence"),
    ({"pep": False, "country_of_residence": "other", "expected_monthly_turnover": 200000, "occupation": "salaried"},
     "medium", "enhanced"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 500001, "occupation": "retired"},
     "high", "enhanced_due_diligence"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 500000, "occupation": "salaried"},
     "medium", "enhanced"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 100001, "occupation": "student"},
     "medium", "enhanced"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 100000, "occupation": "business_owner"},
     "medium", "enhanced"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 100000, "occupation": "salaried"},
     "low", "standard"),
    ({"pep": False, "country_of_residence": "CN", "expected_monthly_turnover": 0, "occupation": "retired"},
     "low", "standard"),
])
def test_account_risk_rating_decision(ctx, inputs, rating, monitoring):
    result = decide(ctx, "account_risk_rating", inputs)
    assert (result["risk_rating"], result["monitoring_level"]) == (rating, monitoring)


@pytest.mark.parametrize("score, dti, collateral, grade, recommendation", [
    (700, 35.0, "none", "A", "approve"),
    (850, 35.1, "none", "B", "approve"),
    (700, 50.0, "property", "B", "approve"),
    (600, 40.0, "none", "B", "approve"),
    (699, 40.1, "none", "C", "refer"),
    (650, 50.0, "vehicle", "C", "refer"),
    (600, 50.1, "deposit", "D", "decline"),
    (800, 75.0, "property", "D", "decline"),
    (599, 10.0, "property", "C", "refer"),
    (599, 10.0, "none", "D", "decline"),
    (300, 50.1, "property", "D", "decline"),
])
def test_credit_decision(ctx, score, dti, collateral, grade, recommendation):
    result = decide(ctx, "credit_decision", {"bureau_score": score, "dti_pct": dti, "collateral": collateral})
    assert (result["credit_grade"], result["recommendation"]) == (grade, recommendation)
