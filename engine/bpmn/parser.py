"""SpiffWorkflow's Camunda parser, with bankflow's clock- and calendar-aware timers."""
from __future__ import annotations

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import EventDefinitionParser
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, CallActivity, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import BusinessRuleTaskParser as CamundaBusinessRuleTaskParser
from SpiffWorkflow.camunda.parser.task_spec import CallActivityParser as CamundaCallActivityParser
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaStartEventParser,
)

from engine.bpmn.elements import called_element, decision_ref, properties
from engine.errors import N_
from engine.runtime.decisions import BankflowDMNEngine
from engine.runtime.timer_events import ClockedCycleTimer, ClockedDateTimer, ClockedDurationTimer

TIMER_KINDS = (("timeDate", ClockedDateTimer), ("timeDuration", ClockedDurationTimer),
               ("timeCycle", ClockedCycleTimer))


class ClockedTimerParsing(EventDefinitionParser):
    """Builds bankflow's timer definitions; `timerCalendar` on the event selects working time.
    Listed first among an event parser's bases, so its `parse_timer_event` wins."""

    def parse_timer_event(self, event: etree._Element) -> EventDefinition:
        name = self.node.get("name", self.node.get("id"))
        calendar = properties(self.node).get("timerCalendar")
        for tag, definition in TIMER_KINDS:
            node = first(self.xpath(f".//bpmn:{tag}"))
            if node is not None:
                return definition(name, node.text, calendar=calendar,
                                  description=self.get_event_description(event))
        raise ValidationException(N_("the timer has no timeDate, timeDuration or timeCycle"),
                                  node=self.node, file_name=self.filename)


class StartEventParser(ClockedTimerParsing, CamundaStartEventParser):
    """A process's timer start event is its schedule, kept by the worker (a `timer_start`
    job); inside an instance it is a plain start, so every instance runs at once."""

    def parse_timer_event(self, event: etree._Element) -> EventDefinition:
        if etree.QName(self.node.getparent()).localname == "process":
            return NoneEventDefinition()
        return super().parse_timer_event(event)


class IntermediateCatchEventParser(ClockedTimerParsing, CamundaIntermediateCatchEventParser):
    pass


class BoundaryEventParser(ClockedTimerParsing, CamundaBoundaryEventParser):
    pass


class BusinessRuleTaskParser(CamundaBusinessRuleTaskParser):
    """Accepts SpiffWorkflow's `calledDecisionId` beside Camunda's `decisionRef`."""

    @staticmethod
    def get_decision_ref(node: etree._Element) -> str:
        ref = decision_ref(node)
        if ref is None:
            raise ValidationException(N_("business rule task has no camunda:decisionRef (the DMN decision to "
                                         "evaluate)"), node=node)
        return ref


class CallActivityParser(CamundaCallActivityParser):
    """Reads Camunda 8's `zeebe:calledElement` beside the standard `calledElement`."""

    def create_task(self) -> CallActivity:
        called = called_element(self.node)
        if called and not self.node.get("calledElement"):
            self.node.set("calledElement", called)
        return super().create_task()


class BankflowParser(CamundaParser):
    """SpiffWorkflow's Camunda parser with bankflow's timers, DMN engine and element readers."""

    def get_engine(self, decision_ref: str, node: etree._Element) -> BankflowDMNEngine:
        """The decision's engine: SpiffWorkflow's, evaluating the table in one request."""
        return BankflowDMNEngine(super().get_engine(decision_ref, node).decision_table)

    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("businessRuleTask"): (BusinessRuleTaskParser, BusinessRuleTask),
        full_tag("callActivity"): (CallActivityParser, CallActivity),
        full_tag("startEvent"): (StartEventParser, StartEvent),
        full_tag("intermediateCatchEvent"): (IntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("boundaryEvent"): (BoundaryEventParser, BoundaryEvent),
    }
