"""No dead ends (the Journeys issue): starting a case leads to my first task when it is mine to take,
completing a task to my next one in the case, a task's form is shown before it is claimed with one
"Claim and work" action, and a case page links only the tasks its reader may open."""
from __future__ import annotations

import re

from engine.services import instances, tasks
from tests.web.conftest import csrf_token


def open_task(bank, instance_id):
    [task] = tasks.list_tasks(bank, instance_id=instance_id)
    return task


def start_through_the_page(client, **form):
    return client.post("/start/loan_review", data={"csrf_token": csrf_token(client, "/start/loan_review"), **form})


def test_starting_a_case_leads_to_my_first_task(bank, client, sign_in):
    sign_in("olga")  # a credit officer: the first task, capturing the application, is for her group
    response = start_through_the_page(client, business_key="L-7")
    [case] = instances.search(bank, business_key="L-7").cases
    task = open_task(bank, case.id)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/tasks/{task.id}"


def test_starting_a_case_whose_first_task_is_another_groups_leads_to_the_case(bank, client, sign_in):
    sign_in("mona")  # a manager of credit_managers: capturing is for credit_officers
    response = start_through_the_page(client, business_key="L-8")
    [case] = instances.search(bank, business_key="L-8").cases
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{case.id}"


def test_the_form_is_shown_read_only_before_claiming_with_one_claim_and_work_action(bank, client, sign_in):
    case = instances.start(bank, "loan_review", business_key="L-9", user="olga")
    task = open_task(bank, case.id)
    sign_in("oleg")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    read_only = re.search(r'<fieldset class="read-only" disabled>(.*?)</fieldset>', page, re.S)
    assert read_only and 'name="amount"' in read_only.group(1) and 'name="score"' in read_only.group(1)
    assert page.count(">Claim and work</button>") == 1 and ">Claim</button>" not in page
    assert f'action="/tasks/{task.id}/claim"' in page and f'action="/tasks/{task.id}/complete"' not in page

    response = client.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf_token(client)})
    assert response.headers["Location"] == f"/tasks/{task.id}"
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'class="read-only"' not in page and f'action="/tasks/{task.id}/complete"' in page


def test_a_task_someone_else_holds_shows_its_form_read_only_without_actions(bank, client, sign_in):
    case = instances.start(bank, "loan_review", business_key="L-10", user="olga")
    task = open_task(bank, case.id)
    tasks.claim(bank, task.id, "olga")
    sign_in("oleg")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'class="read-only" disabled' in page and "Claim and work" not in page
    assert "held by olga" in page


def test_a_text_field_with_a_length_limit_renders_and_refuses_beside_the_field(bank, client, sign_in):
    """The approving form's comment has maxlength 200: that once answered HTTP 500 (text compared with a
    number in the template)."""
    case = instances.start(bank, "loan_review", business_key="L-11", user="olga")
    capture = open_task(bank, case.id)
    tasks.claim(bank, capture.id, "olga")
    tasks.complete(bank, capture.id, "olga", {"amount": 25000, "score": 700})
    approve = open_task(bank, case.id)
    sign_in("max")
    assert client.get(f"/tasks/{approve.id}").status_code == 200  # read-only form, before claiming
    client.post(f"/tasks/{approve.id}/claim", data={"csrf_token": csrf_token(client)})
    page = client.get(f"/tasks/{approve.id}")
    assert page.status_code == 200 and 'maxlength="200"' in page.get_data(as_text=True)
    response = client.post(f"/tasks/{approve.id}/complete",
                           data={"approved": "true", "comment": "x" * 201, "csrf_token": csrf_token(client)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="comment-problem">must be at most 200 characters long<', page)
    assert "x" * 201 in page  # what was typed is kept


def test_completing_a_task_leads_to_my_next_task_in_the_case_else_the_inbox(bank, client, sign_in, ctx):
    from engine.services import users

    users.add_user(ctx, "both", "secret123", ["credit_officers", "credit_managers"], ["staff"])
    case = instances.start(bank, "loan_review", business_key="L-12", user="olga")
    capture = open_task(bank, case.id)
    sign_in("both", "secret123")
    client.post(f"/tasks/{capture.id}/claim", data={"csrf_token": csrf_token(client)})
    response = client.post(f"/tasks/{capture.id}/complete",
                           data={"amount": "25000", "score": "700", "csrf_token": csrf_token(client)})
    approve = open_task(bank, case.id)
    assert response.headers["Location"] == f"/tasks/{approve.id}"  # they may approve too

    client.post(f"/tasks/{approve.id}/claim", data={"csrf_token": csrf_token(client)})
    response = client.post(f"/tasks/{approve.id}/complete",
                           data={"approved": "true", "comment": "fine", "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/tasks"


def test_a_case_page_links_only_the_tasks_its_reader_may_open(bank, client, sign_in):
    case = instances.start(bank, "loan_review", business_key="L-13", user="olga")
    capture = open_task(bank, case.id)
    tasks.claim(bank, capture.id, "olga")
    tasks.complete(bank, capture.id, "olga", {"amount": 25000, "score": 700})
    approve = open_task(bank, case.id)
    sign_in("olga")  # she started the case and captured it; approving is for credit_managers
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="/tasks/{capture.id}"' in page
    assert f'href="/tasks/{approve.id}"' not in page and "Approve loan" in page
    assert client.get(f"/tasks/{approve.id}").status_code == 403  # what the link would have led to


def test_a_task_page_links_its_case_only_once_its_reader_may_open_it(bank, client, sign_in):
    """Found by the crawl: a group task linked a case its candidates may not see until they work on it."""
    case = instances.start(bank, "loan_review", business_key="L-14", user="olga")
    task = open_task(bank, case.id)
    sign_in("oleg")  # offered the task through his group; he has not worked on the case yet
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'href="/cases/{case.id}"' not in page and f"Case {case.id}" in page
    assert client.get(f"/cases/{case.id}").status_code == 404
    client.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf_token(client)})
    assert f'href="/cases/{case.id}"' in client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert client.get(f"/cases/{case.id}").status_code == 200
