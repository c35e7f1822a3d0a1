"""The libraries' error texts in modelling terms (engine/bpmn/library_errors.py), for the texts the
deploy checks normally pre-empt, so no test model can reach them; the others are asserted through
deploy in tests/service/test_deploy_checks.py."""
from __future__ import annotations

import logging

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.bpmn import library_errors
from engine.bpmn.elements import kind_name
from engine.bpmn.intake import UNREADABLE, LoadedFile, SourceFile, _problem_from_spiff

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


@pytest.mark.parametrize(("tag", "words"), [
    ("userTask", "user task"), ("bpmn:intermediateCatchEvent", "intermediate catch event"),
    (f"{BPMN}subProcess", "subprocess"), ("process", "process")])
def test_element_kinds_read_as_words(tag, words):
    assert kind_name(tag) == words


def test_a_missing_flow_target_reported_by_spiffworkflow_is_said_in_modelling_terms():
    message = ("When looking for a task spec, we found two items, perhaps a form has the same ID? "
               "(ServiceTask_1_missing)")
    assert library_errors.spiff_message(message, "bpmn:userTask", "Task_1") == (
        "a sequence flow from user task Task_1 points to ServiceTask_1_missing, which does not exist")


def test_a_message_without_a_known_pattern_is_passed_on():
    assert library_errors.spiff_message("Cancel Events may only be used with transactions", "bpmn:endEvent", "e") \
        == "Cancel Events may only be used with transactions"


def test_a_missing_child_element_in_the_schema_is_said_with_prefixes():
    text = (f"Element '{BPMN}conditionalEventDefinition': Missing child element(s). Expected is ( "
            f"{BPMN}condition ).")
    assert library_errors.schema_message(text, lambda value: []) == (
        "bpmn:conditionalEventDefinition is missing a child element: BPMN 2.0 expects bpmn:condition", None)


def test_a_wrapped_python_exception_is_never_shown(caplog):
    caplog.set_level(logging.INFO, logger="bankflow.deploy")
    tree = etree.ElementTree(etree.fromstring(b'<definitions><task id="t"/></definitions>'))
    loaded = LoadedFile(SourceFile("x.bpmn", b""), "bpmn", tree)
    problem = _problem_from_spiff(ValidationException("KeyError('lane')", node=tree.getroot()[0]), loaded)
    assert (problem.file, problem.element, problem.message) == ("x.bpmn", "t", UNREADABLE)
    assert "KeyError('lane')" in caplog.text
