"""Tiny BPMN/DMN processes run by SpiffWorkflow with a given script engine (no database).

Shared by the sandbox tests and the sandbox attack tests.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

_BPMN = """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://bankflow.test">
  <bpmn:process id="process" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_work</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_work" sourceRef="start" targetRef="work"/>
    {work}
  </bpmn:process>
</bpmn:definitions>"""

_SCRIPT_TASK = """
    <bpmn:scriptTask id="work" scriptFormat="python">
      <bpmn:incoming>to_work</bpmn:incoming><bpmn:outgoing>to_end</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="work" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>"""

_GATEWAY = """
    <bpmn:exclusiveGateway id="work" default="to_no">
      <bpmn:incoming>to_work</bpmn:incoming>
      <bpmn:outgoing>to_yes</bpmn:outgoing><bpmn:outgoing>to_no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_yes" sourceRef="work" targetRef="yes">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_no" sourceRef="work" targetRef="no"/>
    <bpmn:endEvent id="yes"><bpmn:incoming>to_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="no"><bpmn:incoming>to_no</bpmn:incoming></bpmn:endEvent>"""

_RULE_TASK = """
    <bpmn:businessRuleTask id="work" camunda:decisionRef="risk">
      <bpmn:incoming>to_work</bpmn:incoming><bpmn:outgoing>to_end</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="work" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>"""

_DMN = """<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn" name="risk"
    namespace="http://bankflow.test">
  <decision id="risk" name="Risk">
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="in_score" label="Score">
        <inputExpression id="in_score_expr" typeRef="integer"><text>credit_score</text></inputExpression>
      </input>
      <input id="in_segment" label="Segment">
        <inputExpression id="in_segment_expr" typeRef="string"><text>segment</text></inputExpression>
      </input>
      <output id="out_risk" label="Risk" name="risk" typeRef="string"/>
      {rules}
    </decisionTable>
  </decision>
</definitions>"""


def _rule(index: int, score: str, segment: str, risk: str) -> str:
    return (
        f'<rule id="rule{index}">'
        f'<inputEntry id="r{index}a"><text>{escape(score)}</text></inputEntry>'
        f'<inputEntry id="r{index}b"><text>{escape(segment)}</text></inputEntry>'
        f'<outputEntry id="r{index}o"><text>{escape(risk)}</text></outputEntry></rule>'
    )


def _run(work: str, data: dict, engine: PythonScriptEngine, dmn: str | None = None) -> BpmnWorkflow:
    parser = CamundaParser() if dmn else BpmnParser()
    parser.add_bpmn_str(_BPMN.format(work=work).encode())
    if dmn:
        parser.add_dmn_str(dmn.encode())
    workflow = BpmnWorkflow(parser.get_spec("process"), script_engine=engine)
    workflow.get_next_task(state=TaskState.READY).data.update(data)
    workflow.do_engine_steps()
    return workflow


def run_script_task(script: str, data: dict, engine: PythonScriptEngine) -> dict:
    """Run a start -> script task -> end process; returns the final data."""
    workflow = _run(_SCRIPT_TASK.format(script=escape(script)), data, engine)
    assert workflow.is_completed()
    return workflow.data


def run_gateway(condition: str, data: dict, engine: PythonScriptEngine) -> str:
    """Run a start -> exclusive gateway (condition or default) process; returns the end reached."""
    workflow = _run(_GATEWAY.format(condition=escape(condition)), data, engine)
    assert workflow.is_completed()
    ends = {task.task_spec.name for task in workflow.get_tasks(state=TaskState.COMPLETED)} & {"yes", "no"}
    assert len(ends) == 1
    return ends.pop()


def run_decision(rules: list[tuple[str, str, str]], data: dict, engine: PythonScriptEngine) -> dict:
    dmn = _DMN.format(rules="".join(_rule(i, *rule) for i, rule in enumerate(rules)))
    workflow = _run(_RULE_TASK, data, engine, dmn=dmn)
    assert workflow.is_completed()
    return workflow.data
