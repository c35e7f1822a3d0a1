"""Who does an activity's work: the `performer` extension property on a lane or an element, read at
deploy (engine.bpmn.elements), and the library's customer steps marked with it."""
from __future__ import annotations

from pathlib import Path

from lxml import etree

from engine.bpmn.elements import NS, describe_process

LIBRARY = Path(__file__).resolve().parents[2] / "processes"

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="Lane_customers" name="customers">
        <bpmn:extensionElements><camunda:properties>
          <camunda:property name="performer" value="Customer"/>
        </camunda:properties></bpmn:extensionElements>
        <bpmn:flowNodeRef>sign</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>wait_reply</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>notify</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>callback</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_staff" name="clerks">
        <bpmn:flowNodeRef>check</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>upload</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:userTask id="sign" name="Sign"/>
    <bpmn:receiveTask id="wait_reply" name="Reply"/>
    <bpmn:scriptTask id="notify" name="Notify"/>
    <bpmn:userTask id="callback" name="Call back">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="performer" value="staff"/>
      </camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="check" name="Check"/>
    <bpmn:userTask id="upload" name="Upload">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="performer" value="customer"/>
      </camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
  </bpmn:process>
</bpmn:definitions>"""


def performers(xml: bytes) -> dict[str, str]:
    process = etree.fromstring(xml).find("bpmn:process", NS)
    return {element_id: meta["performer"] for element_id, meta in describe_process(process).items()}


def test_a_lane_marks_its_tasks_and_an_element_mark_wins_over_its_lane():
    found = performers(MODEL.encode())
    assert found == {"sign": "customer", "wait_reply": "customer",  # the lane's tasks
                     "notify": "staff",      # an automated step in a customer lane stays the bank's
                     "callback": "staff",    # its own mark wins over the lane's
                     "check": "staff",       # no mark
                     "upload": "customer"}   # its own mark in a staff lane


def test_the_library_marks_exactly_the_tasks_the_applicant_does():
    for path in sorted(LIBRARY.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for process in root.iterfind("bpmn:process", NS):
            described = describe_process(process)
            customer = {e for e, meta in described.items() if meta["performer"] == "customer"}
            assigned_to_applicant = {e for e, meta in described.items()
                                     if (meta.get("assignee") or "").startswith("${applicant")}
            assert customer == assigned_to_applicant, path.name
    loan = etree.parse(str(LIBRARY / "loan_application.bpmn")).getroot().find("bpmn:process", NS)
    assert describe_process(loan)["sign_contract"]["performer"] == "customer"
