"""Pages say words, not identifiers: case data under the forms' labels in the forms' order with values
formatted for the reader, task names in the history, group display names and SLA targets in words, in
English and in Chinese."""
from __future__ import annotations

import re

import pytest

from engine.services import deployments, instances, tasks, users
from engine.json_shapes import iso
from tests.web.conftest import csrf_token

FORM_ORDER = ["customer_name", "amount", "wants_insurance", "first_payment", "decision", "rate_pct", "checked"]


@pytest.fixture
def worded_case(bank, fixture_path):
    """A case of loan_words past its review: start-form data, a task's answers and a script's variable."""
    deployments.deploy(bank, deployments.read_sources([fixture_path("case_words.bpmn")]))
    case = instances.start(bank, "loan_words", user="olga", business_key="W-1",
                           form={"customer_name": "Li Wei", "amount": "80000", "wants_insurance": "true",
                                        "first_payment": "2027-01-15"})
    [review] = tasks.list_tasks(bank, instance_id=case.id)
    tasks.claim(bank, review.id, "olga")
    tasks.complete(bank, review.id, "olga", {"decision": "approve", "rate_pct": "3.85"})
    [sign_off] = [t for t in tasks.list_tasks(bank, instance_id=case.id) if t.element_id == "sign_off"]
    return case.id, sign_off.id


def data_rows(page: str, heading_id: str) -> list[tuple[str, str, str]]:
    """(variable, label, value) of each row of the data table in the section titled by `heading_id`."""
    section = page.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<tr data-variable="([^"]+)"><th scope="row">([^<]*)</th><td>([^<]*)</td></tr>', section)


def in_chinese(client):
    client.post("/language", data={"locale": "zh_Hans", "next": "/tasks", "csrf_token": csrf_token(client)})


ENGLISH = [("customer_name", "Customer name", "Li Wei"), ("amount", "Amount (CNY)", "80,000"),
           ("wants_insurance", "Insurance wanted", "Yes"), ("first_payment", "First payment", "Jan 15, 2027"),
           ("decision", "Decision", "Approve"), ("rate_pct", "Interest rate (% p.a.)", "3.85"),
           ("checked", "checked", "Yes")]
# Labels and option names the shipped library also uses are said through its catalogue (processes.po).
LIBRARY_WORDS = {"Customer name": "客户姓名", "Amount (CNY)": "金额（人民币元）", "Decision": "决定", "Approve": "批准",
                 "Interest rate (% p.a.)": "年利率（%）"}
CHINESE = [(name, LIBRARY_WORDS.get(label, label),
            {"Yes": "是", "Jan 15, 2027": "2027年1月15日", **LIBRARY_WORDS}.get(value, value))
           for name, label, value in ENGLISH]


@pytest.mark.parametrize("chinese", [False, True], ids=["English", "Chinese"])
def test_task_and_case_pages_show_labels_in_form_order_with_formatted_values(worded_case, client, sign_in,
                                                                             chinese):
    case_id, task_id = worded_case
    sign_in("max")  # credit_managers: the sign-off is theirs; managers' staff may open the case they work on
    if chinese:
        in_chinese(client)
    expected = CHINESE if chinese else ENGLISH
    task_page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert data_rows(task_page, "data-title") == expected
    tasks.claim(client.application.extensions["bankflow"], task_id, "max")
    case_page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert data_rows(case_page, "vars-title") == expected
    for page in (task_page, case_page):
        assert ">True<" not in page and ">80000<" not in page and "2027-01-15" not in page


@pytest.mark.parametrize("chinese", [False, True], ids=["English", "Chinese"])
def test_history_names_tasks_and_the_waiting_list_names_groups(worded_case, bank, client, sign_in, chinese):
    case_id, _task_id = worded_case
    users.set_group_titles(bank, "credit_managers", "Credit Management", "信贷管理部")
    sign_in("olga")
    if chinese:
        in_chinese(client)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    history = page.split('id="history-title"', 1)[1].split("</section>", 1)[0]
    created = "任务创建" if chinese else "Task created"
    assert f"<strong>{created}</strong> · Review application" in history
    assert f"<strong>{created}</strong> · Sign off the loan" in history
    assert "· review<" not in history and "· sign_off<" not in history and "· review ·" not in history
    waiting = page.split('id="waiting-title"', 1)[1].split("</section>", 1)[0]
    assert ("信贷管理部" if chinese else "Credit Management") in waiting and "credit_managers" not in waiting


def test_group_names_fall_back_to_the_other_language_then_to_a_readable_id(worded_case, bank, client, sign_in):
    _case_id, task_id = worded_case
    sign_in("max")

    def offered_to() -> str:
        page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
        return re.search(r"<dt>[^<]+</dt><dd>([^<]*)</dd>\s*<dt>(?:SLA|服务时限)</dt>", page).group(1)

    assert offered_to() == "Credit managers"  # no titles yet
    users.set_group_titles(bank, "credit_managers", None, "信贷管理部")
    assert offered_to() == "信贷管理部"  # English asked for, only Chinese given
    users.set_group_titles(bank, "credit_managers", "Credit Management", "信贷管理部")
    assert offered_to() == "Credit Management"
    in_chinese(client)
    assert offered_to() == "信贷管理部"
    users.set_group_titles(bank, "credit_managers", "Credit Management", "")
    assert offered_to() == "Credit Management"


@pytest.mark.parametrize("chinese", [False, True], ids=["English", "Chinese"])
def test_designer_page_says_sla_targets_and_groups_in_words(worded_case, bank, client, sign_in, chinese):
    users.set_group_titles(bank, "credit_officers", "Credit Officers", "信贷员")
    sign_in("dana")
    if chinese:
        in_chinese(client)
    page = client.get("/designer/definitions/loan_words").get_data(as_text=True)
    words = {"P3D": "3 天", "P2D": "2 个工作日", "PT4H": "4 个工作小时", "officers": "信贷员"} if chinese else \
        {"P3D": "3 days", "P2D": "2 business days", "PT4H": "4 business hours", "officers": "Credit Officers"}
    assert re.search(r"<dd>" + re.escape(words["P3D"]) + "</dd>", page)  # end-to-end, on 24x7
    assert f"<td>{words['P2D']}</td>" in page and f"<td>{words['PT4H']}</td>" in page  # user tasks, business
    assert not re.search(r">\s*P\d|>PT\d", page)
    assert f"<dd>{words['officers']}</dd>" in page  # who may start it


@pytest.mark.parametrize("chinese", [False, True], ids=["English", "Chinese"])
def test_a_breach_notification_is_in_the_readers_language_and_time_zone(worded_case, bank, clock, client,
                                                                        sign_in, chinese):
    from engine.services import notifications
    from engine.services.due_jobs import run_due_jobs

    case_id, task_id = worded_case
    due = iso(tasks.list_tasks(bank, instance_id=case_id, status="open")[0].due_at)
    clock.advance(hours=5)  # past the sign-off's four hours
    run_due_jobs(bank)
    [stored] = notifications.list_for(bank, "mona")
    assert stored.message.endswith(" UTC") and stored.params["due_at"] == due  # the mail's text stays English
    sign_in("mona")
    if chinese:
        in_chinese(client)
    page = client.get("/notifications").get_data(as_text=True).replace("\u202f", " ")
    local_due = "2026年1月5日 21:00" if chinese else "Jan 5, 2026, 9:00 PM"  # due 13:00 UTC, seen in Shanghai
    assert due == "2026-01-05T13:00:00Z"
    expected = (f"服务时限超时：案件 {case_id} 的任务“Sign off the loan”应于 {local_due} 前完成" if chinese else
                f"SLA breached: the task “Sign off the loan” of case {case_id} was due {local_due}")
    assert f'<a href="/tasks/{task_id}">{expected}</a>' in page and " UTC" not in page
