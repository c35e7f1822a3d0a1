"""Real diagrams from public modellers and projects (../shared/bpmn-corpus, see tests/helpers/corpus.py):
each file deploys or is refused exactly as OUTCOMES pins, a refusal naming file, element and line in
a readable message; the files that run are driven to their end."""
from __future__ import annotations

import re

import pytest

from engine.services import deployments, instances
from engine.bpmn.intake import SourceFile
from engine.errors import DeployError
from engine.services.worker import run_connectors
from tests.helpers.corpus import CORPUS, DEPLOYS, OUTCOMES, requires_corpus

pytestmark = requires_corpus
RAW = re.compile(r"Traceback|\b(KeyError|TypeError|AttributeError|RecursionError|XMLSyntaxError|ValueError|"
                 r"IndexError|AssertionError|NoneType)\b")


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_each_file_deploys_or_is_refused_as_pinned(ctx, name):
    path = CORPUS / name
    expected = OUTCOMES[name]
    try:
        result = deployments.deploy(ctx, [SourceFile(path.name, path.read_bytes())])
    except DeployError as exc:
        assert expected != DEPLOYS, f"{name} is pinned to deploy but was refused: {exc}"
        assert exc.deploy_problems
        assert expected in exc.deploy_problems[0].message, exc.deploy_problems[0]
        for problem in exc.deploy_problems:
            assert problem.file == path.name
            assert problem.element and problem.line, problem
            assert not RAW.search(problem.message), problem
        return
    assert expected == DEPLOYS, f"{name} is pinned to be refused ({expected!r}) but deployed"
    if path.suffix == ".dmn":
        assert result.definitions == ()  # decisions only: no process to start
    else:
        assert result.definitions and {d.status for d in result.definitions} == {"new"}


@pytest.mark.parametrize("folder, names", [
    ("spiff-example-cli", ["top_level.bpmn", "call_activity.bpmn", "product_prices.dmn", "shipping_costs.dmn"]),
    ("example-process-models", ["food-ordering-process.bpmn", "handle-payment.bpmn"]),
])
def test_files_that_call_each_other_deploy_together(ctx, folder, names):
    result = deployments.deploy(ctx, deployments.read_sources([CORPUS / folder / n for n in names]))
    assert {d.status for d in result.definitions} == {"new"}


def test_camunda_loan_approval_runs_with_a_connector_for_its_delegate(ctx):
    ctx.connectors.register("calculateInterestService", lambda v: {"interest": round(v["amount"] * 0.05, 2)})
    deployments.deploy(ctx, deployments.read_sources([CORPUS / "camunda-bpm-examples" / "loanApproval.bpmn"]))
    case = instances.start(ctx, "loanApproval", {"amount": 1000})
    assert run_connectors(ctx, ctx.connectors, "test-worker") == {"completed": 1, "failed": 0}
    detail = instances.get_instance(ctx, case.id)
    assert detail.status == "completed" and detail.variables["interest"] == 50.0


def test_camunda_forms_are_refused_with_how_to_define_the_fields(ctx):
    with pytest.raises(DeployError) as caught:
        deployments.deploy(ctx, deployments.read_sources([CORPUS / "camunda-bpm-examples" / "invoiceApproval.bpmn"]))
    hint = "a form bankflow cannot show; define its fields with camunda:formData (Camunda Modeler: Forms > Type: " \
           "Generated Task Forms)"
    assert [(p.file, p.element, p.line, p.message) for p in caught.value.deploy_problems] == [
        ("invoiceApproval.bpmn", "StartEvent_1", 4,
         f"start event StartEvent_1 uses camunda:formKey camunda-forms:app:start-form.form, {hint}"),
        ("invoiceApproval.bpmn", "UserTask_1", 11,
         f"user task UserTask_1 uses camunda:formKey camunda-forms:app:task-form.form, {hint}"),
    ]
