"""The dashboard pages through the real app: who may open them, the figures they show (those of
`bankflow metrics`), the exports, and reassigning a late task from the SLA board."""
from __future__ import annotations

import csv
import io
import html
import json
import re
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import update

from engine.services import dashboard, deployments, due_jobs, instances, metrics, sla_targets, tasks
from engine.store.tables import TASK
from tests.web.conftest import csrf_token
from webui.cli import main

BEGIN = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def history(bank, clock, cases=4):
    """`cases` loan reviews captured by olga (claim after 1 h, 2 h of work) and approved by mona;
    one more left open at capture."""
    clock.set(BEGIN)
    for n in range(cases):
        case = instances.start(bank, "loan_review", business_key=f"L-{n}", user="olga")
        [capture] = tasks.list_tasks(bank, instance_id=case.id)
        clock.advance(hours=1)
        tasks.claim(bank, capture.id, "olga")
        clock.advance(hours=2 + n)
        tasks.complete(bank, capture.id, "olga", {"amount": 25000, "score": 610, "purpose": "home"})
        for follow in tasks.list_tasks(bank, instance_id=case.id):
            tasks.claim(bank, follow.id, "mona")
            clock.advance(minutes=30)
            tasks.complete(bank, follow.id, "mona", {"approved": True, "comment": "fine"})
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
    [late] = tasks.list_tasks(bank, instance_id=open_case.id)
    with bank.database.engine.begin() as conn:
        conn.execute(update(TASK).where(TASK.c.id == late.id).values(due_at=clock.now() - timedelta(minutes=5)))
    sign_in("mona")
    page = client.get("/dashboard/sla").get_data(as_text=True)
    assert f'data-task="{late.id}" data-sla="breached"' in page
    response = client.post(f"/dashboard/sla/{late.id}/assign",
                           data={"to": "oleg", "csrf_token": csrf_token(client, "/dashboard/sla")})
    assert response.status_code == 302
    assert tasks.list_tasks(bank, instance_id=open_case.id)[0].assignee == "oleg"
    refused = client.post(f"/dashboard/sla/{late.id}/assign",
                          data={"to": "max", "csrf_token": csrf_token(client, "/dashboard/sla")})
    assert refused.status_code == 302 and refused.location.endswith("/dashboard/sla")  # back to the board
    assert "was not reassigned" in client.get("/dashboard/sla").get_data(as_text=True)
    assert tasks.list_tasks(bank, instance_id=open_case.id)[0].assignee == "oleg"


def sla_history(bank, clock):
    """loan_review with a 4 h end-to-end SLA and a 2 h SLA on capture (set by mona), five cases:
    A on time; B's capture late (breached at completion); C late end to end (breached at completion);
    E open past its end-to-end due time and D's capture open past its due time (the worker records
    both). Returns the end of the history."""
    clock.set(BEGIN)
    sla_targets.set_target(bank, "loan_review", "PT4H", user="mona")
    sla_targets.set_target(bank, "loan_review", "PT2H", element_id="capture", user="mona")

    def case(name, capture_hours, approve_hours=None):
        started = instances.start(bank, "loan_review", business_key=name, user="olga")
        [capture] = tasks.list_tasks(bank, instance_id=started.id)
        tasks.claim(bank, capture.id, "olga")
        if capture_hours is None:
            return
        clock.advance(hours=capture_hours)
        tasks.complete(bank, capture.id, "olga", {"amount": 25000, "score": 610, "purpose": "home"})
        if approve_hours is None:
            return
        [approve] = tasks.list_tasks(bank, instance_id=started.id)
        tasks.claim(bank, approve.id, "mona")
        clock.advance(hours=approve_hours)
        tasks.complete(bank, approve.id, "mona", {"approved": True, "comment": "fine"})

    case("A", 1.5, 0.5)      # t 0 -> 2: on time
    case("B", 3, 0.5)        # t 2 -> 5.5: capture 3 h > 2 h, case 3.5 h: on time
    case("C", 1, 4)          # t 5.5 -> 10.5: case 5 h > 4 h
    case("E", 1)             # t 10.5, due 14.5: open, approval waits
    clock.advance(hours=0.5)
    case("D", None)          # t 12: capture due 14, case due 16
    clock.advance(hours=3)   # t 15
    due_jobs.run_due_jobs(bank, "test-worker")
    clock.advance(minutes=1)  # the window [since, until) holds what the worker recorded
    return clock.now()


def figures_in(html: str) -> dict[str, tuple[int, int | None]]:
    """data-figure name -> (data-value, data-of) of every SLA figure in `html`."""
    return {name: (int(value), int(of) if of else None) for name, value, of in re.findall(
        r'data-figure="(\w+)" data-value="(\d+)"(?: data-of="(\d+)")?', html)}


def test_case_and_task_sla_figures_agree_on_the_dashboard_the_sla_board_and_metrics_json(
        bank, client, sign_in, clock, database_url):
    end = sla_history(bank, clock)
    since = end - timedelta(days=30)
    result = CliRunner().invoke(main, ["metrics", "--process", "loan_review", "--since", since.isoformat(),
                                       "--until", end.isoformat(), "--json", "--database-url", database_url],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    sla = doc["sla"]
    assert sla == {"cases": {"completed": 3, "completed_breached": 1, "breach_rate": 0.333333, "open_breached": 1},
                   "tasks": {"breaches": 2, "open_breached": 1}}
    assert doc["instances"]["sla_breaches"] == 2  # C at completion, E by the worker
    assert sum(a["sla_breaches"] for a in doc["activities"]) == sla["tasks"]["breaches"]
    expected = {"case_sla": (1, 3), "case_sla_open_breached": (1, None),
                "task_sla_breaches": (2, None), "task_sla_open_breached": (1, None)}
    text = CliRunner().invoke(main, ["metrics", "--process", "loan_review", "--since", since.isoformat(),
                                     "--until", end.isoformat(), "--database-url", database_url]).output
    assert ("SLA: 1 of 3 completed cases over their end-to-end target, 1 open cases past it; "
            "2 task SLA breaches, 1 open tasks past due") in text

    board = dashboard.sla_board(bank, "mona", key="loan_review")
    breached = [t for t in board.tasks if t.sla == "breached"]
    assert len(breached) == sum(c.breached for c in board.counts) == sla["tasks"]["open_breached"]

    sign_in("mona")
    page = client.get("/dashboard/loan_review?days=30").get_data(as_text=True)
    summary = page[page.index('id="summary"'):page.index("</dl>")]
    assert figures_in(summary) == expected
    overview = client.get("/dashboard?days=30").get_data(as_text=True)
    row = overview[overview.index('data-process="loan_review"'):]
    assert figures_in(row[:row.index("</tr>")]) == expected
    assert "33.3 %" in row[:row.index("</tr>")]


def test_customer_activities_are_shown_apart_with_their_own_verdict(bank, client, sign_in, clock, fixture_path):
    marked = fixture_path("two_lane_review.bpmn").read_text().replace(
        '<bpmn:lane id="Lane_managers" name="credit_managers">',
        '<bpmn:lane id="Lane_managers" name="credit_managers"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="performer" value="customer" /></camunda:properties></bpmn:extensionElements>')
    deployments.deploy(bank, [deployments.SourceFile("two_lane_review.bpmn", marked.encode())])
    history(bank, clock)
    doc = metrics.process_metrics(bank, "loan_review", since=clock.now() - timedelta(days=30), until=clock.now())
    approve = next(a for a in doc["activities"] if a["element_id"] == "approve")
    assert approve["verdict"] == "customer" and approve["share"] > 0
    assert doc["customer_activities"] == ["approve"] and "approve" not in doc["bottlenecks"]
    sign_in("mona")
    page = client.get("/dashboard/loan_review?days=30").get_data(as_text=True)
    ranked = page[page.index('id="bottlenecks"'):]
    assert re.findall(r'<tr data-element="([^"]+)"', ranked[:ranked.index("</table>")]) == doc["bottlenecks"]
    apart = page[page.index('id="customer-activities"'):]
    assert re.findall(r'<tr data-element="([^"]+)" data-verdict="customer"', apart[:apart.index("</table>")]) == [
        "approve"]
    figures = json.loads(re.search(r"data-figures='([^']+)'", page).group(1))
    assert figures["approve"]["customer"] and not figures["capture"]["customer"]
    labels = [label for label, _ in figures["approve"]["figures"]]
    assert "Wait share" not in labels and ["Verdict", "done by the customer"] in figures["approve"]["figures"]
    # the group whose tasks the customer does is no staff backlog: out of the chart, named in the figures
    assert {g["group"]: g["customer"] for g in doc["groups"]} == {"credit_managers": True, "credit_officers": False}
    chart = json.loads(html.unescape(re.search(r"data-chart='([^']+\"horizontal\"[^']*)'", page).group(1)))
    assert chart["labels"] == ["Credit officers"]
    assert "<td>Credit managers (the customer)</td>" in page
