"""What deploy refuses because it cannot run (Java delegates no connector answers, forms bankflow
cannot show, messages, sequence flows to nothing), what it only warns about (users who do not
exist), and that every message is in modelling terms: each asserted word for word, with the
file, element and line, for every file of an upload at once."""
from __future__ import annotations

import pytest

from engine.bpmn.intake import SourceFile
from engine.errors import DeployError
from engine.services import deployments, users
from engine.json_shapes import deployment_view
from tests.service.test_deploy import STRAIGHT, bpmn, stored_counts

# bpmn() puts the process on line 3; each model below starts on line 4, one element per line.
EXTERNAL_TASK = 'an external task (camunda:type="external" with a camunda:topic)'
NO_MESSAGES = "but bankflow cannot deliver messages yet"
FORM_HINT = ("a form bankflow cannot show; define its fields with camunda:formData (Camunda Modeler: Forms > Type: "
             "Generated Task Forms)")


def around(node: str, extra: str = "") -> str:
    """start -> node "n" -> end, one element per line: the node is on line 5, flow a on 7, flow b on 8."""
    return "\n".join([
        '<bpmn:startEvent id="start"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>',
        node,
        '<bpmn:endEvent id="end"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>',
        '<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="n"/>',
        '<bpmn:sequenceFlow id="b" sourceRef="n" targetRef="end"/>',
        extra])


def element(kind: str, attributes: str = "", inner: str = "") -> str:
    return (f'<bpmn:{kind} id="n" {attributes}><bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing>'
            f'{inner}</bpmn:{kind}>')


def problems_of(ctx, *files: tuple[str, bytes]) -> list[tuple]:
    before = stored_counts(ctx)
    with pytest.raises(DeployError) as caught:
        deployments.deploy(ctx, [SourceFile(name, content) for name, content in files])
    assert stored_counts(ctx) == before, "a refused deployment must store nothing"
    return [(p.file, p.element, p.line, p.message) for p in caught.value.deploy_problems]


# 1. Java delegates

@pytest.mark.parametrize(("attribute", "value"), [
    ("delegateExpression", "${interestCalculator}"),
    ("class", "org.example.InterestDelegate"),
    ("expression", "#{interest.calculate(amount)}"),
])
def test_a_java_delegate_no_connector_answers_is_refused(ctx, attribute, value):
    model = bpmn(around(element("serviceTask", f'camunda:{attribute}="{value}"')))
    assert problems_of(ctx, ("loan.bpmn", model)) == [(
        "loan.bpmn", "n", 5,
        f"service task n uses camunda:{attribute} {value}, a Java delegate that bankflow cannot call; make it "
        f"{EXTERNAL_TASK} answered by a connector or worker")]


def test_a_java_delegate_that_a_connector_answers_deploys(ctx):
    ctx.connectors.register("interestCalculator", lambda variables: {"interest": 1})
    model = bpmn(around(element("serviceTask", 'camunda:delegateExpression="${interestCalculator}"')))
    result = deployments.deploy(ctx, [SourceFile("loan.bpmn", model)])
    assert result.definitions[0].status == "new" and result.warnings == ()


def test_an_external_task_deploys_whether_or_not_a_connector_answers_it(ctx):
    model = bpmn(around(element("serviceTask", 'camunda:type="external" camunda:topic="scoring"')))
    assert deployments.deploy(ctx, [SourceFile("loan.bpmn", model)]).definitions[0].status == "new"


def test_a_business_rule_task_with_a_java_delegate_is_refused(ctx):
    model = bpmn(around(element("businessRuleTask", 'camunda:class="org.example.Rules"')))
    assert problems_of(ctx, ("rules.bpmn", model)) == [(
        "rules.bpmn", "n", 5,
        "business rule task n uses camunda:class org.example.Rules, a Java delegate that bankflow cannot call; "
        "give it a camunda:decisionRef naming a DMN decision uploaded with it")]


# 2. Forms bankflow cannot show

def test_a_user_task_with_only_a_form_key_is_refused(ctx):
    model = bpmn(around(element("userTask", 'camunda:formKey="camunda-forms:app:review.form"')))
    assert problems_of(ctx, ("review.bpmn", model)) == [(
        "review.bpmn", "n", 5, f"user task n uses camunda:formKey camunda-forms:app:review.form, {FORM_HINT}")]


def test_a_start_event_with_only_a_form_key_is_refused(ctx):
    body = around(element("userTask")).replace(
        '<bpmn:startEvent id="start">', '<bpmn:startEvent id="start" camunda:formKey="embedded:app:start.html">')
    assert problems_of(ctx, ("review.bpmn", bpmn(body))) == [(
        "review.bpmn", "start", 4, f"start event start uses camunda:formKey embedded:app:start.html, {FORM_HINT}")]


def test_a_misspelt_performer_is_refused_at_its_element(ctx):
    marked = ('<bpmn:extensionElements><camunda:properties><camunda:property name="performer" value="customers"/>'
              '</camunda:properties></bpmn:extensionElements>')
    model = bpmn(around(element("userTask").replace('<bpmn:incoming>', marked + '<bpmn:incoming>', 1)))
    assert problems_of(ctx, ("review.bpmn", model)) == [(
        "review.bpmn", "n", 5, "the performer property is 'customers'; it must be customer or staff")]


def test_a_form_key_with_generated_fields_deploys(ctx):
    form = ('<bpmn:extensionElements><camunda:formData><camunda:formField id="ok" type="boolean"/>'
            '</camunda:formData></bpmn:extensionElements>')
    model = bpmn(around(element("userTask", 'camunda:formKey="embedded:app:review.html"').replace(
        "<bpmn:incoming>", form + "<bpmn:incoming>", 1)))
    assert deployments.deploy(ctx, [SourceFile("review.bpmn", model)]).definitions[0].status == "new"


# 3. Users who do not exist: warnings, and the deployment goes ahead

NAMING_USERS = bpmn(around(
    element("userTask", 'camunda:assignee="zoe" camunda:candidateUsers="ann, yan, ${reviewer}, xia"'),
    '<bpmn:userTask id="customer" camunda:assignee="${applicant_user}"/>'),
    process_id="simple").replace(b'isExecutable="true"', b'isExecutable="true" camunda:candidateStarterUsers="cara"')


def test_users_who_do_not_exist_are_warnings_and_the_deployment_goes_ahead(ctx):
    users.add_user(ctx, "ann", "secret123")
    result = deployment_view(deployments.deploy(ctx, [SourceFile("review.bpmn", NAMING_USERS)]))
    assert result["definitions"] == [{"key": "simple", "version": 1, "name": None, "status": "new"}]
    assert result["warnings"] == [
        {"file": "review.bpmn", "element": "simple", "line": 3,
         "message": "process simple may be started by 'cara' (camunda:candidateStarterUsers), but there is no user "
                    "'cara' yet: they cannot start it until they are added"},
        {"file": "review.bpmn", "element": "n", "line": 5,
         "message": "user task n is assigned to 'zoe' (camunda:assignee), but there is no user 'zoe' yet: nobody "
                    "can work on the task until that user is added"},
        {"file": "review.bpmn", "element": "n", "line": 5,
         "message": "user task n offers the task to 'yan' and 'xia' (camunda:candidateUsers), but there are no "
                    "users 'yan' and 'xia' yet: they cannot claim it until they are added"},
    ]


def test_the_warnings_go_once_the_users_exist(ctx):
    deployments.deploy(ctx, [SourceFile("review.bpmn", NAMING_USERS)])
    for name in ("cara", "zoe", "ann", "yan", "xia"):
        users.add_user(ctx, name, "secret123")
    again = deployment_view(deployments.deploy(ctx, [SourceFile("review.bpmn", NAMING_USERS)]))
    assert again == {"deployment_id": None, "warnings": [],
                     "definitions": [{"key": "simple", "version": 1, "name": None, "status": "unchanged"}]}


def test_the_designer_page_says_who_a_task_is_assigned_to(ctx):
    deployments.deploy(ctx, [SourceFile("review.bpmn", NAMING_USERS)])
    detail = {e.id: e for e in deployments.definition_detail(ctx, "simple").elements}
    assert (detail["n"].assignee, detail["n"].assignee_is_user) == ("zoe", False)
    assert (detail["customer"].assignee, detail["customer"].assignee_is_user) == ("${applicant_user}", True)


# 4. Messages

MESSAGE = '<bpmn:messageEventDefinition messageRef="Message_docs"/>'
DEFINED_MESSAGE = '<bpmn:message id="Message_docs" name="docs_received"/>'


@pytest.mark.parametrize(("node", "says"), [
    (element("intermediateCatchEvent", inner=MESSAGE),
     f"intermediate catch event n waits for message 'docs_received', {NO_MESSAGES}; use a user task or a timer"),
    (element("receiveTask", 'messageRef="Message_docs"'),
     f"receive task n waits for message 'docs_received', {NO_MESSAGES}; use a user task or a timer"),
    (element("sendTask", 'messageRef="Message_docs"'),
     f"send task n sends message 'docs_received', {NO_MESSAGES}; make it a service task, {EXTERNAL_TASK} "
     "answered by a connector"),
    (element("intermediateThrowEvent", inner=MESSAGE),
     f"intermediate throw event n sends message 'docs_received', {NO_MESSAGES}; send it from a service task, "
     f"{EXTERNAL_TASK} answered by a connector"),
    (element("receiveTask"), f"receive task n waits for a message, {NO_MESSAGES}; use a user task or a timer"),
], ids=["intermediate_catch", "receive_task", "send_task", "intermediate_throw", "unnamed"])
def test_message_events_and_tasks_are_refused(ctx, node, says):
    model = bpmn(around(node)).replace(b"</bpmn:definitions>", DEFINED_MESSAGE.encode() + b"</bpmn:definitions>")
    assert problems_of(ctx, ("docs.bpmn", model)) == [("docs.bpmn", "n", 5, says)]


def test_a_message_start_event_is_refused(ctx):
    body = around(element("userTask")).replace('<bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>',
                                               f'<bpmn:outgoing>a</bpmn:outgoing>{MESSAGE}</bpmn:startEvent>')
    model = bpmn(body).replace(b"</bpmn:definitions>", DEFINED_MESSAGE.encode() + b"</bpmn:definitions>")
    assert problems_of(ctx, ("docs.bpmn", model)) == [(
        "docs.bpmn", "start", 4, f"start event start waits for message 'docs_received', {NO_MESSAGES}; use a plain "
                                 "start event (cases are started from the Start page or with bankflow start)")]


def test_an_event_based_gateway_waiting_on_a_message_is_refused_at_the_event(ctx):
    body = "\n".join([
        '<bpmn:startEvent id="start"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>',
        '<bpmn:eventBasedGateway id="wait"><bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>m</bpmn:outgoing>'
        '<bpmn:outgoing>t</bpmn:outgoing></bpmn:eventBasedGateway>',
        f'<bpmn:intermediateCatchEvent id="Event_1"><bpmn:incoming>m</bpmn:incoming><bpmn:outgoing>m2</bpmn:outgoing>'
        f'{MESSAGE}</bpmn:intermediateCatchEvent>',
        '<bpmn:intermediateCatchEvent id="Event_2"><bpmn:incoming>t</bpmn:incoming><bpmn:outgoing>t2</bpmn:outgoing>'
        '<bpmn:timerEventDefinition><bpmn:timeDuration>P5D</bpmn:timeDuration></bpmn:timerEventDefinition>'
        '</bpmn:intermediateCatchEvent>',
        '<bpmn:endEvent id="end"><bpmn:incoming>m2</bpmn:incoming><bpmn:incoming>t2</bpmn:incoming></bpmn:endEvent>',
        '<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="wait"/>',
        '<bpmn:sequenceFlow id="m" sourceRef="wait" targetRef="Event_1"/>',
        '<bpmn:sequenceFlow id="t" sourceRef="wait" targetRef="Event_2"/>',
        '<bpmn:sequenceFlow id="m2" sourceRef="Event_1" targetRef="end"/>',
        '<bpmn:sequenceFlow id="t2" sourceRef="Event_2" targetRef="end"/>'])
    model = bpmn(body).replace(b"</bpmn:definitions>", DEFINED_MESSAGE.encode() + b"</bpmn:definitions>")
    assert problems_of(ctx, ("docs.bpmn", model)) == [(
        "docs.bpmn", "Event_1", 6,
        f"intermediate catch event Event_1 waits for message 'docs_received', {NO_MESSAGES}; use a user task or a "
        "timer")]


# 5. Modelling terms instead of the libraries' texts

def test_a_sequence_flow_to_a_missing_element_is_named_at_the_flow(ctx):
    body = around(element("userTask")).replace('targetRef="end"', 'targetRef="ServiceTask_1_missing"')
    assert problems_of(ctx, ("flows.bpmn", bpmn(body))) == [(
        "flows.bpmn", "b", 8, "sequence flow b points to ServiceTask_1_missing, which does not exist")]


def test_a_sequence_flow_from_a_missing_element_is_named_at_the_flow(ctx):
    body = around(element("userTask")).replace('sourceRef="start"', 'sourceRef="Task_gone"')
    assert problems_of(ctx, ("flows.bpmn", bpmn(body))) == [(
        "flows.bpmn", "a", 7, "sequence flow a starts at Task_gone, which does not exist")]


SUBPROCESS = ('<bpmn:subProcess id="n"><bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing>{inner}'
              '</bpmn:subProcess>')


@pytest.mark.parametrize(("body", "where", "says"), [
    (around(element("userTask")).replace(
        '<bpmn:sequenceFlow id="b" sourceRef="n" targetRef="end"/>',
        '<bpmn:sequenceFlow id="b" sourceRef="n" targetRef="end"/><bpmn:sequenceFlow id="c" sourceRef="n" '
        'targetRef="end"/>'),
     ("n", 5), "user task n has more than one outgoing sequence flow, which bankflow cannot follow from this kind "
               "of element: draw one flow to a gateway and split there (a parallel gateway to do both, an exclusive "
               "gateway to choose one)"),
    (around(SUBPROCESS.format(inner='<bpmn:startEvent id="inner_start"/>')),
     ("n", 5), "subprocess n has no end event: add one where its work ends"),
    (around(SUBPROCESS.format(inner='<bpmn:endEvent id="inner_end"/>')),
     ("n", 5), "subprocess n needs exactly one start event; it has 0"),
    (around(element("complexGateway")), ("n", 5), "complex gateway n is a kind of element bankflow cannot run"),
    (around(element("userTask")).replace('id="end"', 'id="n"'),
     ("n", 6), "not valid BPMN 2.0: the id 'n' is used by 2 elements (lines 5 and 6): every element needs its own id"),
    (around(element("userTask")).replace('<bpmn:endEvent id="end">', '<bpmn:endEvent id="end" bogus="1">'),
     (None, 6), "not valid BPMN 2.0: bpmn:endEvent has an attribute 'bogus' that BPMN 2.0 does not allow there"),
    (around(element("userTask")).replace('id="start"', 'id="1 start"'),
     (None, 4), "not valid BPMN 2.0: the id '1 start' of bpmn:startEvent is not a valid id: an id starts with a "
                "letter or _ and has no spaces or colons"),
    (around(element("userTask").replace('<bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing>',
                                        '<bpmn:outgoing>b</bpmn:outgoing><bpmn:incoming>a</bpmn:incoming>')),
     (None, 5), "not valid BPMN 2.0: bpmn:incoming is not allowed at this place; BPMN 2.0 expects one of "
                "bpmn:outgoing, bpmn:ioSpecification, bpmn:property, bpmn:dataInputAssociation, "
                "bpmn:dataOutputAssociation, bpmn:resourceRole, bpmn:performer, bpmn:humanPerformer, "
                "bpmn:potentialOwner, bpmn:loopCharacteristics here (the elements may be in the wrong order: re-save "
                "the file in the modeller)"),
], ids=["two_outgoing_flows", "subprocess_without_end", "subprocess_without_start", "complex_gateway",
        "id_used_twice", "unknown_attribute", "malformed_id", "elements_out_of_order"])
def test_library_refusals_are_said_in_modelling_terms(ctx, body, where, says):
    assert problems_of(ctx, ("model.bpmn", bpmn(body))) == [("model.bpmn", *where, says)]


def test_a_process_defined_in_two_files_is_named(ctx):
    assert problems_of(ctx, ("a.bpmn", bpmn(STRAIGHT)), ("b.bpmn", bpmn(STRAIGHT))) == [(
        "b.bpmn", "simple", 3, "the id 'simple' names two processes or subprocesses of this upload: give each its "
                               "own id")]


# 6. Every file's problems in one answer

def test_every_broken_file_of_an_upload_is_reported(ctx):
    missing_target = around(element("userTask")).replace('targetRef="end"', 'targetRef="Gone"')
    delegate = around(element("serviceTask", 'camunda:class="org.example.Open"'))
    bad_condition = around(element("userTask")).replace(
        '<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="n"/>',
        '<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="n"><bpmn:conditionExpression>${a.size()}'
        '</bpmn:conditionExpression></bpmn:sequenceFlow>')
    found = problems_of(ctx, ("first.bpmn", bpmn(missing_target, "first")), ("fine.bpmn", bpmn(STRAIGHT, "fine")),
                        ("second.bpmn", bpmn(delegate, "second")), ("third.bpmn", bpmn(bad_condition, "third")),
                        ("notes.bpmn", b"not xml"))
    assert [(file, element, line) for file, element, line, _ in found] == [
        ("notes.bpmn", None, 1), ("first.bpmn", "b", 8), ("second.bpmn", "n", 5), ("third.bpmn", "a", 7)]
    assert found[1][3] == "sequence flow b points to Gone, which does not exist"
    assert found[2][3].startswith("service task n uses camunda:class org.example.Open, a Java delegate")
    assert "method calls such as 'size(...)'" in found[3][3]


def test_a_broken_decision_table_is_reported_once_not_as_missing(ctx):
    from tests.service.test_deploy import BAD_CELL_DMN

    caller = around(element("businessRuleTask", 'camunda:decisionRef="segment_fee"'))
    found = problems_of(ctx, ("fees.bpmn", bpmn(caller, "fees")), ("fees.dmn", BAD_CELL_DMN))
    assert {file for file, *_ in found} == {"fees.dmn"}
