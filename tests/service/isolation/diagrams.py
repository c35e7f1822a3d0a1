"""Small BPMN/DMN files for the isolation tests, and a deploy-and-start helper."""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from engine.bpmn.intake import SourceFile
from engine.errors import DeployError
from engine.records.instances import CaseDetail
from engine.services import deployments, instances

BPMN_NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')


def process(body: str, key: str = "iso") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {BPMN_NS} id="d" '
            f'targetNamespace="http://bankflow.test">\n<bpmn:process id="{key}" isExecutable="true">\n'
            f'{body}\n</bpmn:process></bpmn:definitions>\n').encode()


def start(outgoing: str = "f1", inner: str = "", element: str = "start") -> str:
    return f'<bpmn:startEvent id="{element}"><bpmn:outgoing>{outgoing}</bpmn:outgoing>{inner}</bpmn:startEvent>'


def end(incoming: str, element: str = "end") -> str:
    return f'<bpmn:endEvent id="{element}"><bpmn:incoming>{incoming}</bpmn:incoming></bpmn:endEvent>'


def flow(element: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{element}" sourceRef="{source}" targetRef="{target}"/>'
    return (f'<bpmn:sequenceFlow id="{element}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}'
            '</bpmn:conditionExpression></bpmn:sequenceFlow>')


def script(element: str, code: str, incoming: str, outgoing: str, extra: str = "") -> str:
    return (f'<bpmn:scriptTask id="{element}" scriptFormat="python"><bpmn:incoming>{incoming}</bpmn:incoming>'
            f'<bpmn:outgoing>{outgoing}</bpmn:outgoing>{extra}<bpmn:script>{escape(code)}</bpmn:script>'
            '</bpmn:scriptTask>')


def user_task(element: str, incoming: str, outgoing: str, form: str = "", extra: str = "") -> str:
    form_xml = f"<bpmn:extensionElements><camunda:formData>{form}</camunda:formData></bpmn:extensionElements>" \
        if form else ""
    return (f'<bpmn:userTask id="{element}" camunda:candidateGroups="clerks">{form_xml}{extra}'
            f'<bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing></bpmn:userTask>')


def script_process(code: str) -> bytes:
    """start -> script -> end."""
    return process(start() + script("work", code, "f1", "f2") + end("f2") + flow("f1", "start", "work")
                   + flow("f2", "work", "end"))


def gateway_process(condition: str) -> bytes:
    """start -> exclusive gateway: `condition` to `yes`, else `no`."""
    return process(start() + '<bpmn:exclusiveGateway id="work" default="f3"><bpmn:incoming>f1</bpmn:incoming>'
                   '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>'
                   + end("f2", "yes") + end("f3", "no") + flow("f1", "start", "work")
                   + flow("f2", "work", "yes", condition) + flow("f3", "work", "no"))


def timer_definition(kind: str, value: str) -> str:
    return f'<bpmn:timerEventDefinition><bpmn:{kind}>{escape(value)}</bpmn:{kind}></bpmn:timerEventDefinition>'


def timer_process(kind: str, value: str) -> bytes:
    """start -> intermediate timer -> end."""
    return process(start() + f'<bpmn:intermediateCatchEvent id="work"><bpmn:incoming>f1</bpmn:incoming>'
                   f'<bpmn:outgoing>f2</bpmn:outgoing>{timer_definition(kind, value)}</bpmn:intermediateCatchEvent>'
                   + end("f2") + flow("f1", "start", "work") + flow("f2", "work", "end"))


def timer_start_process(kind: str, value: str) -> bytes:
    return process(start(inner=timer_definition(kind, value)) + script("work", "ran = True", "f1", "f2")
                   + end("f2") + flow("f1", "start", "work") + flow("f2", "work", "end"))


def boundary_cycle_process(value: str) -> bytes:
    """A user task with a non-interrupting boundary cycle timer that leads to a script and an end."""
    return process(start() + user_task("review", "f1", "f2") + end("f2")
                   + '<bpmn:boundaryEvent id="remind" attachedToRef="review" cancelActivity="false">'
                   + f'<bpmn:outgoing>f3</bpmn:outgoing>{timer_definition("timeCycle", value)}</bpmn:boundaryEvent>'
                   + script("note", "reminded = True", "f3", "f4") + end("f4", "reminded")
                   + flow("f1", "start", "review") + flow("f2", "review", "end") + flow("f3", "remind", "note")
                   + flow("f4", "note", "reminded"))


def loop_process(body: str, condition: str, setup: str = "count = 0") -> bytes:
    """start -> setup -> body -> gateway: back to body while `condition`, else end."""
    return process(start() + script("setup", setup, "f1", "f2") + script("body", body, "f2b", "f3")
                   + '<bpmn:exclusiveGateway id="again" default="f5"><bpmn:incoming>f3</bpmn:incoming>'
                   '<bpmn:outgoing>f4</bpmn:outgoing><bpmn:outgoing>f5</bpmn:outgoing></bpmn:exclusiveGateway>'
                   '<bpmn:exclusiveGateway id="join"><bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming>'
                   '<bpmn:outgoing>f2b</bpmn:outgoing></bpmn:exclusiveGateway>'
                   + end("f5") + flow("f1", "start", "setup") + flow("f2", "setup", "join")
                   + flow("f2b", "join", "body") + flow("f3", "body", "again")
                   + flow("f4", "again", "join", condition) + flow("f5", "again", "end"))


def multi_instance_process(characteristics: str, setup: str = "pass", human: bool = False) -> bytes:
    """start -> setup script -> a multi-instance script task (or user task) -> end."""
    each = (f'<bpmn:userTask id="each" camunda:candidateGroups="clerks"><bpmn:incoming>f2</bpmn:incoming>'
            f'<bpmn:outgoing>f3</bpmn:outgoing>{characteristics}</bpmn:userTask>' if human else
            '<bpmn:scriptTask id="each" scriptFormat="python"><bpmn:incoming>f2</bpmn:incoming>'
            f'<bpmn:outgoing>f3</bpmn:outgoing>{characteristics}<bpmn:script>done = True</bpmn:script>'
            '</bpmn:scriptTask>')
    return process(start() + script("setup", setup, "f1", "f2") + each + end("f3") + flow("f1", "start", "setup")
                   + flow("f2", "setup", "each") + flow("f3", "each", "end"))


def decision_process(decision: str = "risk") -> bytes:
    return process(start() + f'<bpmn:businessRuleTask id="work" camunda:decisionRef="{decision}">'
                   '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:businessRuleTask>'
                   + end("f2") + flow("f1", "start", "work") + flow("f2", "work", "end"))


def decision_table(rules: list[tuple[str, str]], output_name: str = "risk", decision: str = "risk",
                   input_expression: str = "score") -> bytes:
    """A one-input, one-output DMN table; `rules` are (input cell, output cell)."""
    cells = "".join(
        f'<rule id="r{i}"><inputEntry id="r{i}i"><text>{escape(match)}</text></inputEntry>'
        f'<outputEntry id="r{i}o"><text>{escape(output)}</text></outputEntry></rule>'
        for i, (match, output) in enumerate(rules))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
            f'id="dmn" name="d" namespace="http://bankflow.test"><decision id="{decision}" name="Risk">'
            '<decisionTable id="table" hitPolicy="FIRST"><input id="in1" label="Score">'
            f'<inputExpression id="in1e" typeRef="integer"><text>{escape(input_expression)}</text></inputExpression>'
            f'</input><output id="out1" label="Risk" name={quoteattr(output_name)} typeRef="string"/>{cells}'
            '</decisionTable></decision></definitions>').encode()


def deploy(ctx, *files: tuple[str, bytes]) -> dict:
    return deployments.deploy(ctx, [SourceFile(name, content) for name, content in files])


def refusal(ctx, *files: tuple[str, bytes]) -> str:
    """The deploy error's text; fails when the files deploy."""
    try:
        deploy(ctx, *files)
    except DeployError as exc:
        return str(exc)
    raise AssertionError("the files deployed")


def run(ctx, content: bytes, data: dict | None = None, key: str = "iso", extra: tuple = ()) -> CaseDetail:
    """Deploy `content` (and `extra` files) and start a case; the instance as `get_instance` shows it."""
    deploy(ctx, ("iso.bpmn", content), *extra)
    started = instances.start(ctx, key, data or {})
    return instances.get_instance(ctx, started.id)


def script_then_task_then_script(first: str, second: str, form: str = "") -> bytes:
    """start -> script -> user task (a save and a restore in between) -> script -> end."""
    return process(start() + script("first", first, "f1", "f2") + user_task("review", "f2", "f3", form)
                   + script("second", second, "f3", "f4") + end("f4") + flow("f1", "start", "first")
                   + flow("f2", "first", "review") + flow("f3", "review", "second") + flow("f4", "second", "end"))


def complete_review(ctx, instance_id: int, data: dict | None = None) -> CaseDetail:
    """Claim and complete the case's open user task as a clerk (created on first use)."""
    from engine.services import tasks, users

    if "clerk" not in users.existing_user_names(ctx):
        users.add_user(ctx, "clerk", "secret-password", groups=["clerks"])
    task = tasks.list_tasks(ctx, instance_id=instance_id)[0]
    tasks.claim(ctx, task.id, "clerk")
    tasks.complete(ctx, task.id, "clerk", data or {})
    return instances.get_instance(ctx, instance_id)
