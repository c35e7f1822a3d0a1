"""Structural checks that SpiffWorkflow leaves to run time, done at deploy instead.

A process that would get stuck or fail on its first run (no start event, a
gateway branch that can never be chosen, a call to a process nobody uploaded, a
sequence flow to nothing, a Java delegate or form bankflow cannot run, a message
nobody delivers) is refused at deploy with the element and line, in modelling
terms, so designers fix it before clerks meet it.
"""
from __future__ import annotations

from typing import Callable, Collection

from lxml import etree

from engine.bpmn.elements import (
    CUSTOMER, NS, PERFORMER_PROPERTY, STAFF, called_element, camunda, decision_ref, form_fields, java_delegate,
    local_name, properties, service_topic, split_list, subject, timer_of)
from engine.sla.durations import DurationError, parse_duration
from engine.bpmn.forms import FIELD_TYPES, definition_problems
from engine.errors import N_, DeployProblem, Listing, Message
from engine.runtime.budget import Budget
from engine.runtime.sandbox import SandboxViolation, check_script
from engine.runtime.timer_events import check_timer_literal, timer_literal

CONDITIONAL_GATEWAYS = ("exclusiveGateway", "inclusiveGateway")


def check_process(
    process: etree._Element,
    file_name: str,
    known_process: Callable[[str], bool],
    decisions: dict[str, str],
    connectors: Collection[str] = (),
) -> list[DeployProblem]:
    """Every structural problem of one executable process, in document order; `connectors` are the
    topics bankflow's connectors answer (a Java delegate must name one of them)."""

    def problem(node: etree._Element, message: str) -> DeployProblem:
        return DeployProblem(file_name, message, element=node.get("id"), line=node.sourceline)

    problems: list[DeployProblem] = [problem(process, m) for m in _sla_problems(process)]
    if process.find("bpmn:startEvent", NS) is None:
        problems.append(problem(process, Message("process '%(id)s' has no start event", id=process.get("id"))))
    flows = {f.get("id"): f for f in process.iter("{%s}sequenceFlow" % NS["bpmn"])}
    ids = {node.get("id") for node in process.iter() if isinstance(node.tag, str)} - {None}
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        kind = local_name(node)
        problems.extend(problem(node, m) for m in _unsupported_extensions(node))
        problems.extend(problem(node, m) for m in _performer_problems(node))
        problems.extend(problem(node, m) for m in _message_problems(node))
        problems.extend(problem(node, m) for m in _loop_problems(node))
        if kind == "sequenceFlow":
            problems.extend(problem(node, m) for m in _flow_problems(node, ids))
        elif kind in CONDITIONAL_GATEWAYS:
            problems.extend(problem(node, m) for m in _gateway_problems(node, flows))
        elif kind == "callActivity":
            called = called_element(node)
            if not called:
                problems.append(problem(node, Message("call activity has no calledElement (the process to call)")))
            elif not known_process(called):
                problems.append(problem(
                    node, Message("call activity calls process '%(called)s', which is neither in this upload nor "
                                  "deployed before; upload it together with this file", called=called)))
        elif kind == "businessRuleTask":
            problems.extend(problem(node, m) for m in _business_rule_problems(node, decisions))
        elif kind == "scriptTask":
            problems.extend(problem(node, m) for m in _script_problems(node))
        elif kind == "serviceTask":
            problems.extend(problem(node, m) for m in _service_task_problems(node, connectors))
        elif kind == "startEvent" and node.find("bpmn:timerEventDefinition", NS) is not None:
            problems.extend(problem(node, m) for m in _start_timer_problems(node))
        if kind in ("userTask", "manualTask"):
            problems.extend(problem(node, m) for m in _sla_problems(node))
        if kind in ("userTask", "startEvent"):
            problems.extend(problem(node, m) for m in _form_key_problems(node) or _form_problems(node))
        if kind == "userTask":
            problems.extend(problem(node, m) for m in _four_eyes_problems(node, process))
    return problems


UNSUPPORTED_EXTENSIONS = {
    "executionListener": N_("execution listeners"),
    "taskListener": N_("task listeners"),
    "inputOutput": N_("input/output mappings"),
    "connector": N_("Camunda connectors"),
}


def _unsupported_extensions(node: etree._Element) -> list[Message]:
    """Camunda extensions that would silently not run here are refused instead."""
    found = []
    for child in node.iterfind("bpmn:extensionElements/*", NS):
        if isinstance(child.tag, str) and etree.QName(child).namespace == NS["camunda"]:
            what = UNSUPPORTED_EXTENSIONS.get(local_name(child))
            if what:
                found.append(Message("camunda:%(extension)s (%(what)s) cannot run in bankflow: move the logic into "
                                     "a script task or an external service task", extension=local_name(child),
                                     what=Message(what)))
    return found


def _subject(node: etree._Element) -> str:
    return subject(local_name(node), node.get("id"))


def _delegate_problem(task: etree._Element, delegate: tuple[str, str], advice: str) -> Message:
    attribute, value = delegate
    return Message("%(subject)s uses camunda:%(attribute)s %(value)s, a Java delegate that bankflow cannot call; "
                   "%(advice)s", subject=_subject(task), attribute=attribute, value=value, advice=Message(advice))


def _service_task_problems(task: etree._Element, connectors: Collection[str]) -> list[Message]:
    """A service task runs as a job for connectors and external workers; a Java delegate only when a
    connector answers its name (otherwise its case would wait forever)."""
    topic = service_topic(task)
    if not topic:
        return [Message("service task has no implementation: set camunda:type=\"external\" and a camunda:topic "
                        "that a connector or an external worker serves")]
    if camunda(task, "type") != "external" and (delegate := java_delegate(task)) and topic not in connectors:
        return [_delegate_problem(task, delegate, N_("make it an external task (camunda:type=\"external\" with a "
                                           "camunda:topic) answered by a connector or worker"))]
    return []


def _business_rule_problems(task: etree._Element, decisions: dict[str, str]) -> list[Message]:
    ref = decision_ref(task)
    if not ref and (delegate := java_delegate(task)):
        return [_delegate_problem(task, delegate,
                                  N_("give it a camunda:decisionRef naming a DMN decision uploaded with it"))]
    if not ref:
        return [Message("business rule task has no camunda:decisionRef (the DMN decision to evaluate)")]
    if ref not in decisions:
        return [Message("decision '%(ref)s' was not found: upload the DMN file that defines it with this file",
                        ref=ref)]
    return []


def _flow_problems(flow: etree._Element, ids: set[str]) -> list[Message]:
    """A sequence flow must connect two elements of its process; SpiffWorkflow would otherwise ignore
    it (a missing source) or fail with an internal message (a missing target)."""
    problems = []
    if flow.get("sourceRef") not in ids:
        problems.append(Message("sequence flow %(id)s starts at %(end)s, which does not exist", id=flow.get("id"),
                                end=flow.get("sourceRef") or Message("nothing")))
    if flow.get("targetRef") not in ids:
        problems.append(Message("sequence flow %(id)s points to %(end)s, which does not exist", id=flow.get("id"),
                                end=flow.get("targetRef") or Message("nothing")))
    return problems


FORM_KEY_ATTRIBUTES = ("formKey", "formRef")


def _form_key_problems(node: etree._Element) -> list[Message]:
    """A Camunda Form or embedded HTML form (`camunda:formKey`/`formRef`) without `camunda:formData`
    fields: bankflow shows only generated forms, so the task or start form would have no fields."""
    if node.find("bpmn:extensionElements/camunda:formData/camunda:formField", NS) is not None:
        return []
    for attribute in FORM_KEY_ATTRIBUTES:
        value = (camunda(node, attribute) or "").strip()
        if value:
            return [Message("%(subject)s uses camunda:%(attribute)s %(value)s, a form bankflow cannot show; define "
                            "its fields with camunda:formData (Camunda Modeler: Forms > Type: Generated Task Forms)",
                            subject=_subject(node), attribute=attribute, value=value)]
    return []


MESSAGE_WAITING = {"startEvent", "intermediateCatchEvent", "boundaryEvent", "receiveTask"}
MESSAGE_SENDING = {"intermediateThrowEvent", "endEvent", "sendTask"}
SEND_FROM_SERVICE_TASK = N_("send it from a service task, an external task (camunda:type=\"external\" with a "
                            "camunda:topic) answered by a connector")
MESSAGE_ADVICE = {
    "startEvent": N_("use a plain start event (cases are started from the Start page or with bankflow start)"),
    "intermediateCatchEvent": N_("use a user task or a timer"),
    "boundaryEvent": N_("use a user task or a timer"),
    "receiveTask": N_("use a user task or a timer"),
    "sendTask": N_("make it a service task, an external task (camunda:type=\"external\" with a camunda:topic) "
                   "answered by a connector"),
    "intermediateThrowEvent": SEND_FROM_SERVICE_TASK,
    "endEvent": SEND_FROM_SERVICE_TASK,
}
# (waits, names the message) -> the sentence
MESSAGE_PROBLEMS = {
    (True, True): N_("%(subject)s waits for message '%(name)s', but bankflow cannot deliver messages yet; "
                     "%(advice)s"),
    (True, False): N_("%(subject)s waits for a message, but bankflow cannot deliver messages yet; %(advice)s"),
    (False, True): N_("%(subject)s sends message '%(name)s', but bankflow cannot deliver messages yet; %(advice)s"),
    (False, False): N_("%(subject)s sends a message, but bankflow cannot deliver messages yet; %(advice)s"),
}


def _message_problems(node: etree._Element) -> list[Message]:
    """Message events, receive and send tasks (and so event-based gateways waiting on messages) would wait
    or send forever: bankflow has no message delivery yet."""
    kind = local_name(node)
    if kind in ("receiveTask", "sendTask"):
        ref = node.get("messageRef")
    elif kind in MESSAGE_WAITING | MESSAGE_SENDING:
        definition = node.find("bpmn:messageEventDefinition", NS)
        if definition is None:
            return []
        ref = definition.get("messageRef")
    else:
        return []
    sentence = MESSAGE_PROBLEMS[(kind in MESSAGE_WAITING, bool(ref))]
    named = {"name": _message_name(node, ref)} if ref else {}
    return [Message(sentence, subject=_subject(node), advice=Message(MESSAGE_ADVICE[kind]), **named)]


def _message_name(node: etree._Element, ref: str) -> str:
    """The name of the `<bpmn:message>` a reference points to, else the reference itself."""
    for message in node.getroottree().getroot().iterfind("bpmn:message", NS):
        if message.get("id") == ref:
            return message.get("name") or ref
    return ref


PYTHON_SCRIPT_FORMATS = {"", "python", "py", "python3", "text/python", "text/x-python"}


def _loop_problems(node: etree._Element) -> list[Message]:
    """A multi-instance task whose literal cardinality exceeds the budget's cap would only ever
    end in an incident: refused here (a computed one is checked at run time)."""
    cardinality = node.find("bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality", NS)
    if cardinality is None or not (cardinality.text or "").strip():
        return []
    text = cardinality.text.strip()
    inner = text[2:-1].strip() if text.startswith(("${", "#{")) and text.endswith("}") else text.lstrip("=").strip()
    if len(inner) > 30 or not inner.replace("_", "").isdigit():
        return []
    cap = Budget.from_env().max_instances
    if int(inner) > cap:
        return [Message("the multi-instance cardinality %(count)s is more than the %(cap)s instances a task may "
                        "have (BANKFLOW_MAX_INSTANCES)", count=format(int(inner), ","), cap=format(cap, ","))]
    return []


def _script_problems(task: etree._Element) -> list[Message]:
    script_format = (task.get("scriptFormat") or "").strip()
    if script_format.lower() not in PYTHON_SCRIPT_FORMATS:
        return [Message("script format '%(format)s' is not supported: bankflow runs Python scripts only (rewrite "
                        "the script in Python and set scriptFormat=\"python\")", format=script_format)]
    script = task.find("bpmn:script", NS)
    if script is None or not (script.text or "").strip():
        return [Message("script task has no script")]
    try:
        check_script(script.text)
    except SandboxViolation as exc:
        return [Message("the script is not allowed: %(problem)s", problem=str(exc))]
    return []


def _four_eyes_problems(task: etree._Element, process: etree._Element) -> list[Message]:
    """`fourEyes` names the user tasks (comma-separated) whose performers may not act on this one."""
    named = properties(task).get("fourEyes")
    if named is None:
        return []
    user_tasks = {t.get("id") for t in process.iter("{%s}userTask" % NS["bpmn"])} - {task.get("id")}
    others = split_list(named)
    if not others:
        return [Message("fourEyes is empty: name the user task(s) whose performer may not act on this one")]
    return [Message("fourEyes names '%(other)s', which is not another user task of this process", other=other)
            for other in others if other not in user_tasks]


def _gateway_problems(gateway: etree._Element, flows: dict[str, etree._Element]) -> list[Message]:
    outgoing = [flows[ref.text.strip()] for ref in gateway.iterfind("bpmn:outgoing", NS)
                if ref.text and ref.text.strip() in flows]
    if not outgoing:
        outgoing = [f for f in flows.values() if f.get("sourceRef") == gateway.get("id")]
    if len(outgoing) < 2:
        return []
    default = gateway.get("default")
    messages = []
    for flow in outgoing:
        condition = flow.find("bpmn:conditionExpression", NS)
        has_condition = condition is not None and (condition.text or "").strip()
        if not has_condition and flow.get("id") != default:
            messages.append(Message("sequence flow '%(id)s' leaves the gateway with no condition and is not its "
                                    "default flow: add a condition or mark it as the default flow",
                                    id=flow.get("id")))
    return messages


def _form_problems(task: etree._Element) -> list[Message]:
    messages = []
    seen: set[str] = set()
    for field in task.iterfind("bpmn:extensionElements/camunda:formData/camunda:formField", NS):
        field_id = field.get("id")
        if not field_id:
            messages.append(Message("a form field on line %(line)s has no id", line=field.sourceline))
            continue
        if field_id in seen:
            messages.append(Message("form field '%(field)s' is defined twice", field=field_id))
        seen.add(field_id)
        field_type = field.get("type") or "string"
        if field_type not in FIELD_TYPES:
            messages.append(Message("form field '%(field)s' has type '%(type)s'; supported types are %(types)s",
                                    field=field_id, type=field_type, types=Listing(sorted(FIELD_TYPES), "list")))
        elif field_type == "enum" and field.find("camunda:value", NS) is None:
            messages.append(Message("form field '%(field)s' is an enum without values", field=field_id))
    if not messages:
        for described in form_fields(task):
            messages.extend(definition_problems(described))
    return messages


def _performer_problems(node: etree._Element) -> list[Message]:
    """A misspelt `performer` would silently count the customer's work as staff's (engine.analytics)."""
    value = properties(node).get(PERFORMER_PROPERTY)
    if value is None or value.strip().lower() in (CUSTOMER, STAFF):
        return []
    return [Message("the performer property is '%(value)s'; it must be customer or staff", value=value)]


def _sla_problems(node: etree._Element) -> list[Message]:
    sla = properties(node).get("sla")
    if sla is None:
        return []
    try:
        parse_duration(sla)
    except DurationError as exc:
        return [Message("the sla property: %(problem)s", problem=exc.message)]
    return []


def _start_timer_problems(event: etree._Element) -> list[Message]:
    """A periodic process is scheduled from its start timer at deploy, before any data exists,
    so the timer must be a literal ISO 8601 value, and a bounded one."""
    if local_name(event.getparent()) != "process":
        return []  # a start event of an event subprocess: an ordinary timer, evaluated at run time
    timer = timer_of(event)
    if timer is None or not timer["expression"]:
        return []
    text = timer["expression"]
    literal = timer_literal(text)
    kind = {"date": "timeDate", "duration": "timeDuration", "cycle": "timeCycle"}[timer["kind"]]
    looks_literal = literal[:1].upper() in ("P", "R") or literal[:1].isdigit()
    if text.startswith(("${", "#{", "=")) or not looks_literal:
        return [Message("the timer start event's %(kind)s '%(text)s' is an expression; a start timer needs a "
                        "literal ISO 8601 value such as R/P30D, PT1H or 2026-12-01T09:00:00Z (it is scheduled at "
                        "deploy, before any case data exists)", kind=kind, text=_shown(text))]
    try:
        check_timer_literal(kind, literal)
    except DurationError as exc:
        return [Message("the timer start event's %(kind)s is not a usable ISO 8601 value: %(problem)s", kind=kind,
                        problem=exc.message)]
    return []


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
