"""The shipped library's own words in the reader's language: a Chinese teller sees the loan application's
task name, process name, instructions, form labels and option names in Chinese; an English one in English."""
from __future__ import annotations

import pytest

from engine.services import deployments, instances, tasks
from tests.helpers.process_library import LIBRARY

ENGLISH = ["Capture loan application", "Loan application", "Loan product", "Consumer loan", "Amount (CNY)",
           "Credit officer: capture the application"]
CHINESE = ["录入贷款申请", "贷款申请", "贷款产品", "个人消费贷款", "金额（人民币元）", "信贷员：录入贷款申请"]


@pytest.fixture
def loan_task(bank):
    """An open "Capture loan application" of the shipped loan application, offered to credit officers."""
    deployments.deploy(bank, deployments.read_sources([LIBRARY / "loan_application.bpmn",
                                                       LIBRARY / "credit_decision.dmn"]))
    case = instances.start(bank, "loan_application", user="olga")
    [intake] = tasks.list_tasks(bank, instance_id=case.id)
    return intake.id


@pytest.mark.parametrize("language, shown, hidden", [("en", ENGLISH, CHINESE), ("zh-CN,zh;q=0.9", CHINESE, ENGLISH)],
                         ids=["English", "Chinese"])
def test_task_page_and_inbox_say_the_library_in_the_readers_language(loan_task, client, sign_in,
                                                                    language, shown, hidden):
    sign_in("olga")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    task_page = client.get(f"/tasks/{loan_task}").get_data(as_text=True)
    inbox = client.get("/tasks").get_data(as_text=True)
    for text in shown:
        assert text in task_page, text
    for text in hidden:
        assert text not in task_page, text
    assert shown[0] in inbox and shown[1] in inbox
    assert hidden[0] not in inbox
