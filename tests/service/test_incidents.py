"""A failing step puts the instance into incident, keeps its state, and retry resumes it."""
from __future__ import annotations

import pytest

from engine.services import deployments, instances, tasks
from engine.bpmn.intake import SourceFile
from engine.errors import Conflict
from engine.services.execution import load_case, restore
from engine.services.unit_of_work import unit_of_work

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bankflow.test">\n')


def process(body: str, key: str = "fragile") -> SourceFile:
    return SourceFile(f"{key}.bpmn", (HEADER + f'<bpmn:process id="{key}" isExecutable="true">{body}</bpmn:process>'
                                      "</bpmn:definitions>").encode())


CAPTURE_THEN_SCRIPT = """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="capture" name="Capture">
  <bpmn:extensionElements><camunda:formData>
    <camunda:formField id="amount" type="long" /><camunda:formField id="months" type="long" />
  </camunda:formData></bpmn:extensionElements>
  <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
<bpmn:scriptTask id="instalment" name="Compute instalment" scriptFormat="python"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
  <bpmn:script>note = 'computing'
instalment = round(amount / months, 2)</bpmn:script></bpmn:scriptTask>
<bpmn:exclusiveGateway id="route"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>big</bpmn:outgoing><bpmn:outgoing>small</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:endEvent id="e_big"><bpmn:incoming>big</bpmn:incoming></bpmn:endEvent>
<bpmn:endEvent id="e_small"><bpmn:incoming>small</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="capture"/>
<bpmn:sequenceFlow id="f2" sourceRef="capture" targetRef="instalment"/>
<bpmn:sequenceFlow id="f3" sourceRef="instalment" targetRef="route"/>
<bpmn:sequenceFlow id="big" sourceRef="route" targetRef="e_big"><bpmn:conditionExpression>instalment &gt; limit</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="small" sourceRef="route" targetRef="e_small"><bpmn:conditionExpression>instalment &lt; 100</bpmn:conditionExpression></bpmn:sequenceFlow>
"""


@pytest.fixture
def fragile(ctx, staff):
    deployments.deploy(ctx, [process(CAPTURE_THEN_SCRIPT)])
    case = instances.start(ctx, "fragile", {"limit": 500}, user="ann")
    [task] = tasks.list_tasks(ctx, instance_id=case.id)
    tasks.claim(ctx, task.id, "ann")
    return ctx, case.id, task.id


def test_script_error_is_an_incident_that_keeps_the_completed_work(fragile):
    ctx, case_id, task_id = fragile
    result = tasks.complete(ctx, task_id, "ann", {"amount": 1200, "months": 0})
    assert result.instance.status == "incident"
    detail = instances.get_instance(ctx, case_id)
    assert detail.incident_element == "instalment"
    assert detail.incident_message == "ZeroDivisionError:division by zero (line 2)"
    [incident] = [e for e in detail.history if e.type == "incident"]
    assert incident.element_id == "instalment" and incident.payload["message"] == detail.incident_message
    # The clerk's work is kept; the failed script left nothing behind.
    assert detail.variables["amount"] == 1200 and "note" not in detail.variables
    assert [t.status for t in detail.tasks] == ["completed"]

    retried = instances.retry(ctx, case_id, {"months": 24}, user=None)
    assert retried.status == "completed"
    final = instances.get_instance(ctx, case_id)
    assert final.variables["instalment"] == 50.0 and final.variables["months"] == 24
    assert [e.type for e in final.history][-2:] == ["retried", "instance_completed"]


def test_no_gateway_branch_is_an_incident_and_retry_can_fix_it(fragile):
    ctx, case_id, task_id = fragile
    # instalment 300: not > 500 and not < 100, and the gateway has no default flow.
    result = tasks.complete(ctx, task_id, "ann", {"amount": 3600, "months": 12})
    assert result.instance.status == "incident"
    detail = instances.get_instance(ctx, case_id)
    assert detail.incident_element == "route"
    assert instances.retry(ctx, case_id).status == "incident"  # same data, same failure
    assert instances.retry(ctx, case_id, {"limit": 200}).status == "completed"


def test_missing_variable_is_an_incident(ctx, staff):
    deployments.deploy(ctx, [process(CAPTURE_THEN_SCRIPT)])
    case = instances.start(ctx, "fragile", user="ann")  # no `limit`
    [task] = tasks.list_tasks(ctx, instance_id=case.id)
    tasks.claim(ctx, task.id, "ann")
    tasks.complete(ctx, task.id, "ann", {"amount": 60000, "months": 12})
    detail = instances.get_instance(ctx, case.id)
    assert detail.status == "incident" and detail.incident_element == "route"
    assert "limit" in detail.incident_message


def test_retry_refuses_instances_without_incident(fragile):
    ctx, case_id, _ = fragile
    with pytest.raises(Conflict, match="not in incident"):
        instances.retry(ctx, case_id)


LOOP = """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:scriptTask id="spin" name="Spin" scriptFormat="python"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  <bpmn:script>n = 0
while stop_at is None or n &lt; stop_at:
    n += 1</bpmn:script></bpmn:scriptTask>
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="spin"/>
<bpmn:sequenceFlow id="f2" sourceRef="spin" targetRef="end"/>
"""


def test_cpu_limit_is_an_incident_and_the_next_case_runs(tight_limits):
    ctx = tight_limits
    deployments.deploy(ctx, [process(LOOP, "spinner")])
    stuck = instances.start(ctx, "spinner", {"stop_at": None})
    assert stuck.status == "incident"
    assert "CPU time limit" in instances.get_instance(ctx, stuck.id).incident_message
    assert instances.start(ctx, "spinner", {"stop_at": 10}).status == "completed"
    assert instances.retry(ctx, stuck.id, {"stop_at": 5}).status == "completed"


def script_then_wait(script: str) -> SourceFile:
    """A script task, then a user task: the script's variables must survive the save in between."""
    return process(f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:scriptTask id="compute" scriptFormat="python"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
<bpmn:userTask id="look" name="Look"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
<bpmn:scriptTask id="use" scriptFormat="python"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
  <bpmn:script>check = (cutoff.hour, grace.days, str(rate))</bpmn:script></bpmn:scriptTask>
<bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute"/>
<bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="look"/>
<bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="use"/>
<bpmn:sequenceFlow id="f4" sourceRef="use" targetRef="end"/>
""", key="kept")


@pytest.mark.parametrize("script, problem", [
    ("tags = {'vip', 'retail'}", "a set"),
    ("names = {1: 'one'}", "dictionary key 1 that is not text"),
    ("ratio = float('nan')", "not finite"),
    ("nested = [{'ok': [frozenset()]}]", "a set"),
])
def test_a_value_task_data_cannot_keep_is_an_incident_at_the_script(ctx, staff, script, problem):
    deployments.deploy(ctx, [script_then_wait(script)])
    case = instances.start(ctx, "kept", user="ann")
    assert case.status == "incident" and case.incident_element == "compute"
    assert problem in case.incident_message and "cannot be stored in task data" in case.incident_message


def test_times_durations_and_decimals_survive_the_save_between_steps(ctx, staff):
    deployments.deploy(ctx, [script_then_wait(
        "cutoff = datetime(2026, 1, 5, 17, 30).time()\ngrace = timedelta(days=2)\nrate = Decimal('0.0425')\npair = (1, 2)")])
    case = instances.start(ctx, "kept", user="ann")
    assert case.status == "running", case.incident_message
    variables = instances.get_instance(ctx, case.id).variables
    assert (variables["cutoff"], variables["grace"], variables["rate"], variables["pair"]) == (
        "17:30:00", "PT172800S", "0.0425", [1, 2])
    [task] = tasks.list_tasks(ctx, instance_id=case.id)
    tasks.claim(ctx, task.id, "ann")
    done = tasks.complete(ctx, task.id, "ann", {}).instance
    assert done.status == "completed", done.incident_message
    assert instances.get_instance(ctx, case.id).variables["check"] == [17, 2, "0.0425"]


def test_a_failed_script_leaves_no_change_made_in_place(ctx, staff):
    deployments.deploy(ctx, [script_then_wait("limits['retail'].append(9)\nticket['state'] = 'half done'\n"
                                              "boom = 1 / 0")])
    case = instances.start(ctx, "kept", {"limits": {"retail": [1]}, "ticket": {"state": "new"}, "note": "x"},
                           user="ann")
    assert case.status == "incident"
    variables = instances.get_instance(ctx, case.id).variables
    assert variables["limits"] == {"retail": [1]} and variables["ticket"] == {"state": "new"}
    fixed = instances.retry(ctx, case.id)
    assert fixed.status == "incident"  # still dividing by zero, and still from the untouched data
    assert instances.get_instance(ctx, case.id).variables["limits"] == {"retail": [1]}


def test_a_script_changes_its_own_copy_never_an_earlier_tasks_data(ctx, staff):
    deployments.deploy(ctx, [process("""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:scriptTask id="extend" scriptFormat="python"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  <bpmn:script>limits['retail'].append(9)</bpmn:script></bpmn:scriptTask>
<bpmn:userTask id="look" name="Look"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="extend"/>
<bpmn:sequenceFlow id="f2" sourceRef="extend" targetRef="look"/>
<bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="end"/>
""", key="grow")])
    case = instances.start(ctx, "grow", {"limits": {"retail": [1]}}, user="ann")
    assert instances.get_instance(ctx, case.id).variables["limits"] == {"retail": [1, 9]}
    with unit_of_work(ctx, read_only=True) as uow:
        workflow = restore(ctx, load_case(ctx, uow, case.id)).workflow
    by_element = {t.task_spec.bpmn_id: t.data for t in workflow.get_tasks() if t.task_spec.bpmn_id}
    assert by_element["start"]["limits"] == {"retail": [1]}  # the start's record is what the case began with
    assert by_element["look"]["limits"] == {"retail": [1, 9]}
