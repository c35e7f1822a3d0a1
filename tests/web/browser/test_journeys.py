"""What designers, staff and managers do in a real browser (docs/architecture.md §1.2, the Web app issue)."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from engine.services import deployments, instances, tasks, worker

ENQUIRY = Path(__file__).resolve().parents[3] / "processes" / "customer_enquiry.bpmn"
BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="broken" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:exclusiveGateway id="decide"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="start">
      <bpmn:conditionExpression>${amount &gt;</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""


def test_designer_uploads_a_process_and_an_invalid_file_shows_its_errors(visit, people, tmp_path):
    dana = visit()
    dana.sign_in("dana")
    dana.go("/designer", "designer")
    broken = tmp_path / "broken.bpmn"
    broken.write_text(BROKEN)
    dana.page.get_by_label("Files exported from Camunda Modeler or bpmn.io").set_input_files(str(broken))
    dana.page.get_by_role("button", name="Deploy").click()
    problems = dana.page.get_by_test_id("deploy-problems")
    expect(problems).to_contain_text("broken.bpmn")
    expect(problems.locator("tbody tr").first.locator("td").nth(2)).to_have_text(re.compile(r"\d+"))
    dana.shot("upload-refused")
    assert [d.key for d in deployments.list_definitions(people)] == ["loan_review"]  # nothing stored

    dana.page.get_by_label("Files exported from Camunda Modeler or bpmn.io").set_input_files(str(ENQUIRY))
    dana.page.get_by_role("button", name="Deploy").click()
    expect(dana.page.get_by_role("status")).to_contain_text("customer_enquiry v1")
    dana.shot("uploaded")
    dana.page.get_by_role("link", name="Customer enquiry").click()
    diagram = dana.page.locator(".diagram[data-ready=true]")
    expect(diagram).to_be_visible()
    flow_nodes = [e.id for e in deployments.definition_detail(people, "customer_enquiry").elements]
    assert len(flow_nodes) > 5
    for element_id in flow_nodes:
        expect(diagram.locator(f'[data-element-id="{element_id}"]')).to_have_count(1)
    diagram.locator('[data-element-id="agent_answer"]').click()
    expect(dana.page.locator('[data-element="agent_answer"]')).to_be_visible()
    expect(dana.page.locator('[data-element="agent_answer"]')).to_contain_text("Contact centre")  # no title: the id in words
    dana.shot("definition")
    assert dana.csp_violations == []


def test_staff_fix_a_bad_value_and_the_next_task_goes_to_the_other_group(visit, people):
    case = instances.start(people, "loan_review", business_key="L-42", user="olga")
    olga = visit()
    olga.sign_in("olga")
    olga.go("/tasks?view=group", "group-tasks")
    olga.page.get_by_role("link", name="Capture application").click()
    olga.page.get_by_role("button", name="Claim").click()
    olga.shot("claimed")
    olga.page.get_by_label("Amount").fill("0")
    olga.page.get_by_label("Credit score").fill("610")
    olga.page.get_by_role("button", name="Complete").click()
    expect(olga.page.locator("#amount-problem")).to_have_text("must be at least 1")
    expect(olga.page.get_by_label("Credit score")).to_have_value("610")  # the input is kept
    olga.shot("refused-value")
    olga.page.get_by_label("Amount").fill("25000")
    olga.page.get_by_role("button", name="Complete").click()
    expect(olga.page.get_by_role("status")).to_contain_text("Task completed")
    olga.go("/tasks?view=group", "olga-after")
    expect(olga.page.get_by_role("link", name="Approve loan")).to_have_count(0)

    max_ = visit()
    max_.sign_in("max")
    max_.go("/tasks?view=group", "max-group-tasks")
    expect(max_.page.get_by_role("link", name="Approve loan")).to_be_visible()
    [approve] = tasks.list_tasks(people, instance_id=case.id)
    assert approve.element_id == "approve"
    assert olga.csp_violations == [] and max_.csp_violations == []


def test_manager_sees_the_history_and_the_current_activity_on_the_diagram(visit, people):
    deployments.deploy(people, deployments.read_sources([ENQUIRY]))
    case = instances.start(people, "customer_enquiry", {"question": "Why was my transfer held?"},
                           business_key="E-7", user="olga")
    worker.run_pass(people, "test-worker")  # the chatbot cannot answer: the contact centre must
    mona = visit()
    mona.sign_in("mona")
    mona.go(f"/cases/{case.id}", "case")
    expect(mona.page.locator(".history")).to_contain_text("Service answered")
    expect(mona.page.locator(".history")).to_contain_text("olga")
    diagram = mona.page.locator(".diagram[data-ready=true]")
    expect(diagram.locator('.djs-element.current[data-element-id="agent_answer"]')).to_have_count(1)
    expect(diagram.locator('.djs-element.completed[data-element-id="chatbot"]')).to_have_count(1)
    expect(diagram.locator(".djs-element.current")).to_have_count(1)
    mona.shot("case-diagram")
    assert mona.csp_violations == []


def test_the_sign_in_page_in_chinese_and_in_english(visit):
    chinese = visit(locale="zh-CN")
    chinese.go("/login", "zh")
    expect(chinese.page.get_by_role("heading", level=1)).to_have_text("登录 bankflow")
    expect(chinese.page.get_by_label("用户名")).to_be_visible()
    english = visit(locale="en-US")
    english.go("/login", "en")
    expect(english.page.get_by_role("heading", level=1)).to_have_text("Sign in to bankflow")
    english.page.get_by_label("Language").select_option("zh_Hans")
    expect(english.page.get_by_role("heading", level=1)).to_have_text("登录 bankflow")
    english.shot("switched")
