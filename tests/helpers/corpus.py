"""The corpus of real BPMN/DMN files from public modellers and projects, and what each one does.

The files are other projects' work under their own licences, so they are not in this
repository: they live in `../shared/bpmn-corpus/` next to it (present in CI and on every
developer machine; sources and commits in its SOURCES.tsv). Tests that read them skip
when the folder is absent.

OUTCOMES pins, per file, what deploying it alone does: "deploys", or a phrase of the
first problem the refusal reports. A file that starts deploying, or stops, or is refused
for another reason fails tests/service/test_corpus.py until the table is updated.
"""
from __future__ import annotations

from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
CORPUS = (REPOSITORY / ".." / "shared" / "bpmn-corpus").resolve()
requires_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(),
    reason=f"the BPMN corpus is not at {CORPUS} (the shared folder ../shared/bpmn-corpus next to the repository)")

DEPLOYS = "deploys"
NOT_EXECUTABLE = "is not executable: set isExecutable=\"true\""
EMPTY_TIMER = "the timer's timeDate is empty"
CRON = "is a cron expression, which bankflow does not support"
NO_IMPLEMENTATION = "service task has no implementation"
NOT_PYTHON = "this is not a valid Python expression"
JAVA_DELEGATE = "a Java delegate that bankflow cannot call"  # no connector answers it
FORM_KEY = "a form bankflow cannot show; define its fields with camunda:formData"
MESSAGES = "but bankflow cannot deliver messages yet"

OUTCOMES = {
    "bpmn-js-examples/pizza-collaboration.bpmn": EMPTY_TIMER,
    "bpmn-js-examples/qr-code.bpmn": NOT_EXECUTABLE,
    "bpmn-js-examples/transaction-boundaries.bpmn": NOT_EXECUTABLE,
    "camunda-8-examples/campaign-process.bpmn": "call activity calls process 'letterProcess', which is neither",
    "camunda-8-examples/get-up.bpmn": "function calls such as 'is defined(...)' at character 6 are not supported",
    "camunda-8-examples/payment_process.bpmn": DEPLOYS,
    "camunda-8-examples/rollback-process.bpmn": DEPLOYS,
    "camunda-8-examples/twitter.bpmn": JAVA_DELEGATE,
    "camunda-bpm-examples/TwitterDemoProcess.bpmn": JAVA_DELEGATE,
    "camunda-bpm-examples/camunda-testing-job-announcement-publication.bpmn": JAVA_DELEGATE,
    "camunda-bpm-examples/invoiceApproval.bpmn": FORM_KEY,
    "camunda-bpm-examples/invoicePayment.bpmn": FORM_KEY,
    "camunda-bpm-examples/loan-granting.bpmn": CRON,
    "camunda-bpm-examples/loanApproval.bpmn": JAVA_DELEGATE,
    "camunda-bpm-examples/order-handling.bpmn": CRON,
    "customer-onboarding-c8/customer-onboarding.bpmn": DEPLOYS,
    "example-process-models/edit_till_action.bpmn": NOT_EXECUTABLE,
    "example-process-models/food-ordering-process.bpmn": "call activity calls process 'Handle_Payment', which is",
    "example-process-models/handle-payment.bpmn": DEPLOYS,
    "example-process-models/my_vacation.bpmn": DEPLOYS,
    "flowable-examples/Table_Reservation_v1.bpmn20.xml": "method calls such as 'showUp(...)' at character 22",
    "flowable-examples/VacationRequest.bpmn20.xml": DEPLOYS,
    "flowable-examples/call-semantic-analysis.bpmn20.xml": "method calls such as 'toLowerCase(...)'",
    "flowable-examples/loan.bpmn": NO_IMPLEMENTATION,
    "flowable-examples/timer.bpmn20.xml": DEPLOYS,
    "loan-business-process-extended/loan-business-process-extended.bpmn": NO_IMPLEMENTATION,
    "miwg-reference/A.1.0.bpmn": NOT_EXECUTABLE,
    "miwg-reference/A.2.0.bpmn": NOT_EXECUTABLE,
    "miwg-reference/A.3.0.bpmn": NOT_EXECUTABLE,
    "miwg-reference/A.4.0.bpmn": NOT_EXECUTABLE,
    "miwg-reference/B.1.0.bpmn": EMPTY_TIMER,
    "miwg-reference/B.2.0.bpmn": EMPTY_TIMER,
    "miwg-reference/C.1.0.bpmn": MESSAGES,
    "miwg-reference/C.1.1.bpmn": NOT_PYTHON,
    "miwg-reference/C.3.0.bpmn": NOT_PYTHON,
    "miwg-reference/C.6.0.bpmn": EMPTY_TIMER,
    "miwg-reference/C.8.1.bpmn": "the name 'Vacation Approval' at character 2 contains spaces",
    "miwg-reference/C.9.0.bpmn": "quantified expressions ('some ... satisfies ...') are not supported",
    "miwg-reference/C.9.1.bpmn": MESSAGES,
    "spiff-arena/lanes_with_lane_owners.bpmn": DEPLOYS,
    "spiff-example-cli/call_activity.bpmn": "decision 'product_prices' was not found",
    "spiff-example-cli/product_prices.dmn": DEPLOYS,
    "spiff-example-cli/shipping_costs.dmn": DEPLOYS,
    "spiff-example-cli/top_level.bpmn": "decision 'shipping_costs' was not found",
    "spiffworkflow-tests/Approvals.bpmn": NOT_EXECUTABLE,
    "spiffworkflow-tests/subWorkflowComplex.bpmn": DEPLOYS,
}


def corpus_files() -> list[str]:
    """Every BPMN/DMN file in the corpus, relative to it."""
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.suffix in (".bpmn", ".dmn", ".xml"))


def listed_sources() -> set[str]:
    """The files SOURCES.tsv names."""
    return {line.split("\t")[0] for line in (CORPUS / "SOURCES.tsv").read_text().splitlines()[1:] if line}
