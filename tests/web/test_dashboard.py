"""The dashboard pages through the real app: who may open them, the figures they show (those of
`bankflow metrics`), the exports, and reassigning a late task from the SLA board."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from engine.services import instances, metrics, tasks
from engine.store.tables import TASK
from tests.web.conftest import csrf_token

BEGIN = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def history(bank, clock, cases=4):
    """`cases` loan reviews captured by olga (claim after 1 h, 2 h of work) and approved by mona;
    one more left open at capture."""
    clock.set(BEGIN)
    for n in range(cases):
        case = instances.start(bank, "loan_review", business_key=f"L-{n}", user="olga")
        [capture] = tasks.list_tasks(bank, instance_id=case["id"])
        clock.advance(hours=1)
        tasks.claim(bank, capture["id"], "olga")
        clock.advance(hours=2 + n)
        tasks.complete(bank, capture["id"], "olga", {"amount": 25000, "score": 610, "purpose": "home"})
        for follow in tasks.list_tasks(bank, instance_id=case["id"]):
            tasks.claim(bank, follow["id"], "mona")
            clock.advance(minutes=30)
            tasks.complete(bank, follow["id"], "mona", {"approved": True, "comment": "fine"})
    open_case = instances.start(bank, "loan_review", business_key="L-open", user="olga")
    clock.advance(hours=1)
    return open_case


def test_staff_get_403_and_managers_see_the_dashboard(bank, client, sign_in, clock):
    history(bank, clock)
    sign_in("olga")
    for path in ("/dashboard", "/dashboard/loan_review", "/dashboard/sla", "/dashboard/processes.csv",
                 "/dashboard/loan_review/activities.csv", "/dashboard/loan_review/log.xes",
                 "/dashboard/loan_review/diagram.bpmn"):
        assert client.get(path).status_code == 403, path
    assert "/dashboard" not in client.get("/tasks").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    sign_in("mona")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/dashboard"' in page and 'data-process="loan_review"' in page
    assert 'href="/dashboard/loan_review"' in page
    assert 'href="/dashboard/loan_review?days=7"' in client.get("/dashboard?days=7").get_data(as_text=True)


def test_the_process_page_shows_the_figures_of_bankflow_metrics(bank, client, sign_in, clock):
    history(bank, clock)
    sign_in("mona")
    response = client.get("/dashboard/loan_review?days=30&measure=wait_share")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    doc = metrics.process_metrics(bank, "loan_review", since=clock.now() - timedelta(days=30), until=clock.now())
    assert re.search(r'data-figure="completed">(\d+)<', page).group(1) == str(doc["instances"]["completed"]) == "4"
    assert f'data-seconds="{doc["instances"]["cycle_time"]["median"]}"' in page
    ranked = re.findall(r'<tr data-element="([^"]+)"', page)
    assert ranked == doc["bottlenecks"] and ranked[0] == "capture"
    figures = json.loads(re.search(r"data-figures='([^']+)'", page).group(1))
    assert figures["capture"]["heat"]["share"] == 1.0
    assert 'data-measure="wait_share"' in page
    for chart in ("histogram", "trend", "flow", "groups"):
        assert f'id="{chart}-figures"' in page
    assert " style=" not in page and "<script>" not in page  # the CSP allows neither


def test_drill_down_lists_the_slowest_cases_with_links(bank, client, sign_in, clock):
    history(bank, clock)
    sign_in("mona")
    page = client.get("/dashboard/loan_review?element=capture").get_data(as_text=True)
    table = page[page.index('id="slowest"'):]
    links = re.findall(r'href="/cases/(\d+)"', table[:table.index("</table>")])
    assert len(links) == 4
    assert client.get("/dashboard/loan_review?element=nope").status_code == 404
    assert client.get("/dashboard/unknown").status_code == 404


def test_every_table_downloads_as_csv_and_the_log_as_xes(bank, client, sign_in, clock):
    history(bank, clock)
    sign_in("mona")
    for table in ("activities", "groups", "variants", "throughput", "histogram", "trend", "flow"):
        response = client.get(f"/dashboard/loan_review/{table}.csv?days=30")
        assert response.status_code == 200 and response.mimetype == "text/csv", table
        assert list(csv.DictReader(io.StringIO(response.get_data(as_text=True)))), table
    assert client.get("/dashboard/loan_review/slowest.csv?element=capture").status_code == 200
    assert "loan_review" in client.get("/dashboard/processes.csv").get_data(as_text=True)
    xes = client.get("/dashboard/loan_review/log.xes?days=30").get_data(as_text=True)
    assert xes.count("<trace>") == 5
    assert client.get("/dashboard/sla.csv").status_code == 200


def test_a_late_task_is_on_the_sla_board_and_can_be_reassigned(bank, client, sign_in, clock):
    open_case = history(bank, clock)
    [late] = tasks.list_tasks(bank, instance_id=open_case["id"])
    with bank.db.begin() as conn:
        conn.execute(update(TASK).where(TASK.c.id == late["id"]).values(due_at=clock.now() - timedelta(minutes=5)))
    sign_in("mona")
    page = client.get("/dashboard/sla").get_data(as_text=True)
    assert f'data-task="{late["id"]}" data-sla="breached"' in page
    response = client.post(f"/dashboard/sla/{late['id']}/assign",
                           data={"to": "oleg", "csrf_token": csrf_token(client, "/dashboard/sla")})
    assert response.status_code == 302
    assert tasks.list_tasks(bank, instance_id=open_case["id"])[0]["assignee"] == "oleg"
    refused = client.post(f"/dashboard/sla/{late['id']}/assign",
                          data={"to": "max", "csrf_token": csrf_token(client, "/dashboard/sla")})
    assert refused.status_code == 400
