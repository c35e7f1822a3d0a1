"""Deploying: versions, identical re-uploads, and clear refusals that store nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.services import deployments, instances, tasks
from engine.bpmn.intake import SourceFile
from engine.errors import DeployError
from engine.store.models import Deployment, DeploymentFile, ProcessDefinition
from engine.json_shapes import deployment_view

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://bankflow.test">\n')


def bpmn(body: str, process_id: str = "simple", executable: str = "true") -> bytes:
    return (HEADER + f'<bpmn:process id="{process_id}" isExecutable="{executable}">\n{body}\n</bpmn:process>\n'
            "</bpmn:definitions>\n").encode()


STRAIGHT = """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="work" name="Work"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
"""


def stored_counts(ctx):
    with ctx.database.session_factory() as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in
                     (Deployment, DeploymentFile, ProcessDefinition))


def refused(ctx, *files: tuple[str, bytes]) -> list:
    before = stored_counts(ctx)
    with pytest.raises(DeployError) as caught:
        deployments.deploy(ctx, [SourceFile(name, content) for name, content in files])
    assert stored_counts(ctx) == before, "a refused deployment must store nothing"
    return caught.value.deploy_problems


def test_identical_reupload_is_a_noop_and_changes_make_versions(ctx):
    first = deployment_view(deployments.deploy(ctx, [SourceFile("simple.bpmn", bpmn(STRAIGHT))]))
    assert first["definitions"] == [{"key": "simple", "version": 1, "name": None, "status": "new"}]
    again = deployment_view(deployments.deploy(ctx, [SourceFile("simple.bpmn", bpmn(STRAIGHT))]))
    assert again == {"deployment_id": None, "warnings": [],
                     "definitions": [{"key": "simple", "version": 1, "name": None, "status": "unchanged"}]}
    assert stored_counts(ctx) == (1, 1, 1)
    changed = deployments.deploy(ctx, [SourceFile("simple.bpmn", bpmn(STRAIGHT.replace('name="Work"', 'name="Do it"')))])
    assert changed.definitions[0].version == 2
    assert [(d.key, d.version) for d in deployments.list_definitions(ctx)] == [("simple", 1), ("simple", 2)]


def test_running_instances_keep_their_version(ctx, staff):
    deployments.deploy(ctx, [SourceFile("simple.bpmn", bpmn(STRAIGHT))])
    old = instances.start(ctx, "simple", user="ann")
    deployments.deploy(ctx, [SourceFile("simple.bpmn", bpmn(STRAIGHT.replace('name="Work"', 'name="New work"')))])
    new = instances.start(ctx, "simple", user="ann")
    assert (old.version, new.version) == (1, 2)
    old_task = tasks.list_tasks(ctx, instance_id=old.id)[0]
    assert old_task.name == "Work"
    tasks.claim(ctx, old_task.id, "ann")
    assert tasks.complete(ctx, old_task.id, "ann").instance.status == "completed"


def test_not_xml(ctx):
    [problem] = refused(ctx, ("notes.bpmn", b"this is not xml"))
    assert problem.file == "notes.bpmn" and "not well-formed XML" in problem.message


def test_truncated_xml(ctx):
    content = bpmn(STRAIGHT)
    [problem] = refused(ctx, ("cut.bpmn", content[: len(content) // 2]))
    assert problem.file == "cut.bpmn" and "not well-formed XML" in problem.message and problem.line


def test_not_bpmn(ctx):
    [problem] = refused(ctx, ("page.bpmn", b"<html><body>hi</body></html>"))
    assert problem.file == "page.bpmn" and "not a BPMN 2.0 or DMN file" in problem.message
    assert "<html>" in problem.message


def test_doctype_is_refused(ctx):
    evil = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            + bpmn(STRAIGHT).split(b"?>", 1)[1])
    [problem] = refused(ctx, ("evil.bpmn", evil))
    assert "DOCTYPE" in problem.message


def test_no_executable_process_says_how_to_fix(ctx):
    [problem] = refused(ctx, ("draft.bpmn", bpmn(STRAIGHT, executable="false")))
    assert problem.file == "draft.bpmn" and problem.element == "simple"
    assert "not executable" in problem.message and 'isExecutable="true"' in problem.message


def test_missing_start_event(ctx):
    body = """
<bpmn:userTask id="work"><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>"""
    [problem] = refused(ctx, ("nostart.bpmn", bpmn(body)))
    assert problem.element == "simple" and "no start event" in problem.message and problem.line


def test_gateway_branch_without_condition_or_default(ctx):
    body = """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:exclusiveGateway id="gw"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>yes</bpmn:outgoing><bpmn:outgoing>no</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:endEvent id="e1"><bpmn:incoming>yes</bpmn:incoming></bpmn:endEvent>
<bpmn:endEvent id="e2"><bpmn:incoming>no</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>
<bpmn:sequenceFlow id="yes" sourceRef="gw" targetRef="e1"><bpmn:conditionExpression>amount &gt; 5</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="e2"/>"""
    [problem] = refused(ctx, ("gateway.bpmn", bpmn(body)))
    assert problem.file == "gateway.bpmn" and problem.element == "gw" and problem.line
    assert "sequence flow 'no'" in problem.message and "default" in problem.message


def test_call_activity_to_unknown_process(ctx):
    body = """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:callActivity id="call_kyc" calledElement="kyc_check"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call_kyc"/>
<bpmn:sequenceFlow id="f2" sourceRef="call_kyc" targetRef="end"/>"""
    [problem] = refused(ctx, ("caller.bpmn", bpmn(body, "caller")))
    assert problem.file == "caller.bpmn" and problem.element == "call_kyc"
    assert "'kyc_check'" in problem.message


def test_call_activity_to_process_deployed_earlier(ctx, staff):
    deployments.deploy(ctx, [SourceFile("kyc.bpmn", bpmn(STRAIGHT, "kyc_check"))])
    body = """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:callActivity id="call_kyc" calledElement="kyc_check"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call_kyc"/>
<bpmn:sequenceFlow id="f2" sourceRef="call_kyc" targetRef="end"/>"""
    result = deployments.deploy(ctx, [SourceFile("caller.bpmn", bpmn(body, "caller"))])
    assert [d.key for d in result.definitions] == ["caller"]
    started = instances.start(ctx, "caller", user="ann")
    [task] = tasks.list_tasks(ctx, instance_id=started.id)
    assert task.element_id == "work"
    tasks.claim(ctx, task.id, "ann")
    assert tasks.complete(ctx, task.id, "ann").instance.status == "completed"


def test_schema_violation_names_line(ctx):
    body = STRAIGHT.replace('<bpmn:endEvent id="end">', '<bpmn:endEvent id="end" bogus="1">')
    [problem] = refused(ctx, ("bad.bpmn", bpmn(body)))
    assert "not valid BPMN 2.0" in problem.message and "bogus" in problem.message and problem.line


def test_problems_from_several_files_are_all_reported(ctx):
    problems = refused(ctx, ("a.bpmn", b"nope"), ("b.bpmn", bpmn(STRAIGHT, executable="false")),
                       ("c.bpmn", bpmn(STRAIGHT, "fine")))
    assert [p.file for p in problems] == ["a.bpmn", "b.bpmn"]  # an unreadable file does not hide the others
    problems = refused(ctx, ("b.bpmn", bpmn(STRAIGHT, executable="false")), ("c.bpmn", bpmn(STRAIGHT, "fine")))
    assert [p.file for p in problems] == ["b.bpmn"]


def test_bad_form_field_type(ctx):
    body = STRAIGHT.replace(
        '<bpmn:userTask id="work" name="Work">',
        '<bpmn:userTask id="work" name="Work"><bpmn:extensionElements><camunda:formData>'
        '<camunda:formField id="x" type="money"/></camunda:formData></bpmn:extensionElements>')
    [problem] = refused(ctx, ("form.bpmn", bpmn(body)))
    assert problem.element == "work" and "type 'money'" in problem.message


def test_executable_flag_marks_a_single_pool_executable(ctx):
    result = deployments.deploy(ctx, [SourceFile("draft.bpmn", bpmn(STRAIGHT, executable="false"))],
                                make_executable=True)
    assert result.definitions[0].key == "simple"


def test_executable_flag_refuses_files_with_several_processes(ctx):
    two = bpmn(STRAIGHT, "one", "false").replace(
        b"</bpmn:definitions>", b'<bpmn:process id="two" isExecutable="false"/></bpmn:definitions>')
    with pytest.raises(DeployError, match="exactly one process; this one has 2 \\(one, two\\)"):
        deployments.deploy(ctx, [SourceFile("pair.bpmn", two)], make_executable=True)
    assert stored_counts(ctx) == (0, 0, 0)


BAD_CELL_DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" name="d" namespace="http://bankflow.test">
  <decision id="segment_fee" name="Fee">
    <decisionTable id="table">
      <input id="i1"><inputExpression id="ie1"><text>segment</text></inputExpression></input>
      <output id="o1" name="fee" />
      <rule id="ok_rule"><inputEntry id="e1"><text>"retail"</text></inputEntry><outputEntry id="o1e"><text>5</text></outputEntry></rule>
      <rule id="bad_rule"><inputEntry id="e2"><text>not in ("sme", "corporate")</text></inputEntry><outputEntry id="o2e"><text>9</text></outputEntry></rule>
      <rule id="evil_rule"><inputEntry id="e3"><text>"x"</text></inputEntry><outputEntry id="o3e"><text>().__class__</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def test_dmn_cells_that_cannot_run_are_refused_at_deploy(ctx):
    problems = refused(ctx, ("fees.dmn", BAD_CELL_DMN))
    assert [(p.file, p.element) for p in problems] == [("fees.dmn", "bad_rule"), ("fees.dmn", "evil_rule")]
    assert "rule 2, input 1" in problems[0].message and "not in" in problems[0].message
    assert "rule 3, output 1" in problems[1].message and "__class__" in problems[1].message


def test_camunda_listeners_are_refused_not_ignored(ctx):
    body = STRAIGHT.replace(
        '<bpmn:userTask id="work" name="Work">',
        '<bpmn:userTask id="work" name="Work"><bpmn:extensionElements>'
        '<camunda:taskListener event="create" class="org.example.Notify"/></bpmn:extensionElements>')
    [problem] = refused(ctx, ("listener.bpmn", bpmn(body)))
    assert problem.element == "work" and "camunda:taskListener (task listeners) cannot run" in problem.message
