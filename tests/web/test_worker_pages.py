"""What a waiting case says it waits for, and the warning managers and admins see when no worker runs
(through the real app, no browser)."""
from __future__ import annotations

import re

import pytest

from engine.services import calendars, deployments, instances, tasks, users, worker
from tests.helpers.process_library import LIBRARY, MONDAY_10_SHANGHAI, work
from tests.web.conftest import PASSWORD, csrf_token

INTAKE = {"customer_id": "C-1001", "customer_name": "Li Wei", "applicant_user": "carl", "loan_product": "consumer",
          "amount": 200000, "term_months": 120, "monthly_income": 30000, "existing_debt_monthly": 2000,
          "collateral": "none"}
WARNING = "No worker has run for"


@pytest.fixture
def loans(ctx, clock):
    """loan_application with its decision table, an officer, the applicant, an underwriter, a manager and
    an admin, on Monday 2 March 2026, 10:00 in Shanghai (the app's default time zone)."""
    clock.set(MONDAY_10_SHANGHAI)
    calendars.ensure_default_calendars(ctx)
    for name, groups, roles in (("olga", ["credit_officers"], ["staff"]), ("carl", ["applicants"], ["staff"]),
                                ("uwe", ["underwriters"], ["staff"]), ("mona", ["credit_managers"], ["manager"]),
                                ("ada", [], ["admin"])):
        users.add_user(ctx, name, PASSWORD, groups, roles)
    deployments.deploy(ctx, deployments.read_sources([LIBRARY / "loan_application.bpmn",
                                                      LIBRARY / "credit_decision.dmn"]))
    return ctx


def loan(ctx, documents_complete=True) -> int:
    case = instances.start(ctx, "loan_application", business_key="LOAN-1", user="olga")
    work(ctx, case.id, "loan_intake", "olga", INTAKE)
    work(ctx, case.id, "document_check", "olga",
         {"documents_complete": documents_complete, "missing_documents": "" if documents_complete else "payslips"})
    return case.id


def text_of(html: str) -> str:
    """The page's text with tags dropped and white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def waiting_section(html: str) -> str:
    found = re.search(r'<section class="waiting".*?</section>', html, re.S)
    return text_of(found.group(0)) if found else ""


def test_a_case_at_the_credit_bureau_says_it_waits_for_the_service(loans, client, sign_in):
    case_id = loan(loans)
    sign_in("olga")
    section = waiting_section(client.get(f"/cases/{case_id}").get_data(as_text=True))
    assert ("Waiting for the service “credit_bureau_report” (Get credit bureau report) — "
            "picked up by the next worker pass") in section

    from engine.services import external_tasks

    [job] = external_tasks.fetch_and_lock(loans, "bureau-worker", ["credit_bureau_report"])
    external_tasks.fail_job(loans, job.id, "bureau-worker", "bureau <down>", retries=2)
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "bureau &lt;down&gt;" in html and "bureau <down>" not in html
    section = waiting_section(html)
    assert "next attempt at Mar 2, 2026, 10:01 AM" in section  # Shanghai time
    assert "Failed once: bureau &lt;down&gt; · 2 retries left" in section

    loans.clock.advance(minutes=2)
    worker.run_pass(loans, "w")
    section = waiting_section(client.get(f"/cases/{case_id}").get_data(as_text=True))
    assert "“Underwrite loan” waits to be claimed by Underwriters" in section  # no display name: the id in words
    assert ("If “Underwrite loan” is still open at Mar 4, 2026, 10:02 AM, the timer “SLA breached (2 business days)” "
            "fires") in section


def test_the_customer_task_shows_its_timer_in_the_users_time_zone_and_language(loans, client, sign_in):
    case_id = loan(loans, documents_complete=False)
    sign_in("olga")
    section = waiting_section(client.get(f"/cases/{case_id}").get_data(as_text=True))
    assert "“Provide missing documents” is with carl" in section
    assert ("If “Provide missing documents” is still open at Mar 16, 2026, 10:00 AM, the timer "
            "“10 business days” fires") in section
    client.post("/profile", data={"locale": "en", "timezone": "Europe/London", "csrf_token": csrf_token(client)})
    section = waiting_section(client.get(f"/cases/{case_id}").get_data(as_text=True))
    assert "still open at Mar 16, 2026, 2:00 AM" in section  # 02:00 UTC is 02:00 in London in March
    client.post("/language", data={"locale": "zh_Hans", "next": "/tasks", "csrf_token": csrf_token(client)})
    section = waiting_section(client.get(f"/cases/{case_id}").get_data(as_text=True))
    # the library's own words in Chinese too (processes.po)
    assert "如果“补充缺少的材料”在" in section and "定时器“10 个工作日”将触发" in section


def test_a_case_waiting_only_for_people_names_them(bank, client, sign_in):
    case = instances.start(bank, "loan_review", business_key="L-1", user="olga")
    sign_in("olga")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert [text_of(line).strip() for line in re.findall(r'<li data-wait="person"[^>]*>(.*?)</li>', page, re.S)] == [
        "“Capture application” waits to be claimed by Credit officers"]
    assert 'data-wait="timer"' not in page and 'data-wait="service"' not in page


def test_managers_and_admins_see_when_no_worker_runs_staff_never(loans, client, sign_in):
    loan(loans)  # a service job for bankflow's worker
    sign_in("mona")
    assert WARNING not in client.get("/tasks").get_data(as_text=True)  # it has only just been queued
    loans.clock.advance(minutes=5)
    page = client.get("/tasks").get_data(as_text=True)
    assert ("No worker has run for 5 minutes: timers, service tasks and SLA checks are waiting. "
            "Start one with bankflow worker (bankflow serve runs one unless --no-worker).") in text_of(page)
    assert "<code>bankflow worker</code>" in page
    assert WARNING in client.get("/cases").get_data(as_text=True)  # on every page
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    sign_in("olga")
    assert WARNING not in client.get("/tasks").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    sign_in("ada")
    assert WARNING in client.get("/tasks").get_data(as_text=True)
    worker.run_pass(loans, "w", interval=2)
    assert WARNING not in client.get("/tasks").get_data(as_text=True)
    [underwrite] = tasks.list_tasks(loans, user="uwe")
    assert underwrite.element_id == "underwriter_review"


def test_the_warning_in_chinese(loans, client, sign_in):
    loan(loans)
    loans.clock.advance(minutes=7)
    sign_in("mona")
    client.post("/language", data={"locale": "zh_Hans", "next": "/tasks", "csrf_token": csrf_token(client)})
    page = text_of(client.get("/tasks").get_data(as_text=True))
    assert "已有 7 分钟没有工作进程运行" in page and "bankflow worker" in page


def test_health_says_whether_a_worker_runs(loans, client):
    assert client.get("/health").get_json()["worker"] == {"status": "idle", "last_pass_at": None}
    loan(loans)
    loans.clock.advance(minutes=3)
    response = client.get("/health")
    assert response.status_code == 200  # the web app serves without a worker
    assert response.get_json()["worker"] == {"status": "overdue", "last_pass_at": None}
    worker.run_pass(loans, "w")
    assert client.get("/health").get_json()["worker"] == {"status": "ok", "last_pass_at": "2026-03-02T02:03:00Z"}
