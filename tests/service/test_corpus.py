"""Real diagrams from public modellers and projects (../shared/bpmn-corpus, see tests/helpers/corpus.py):
each file deploys or is refused exactly as OUTCOMES pins, a refusal naming file, element and line in
a readable message; the files that run are driven to their end."""
from __future__ import annotations

import re

import pytest

from engine.services import deployments, instances, tasks, users
from engine.bpmn.intake import SourceFile
from engine.connectors import ConnectorRegistry
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
        assert result["definitions"] == []  # decisions only: no process to start
    else:
        assert result["definitions"] and {d["status"] for d in result["definitions"]} == {"new"}


@pytest.mark.parametrize("folder, names", [
    ("spiff-example-cli", ["top_level.bpmn", "call_activity.bpmn", "product_prices.dmn", "shipping_costs.dmn"]),
    ("example-process-models", ["food-ordering-process.bpmn", "handle-payment.bpmn"]),
])
def test_files_that_call_each_other_deploy_together(ctx, folder, names):
    result = deployments.deploy(ctx, deployments.read_sources([CORPUS / folder / n for n in names]))
    assert {d["status"] for d in result["definitions"]} == {"new"}


def test_camunda_loan_approval_runs_with_a_connector_for_its_delegate(ctx):
    deployments.deploy(ctx, deployments.read_sources([CORPUS / "camunda-bpm-examples" / "loanApproval.bpmn"]))
    case = instances.start(ctx, "loanApproval", {"amount": 1000})
    registry = ConnectorRegistry()
    registry.register("calculateInterestService", lambda v: {"interest": round(v["amount"] * 0.05, 2)})
    assert run_connectors(ctx, registry, "test-worker") == {"completed": 1, "failed": 0}
    detail = instances.get_instance(ctx, case["id"])
    assert detail["status"] == "completed" and detail["variables"]["interest"] == 50.0


def test_camunda_invoice_approval_runs_to_completion(ctx):
    users.add_user(ctx, "demo", "secret123")
    deployments.deploy(ctx, deployments.read_sources([CORPUS / "camunda-bpm-examples" / "invoiceApproval.bpmn"]))
    case = instances.start(ctx, "camundaFormsQuickstart")
    [task] = tasks.list_tasks(ctx, instance_id=case["id"])
    assert task["assignee"] == "demo" and task["status"] == "claimed"
    assert tasks.complete(ctx, task["id"], "demo")["instance"]["status"] == "completed"


def test_camunda_invoice_payment_runs_to_completion(ctx):
    users.add_user(ctx, "clerk", "secret123", roles=["staff"])
    deployments.deploy(ctx, deployments.read_sources([CORPUS / "camunda-bpm-examples" / "invoicePayment.bpmn"]))
    case = instances.start(ctx, "embeddedFormsBpmnEvents")
    [task] = tasks.list_tasks(ctx, user="clerk")
    assert task["name"] == "Pay Invoice"
    tasks.claim(ctx, task["id"], "clerk")
    assert tasks.complete(ctx, task["id"], "clerk")["instance"]["status"] == "completed"
    assert [e["type"] for e in instances.get_instance(ctx, case["id"])["history"]][-1] == "instance_completed"
