"""The README's table of supported BPMN constructs, and one sample upload per row.

Every row of the table (between `<!-- support-table -->` markers) names a construct in
SAMPLES: a list of files to deploy and the start variables.
"""
from __future__ import annotations

from pathlib import Path

from engine.bpmn.intake import SourceFile

README = Path(__file__).resolve().parents[2] / "README.md"
HEAD = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bankflow.test">')
DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="risk_defs" name="Risk" namespace="http://bankflow.test">
  <decision id="risk_rating" name="Risk rating">
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="in1" label="Score"><inputExpression id="ie1" typeRef="integer"><text>score</text></inputExpression></input>
      <output id="out1" name="risk" typeRef="string" />
      <rule id="r1"><inputEntry id="e1"><text>&gt;= 650</text></inputEntry><outputEntry id="o1"><text>"low"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="e2"><text>&lt; 650</text></inputEntry><outputEntry id="o2"><text>"high"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def flow(node: str, extra: str = "", executable: str = "true", process_attrs: str = "") -> bytes:
    """start -> node(s) -> end, where `node` has id "n" (and may be several elements ending in "n")."""
    return (HEAD + f'<bpmn:process id="p" isExecutable="{executable}" {process_attrs}>'
            '<bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>'
            f'{node}<bpmn:endEvent id="e"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="a" sourceRef="s" targetRef="n"/><bpmn:sequenceFlow id="b" sourceRef="n" targetRef="e"/>'
            f'{extra}</bpmn:process></bpmn:definitions>').encode()


def gateway(condition: str, default: bool = True) -> bytes:
    default_attr = ' default="no"' if default else ""
    return (HEAD + '<bpmn:process id="p" isExecutable="true">'
            '<bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>'
            f'<bpmn:exclusiveGateway id="g"{default_attr}><bpmn:incoming>a</bpmn:incoming>'
            '<bpmn:outgoing>yes</bpmn:outgoing><bpmn:outgoing>no</bpmn:outgoing></bpmn:exclusiveGateway>'
            '<bpmn:endEvent id="e1"><bpmn:incoming>yes</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:endEvent id="e2"><bpmn:incoming>no</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="a" sourceRef="s" targetRef="g"/>'
            f'<bpmn:sequenceFlow id="yes" sourceRef="g" targetRef="e1"><bpmn:conditionExpression>{condition}'
            '</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:sequenceFlow id="no" sourceRef="g" targetRef="e2"/>'
            '</bpmn:process></bpmn:definitions>').encode()


def task(kind: str, attrs: str = "", inner: str = "", extensions: str = "") -> str:
    return (f'<bpmn:{kind} id="n" {attrs}>{extensions}<bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing>'
            f'{inner}</bpmn:{kind}>')


def timer_event(tag: str, value: str) -> str:
    return task("intermediateCatchEvent", inner=f"<bpmn:timerEventDefinition><bpmn:{tag}>{value}</bpmn:{tag}>"
                                                 "</bpmn:timerEventDefinition>")


PARALLEL = ('<bpmn:parallelGateway id="fork"><bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>x</bpmn:outgoing>'
            '<bpmn:outgoing>y</bpmn:outgoing></bpmn:parallelGateway>'
            '<bpmn:parallelGateway id="n"><bpmn:incoming>x</bpmn:incoming><bpmn:incoming>y</bpmn:incoming>'
            '<bpmn:outgoing>b</bpmn:outgoing></bpmn:parallelGateway>')
PARALLEL_FLOWS = ('<bpmn:sequenceFlow id="x" sourceRef="fork" targetRef="n"/>'
                  '<bpmn:sequenceFlow id="y" sourceRef="fork" targetRef="n"/>')


def with_fork(content: bytes) -> bytes:
    return content.replace(b'targetRef="n"/><bpmn:sequenceFlow id="b"', b'targetRef="fork"/><bpmn:sequenceFlow id="b"')


SAMPLES: dict[str, tuple[list[SourceFile], dict]] = {
    "User task with camunda:formData, lanes and candidate groups": (
        [SourceFile("p.bpmn", flow(task("userTask", 'camunda:candidateGroups="clerks"', extensions=
                                        '<bpmn:extensionElements><camunda:formData><camunda:formField id="ok" '
                                        'type="boolean"/></camunda:formData></bpmn:extensionElements>')))], {}),
    "User task with only a Camunda Form or embedded form (camunda:formKey)": ([SourceFile("p.bpmn", flow(task(
        "userTask", 'camunda:formKey="camunda-forms:app:review.form"')))], {}),
    "Script task (Python)": ([SourceFile("p.bpmn", flow(task("scriptTask", 'scriptFormat="python"',
                                                            "<bpmn:script>fee = round(100 * 0.015, 2)</bpmn:script>")))], {}),
    "Script task in Groovy or JavaScript": ([SourceFile("p.bpmn", flow(task(
        "scriptTask", 'scriptFormat="groovy"', "<bpmn:script>def x = 1</bpmn:script>")))], {}),
    "Exclusive gateway with Python conditions": ([SourceFile("p.bpmn", gateway("amount &gt; 10"))], {"amount": 5}),
    "Exclusive gateway with JUEL conditions (Camunda 7)": (
        [SourceFile("p.bpmn", gateway("${amount &gt; 10 &amp;&amp; !blocked}"))], {"amount": 50, "blocked": False}),
    "Exclusive gateway with FEEL conditions (Camunda 8)": (
        [SourceFile("p.bpmn", gateway('=amount &gt; 10 and risk = "low"'))], {"amount": 50, "risk": "low"}),
    "Gateway branch with neither condition nor default flow": ([SourceFile("p.bpmn", gateway("", default=False))], {}),
    "JUEL method calls and Spring beans": ([SourceFile("p.bpmn", gateway("${order.size() &gt; 1}"))], {}),
    "Parallel gateway": ([SourceFile("p.bpmn", with_fork(flow(PARALLEL, PARALLEL_FLOWS)))], {}),
    "External service task (camunda:type=\"external\")": ([SourceFile("p.bpmn", flow(task(
        "serviceTask", 'camunda:type="external" camunda:topic="echo"')))], {}),
    "Service task with a Java delegate (answered by a connector)": ([SourceFile("p.bpmn", flow(task(
        "serviceTask", 'camunda:delegateExpression="${echo}"')))], {}),
    "Service task with a Java delegate no connector answers": ([SourceFile("p.bpmn", flow(task(
        "serviceTask", 'camunda:class="org.example.InterestDelegate"')))], {}),
    "Service task without implementation": ([SourceFile("p.bpmn", flow(task("serviceTask")))], {}),
    "Business rule task with a DMN decision table": (
        [SourceFile("p.bpmn", flow(task("businessRuleTask", 'camunda:decisionRef="risk_rating"'))),
         SourceFile("risk.dmn", DMN)], {"score": 700}),
    "Business rule task whose DMN was not uploaded": (
        [SourceFile("p.bpmn", flow(task("businessRuleTask", 'camunda:decisionRef="risk_rating"')))], {}),
    "Embedded subprocess": ([SourceFile("p.bpmn", flow(task("subProcess", inner=(
        '<bpmn:startEvent id="ss"><bpmn:outgoing>sa</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:endEvent id="se"><bpmn:incoming>sa</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="sa" sourceRef="ss" targetRef="se"/>'))))], {}),
    "Timer event with an ISO 8601 duration, date or cycle": ([SourceFile("p.bpmn", flow(
        timer_event("timeDuration", "PT1H")))], {}),
    "Timer with a cron expression": ([SourceFile("p.bpmn", flow(timer_event("timeCycle", "0 0 9 * * ?")))], {}),
    "Message events, receive tasks and send tasks": ([SourceFile("p.bpmn", flow(task("receiveTask")))], {}),
    "Camunda listeners, input/output mappings and connectors": ([SourceFile("p.bpmn", flow(task(
        "task", extensions='<bpmn:extensionElements><camunda:executionListener event="start" '
                           'class="org.example.Audit"/></bpmn:extensionElements>')))], {}),
    "Process not marked executable": ([SourceFile("p.bpmn", flow(task("task"), executable="false"))], {}),
}


def readme_rows() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- support-table -->")[1].split("<!-- /support-table -->")[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0].replace("\\|", "|")] = cells[1]
    return rows
