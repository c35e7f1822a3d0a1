"""Every sandbox attack, uploaded in a BPMN file and run by the engine, is refused at
deploy or ends in an incident; nothing escapes and the engine keeps serving."""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from engine.services import deployments, instances
from engine.bpmn.intake import SourceFile
from engine.errors import DeployError
from tests.helpers.attacks import ATTACKS, STATIC, Attack

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'id="d" targetNamespace="http://bankflow.test">\n<bpmn:process id="attack" isExecutable="true">\n'
          '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n')
FOOTER = "</bpmn:process></bpmn:definitions>\n"
ENDS = ('<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="node"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="node" targetRef="end"/>')


def as_script_task(code: str) -> str:
    return (f'<bpmn:scriptTask id="node" scriptFormat="python"><bpmn:incoming>f1</bpmn:incoming>'
            f'<bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>{escape(code)}</bpmn:script></bpmn:scriptTask>{ENDS}')


def as_gateway(code: str) -> str:
    return ('<bpmn:exclusiveGateway id="node" default="f3"><bpmn:incoming>f1</bpmn:incoming>'
            '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>'
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:endEvent id="other"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="node"/>'
            f'<bpmn:sequenceFlow id="f2" sourceRef="node" targetRef="end"><bpmn:conditionExpression>{escape(code)}'
            '</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="f3" sourceRef="node" targetRef="other"/>')


def as_timer(code: str) -> str:
    return (f'<bpmn:intermediateCatchEvent id="node"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
            f'<bpmn:timerEventDefinition><bpmn:timeDuration>{escape(code)}</bpmn:timeDuration>'
            f'</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>{ENDS}')


FORMS = {"script_task": (as_script_task, Attack.script_for),
         "gateway": (as_gateway, Attack.expression_for),
         "timer": (as_timer, Attack.expression_for)}
ORDINARY = as_script_task("total = sum([1, 2, 3])")
# A timer text that starts with P, R or a digit is read as an ISO 8601 literal; these attacks'
# texts do, so their timer form is refused at deploy as not a valid duration.
READ_AS_ISO_TIMERS = {"power_bomb", "shift_bomb", "decimal_round_bomb", "modular_pow_bomb", "round_bomb"}


def expected_outcome(attack: Attack, form: str) -> str:
    """'refused' when the deploy checks catch the payload, else 'incident' when it runs."""
    static = attack.expect if form == "script_task" else attack.expression_outcome
    if static == STATIC or (form == "timer" and attack.name in READ_AS_ISO_TIMERS):
        return "refused"
    return "incident"


def deploy_and_run(ctx, body: str) -> str:
    """'refused' at deploy, or the status the started instance ends in."""
    try:
        deployments.deploy(ctx, [SourceFile("attack.bpmn", (HEADER + body + FOOTER).encode())])
    except DeployError:
        return "refused"
    return instances.start(ctx, "attack").status


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_is_refused_or_an_incident_as_expected(tight_limits, tmp_path: Path, attack: Attack, form: str):
    ctx = tight_limits
    marker = tmp_path / "MARKER"
    build, payload = FORMS[form]
    outcome = deploy_and_run(ctx, build(payload(attack, marker)))
    assert not marker.exists(), f"{attack.name} escaped the sandbox as a {form}"
    assert outcome == expected_outcome(attack, form)
    # The engine is unharmed: an ordinary process still deploys and completes.
    assert deploy_and_run(ctx, ORDINARY) == "completed"
