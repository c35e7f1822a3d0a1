"""The operations dashboard in a real browser, after a simulated history with a planted bottleneck
(one underwriter for ten loan applications a day: the Analytics issue's scenario)."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from engine.clock import ManualClock
from engine.services import simulation
from tests.service.analytics.test_simulation import LIBRARY, PLANTED, START

WINDOW = "from=2026-03-02&to=2026-03-08"  # the six simulated days (until 2026-03-09 00:00 UTC)
SINCE, UNTIL = "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"


@pytest.fixture
def planted(people, tmp_path):
    """Six days of loan applications from Monday 2 March 2026 with too few underwriters."""
    scenario = tmp_path / "planted.toml"
    scenario.write_text(PLANTED, encoding="utf-8")
    sim = dataclasses.replace(people, clock=ManualClock(START), script_engine=None, mailer=None)
    simulation.load_demo(sim, LIBRARY)
    simulation.Simulation(sim, simulation.load_scenarios([scenario], LIBRARY), 6, 3).run()
    return people


def heat_of(page) -> dict:
    """element id -> (data-measure, data-heat) of every drawn activity."""
    return page.evaluate("""() => Object.fromEntries(Array.from(
        document.querySelectorAll('#heatmap [data-element][data-heat]')).map(
        g => [g.getAttribute('data-element'), [g.getAttribute('data-measure'), parseFloat(g.getAttribute('data-heat'))]]))""")


def cli_metrics(database_url: str) -> dict:
    bankflow = Path(sys.executable).with_name("bankflow")
    out = subprocess.run([str(bankflow), "metrics", "--process", "loan_application", "--since", SINCE,
                          "--until", UNTIL, "--json", "--database-url", database_url],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_heatmap_shows_the_planted_bottleneck_hottest_and_ranks_it_first(planted, visit, database_url):
    mona = visit()
    mona.sign_in("mona")
    mona.go(f"/dashboard?{WINDOW}", "dashboard")
    expect(mona.page.locator('tr[data-process="loan_application"]')).to_be_visible()
    expect(mona.page.locator("canvas.spark[data-drawn]").first).to_be_attached()
    mona.page.locator('tr[data-process="loan_application"] a').first.click()
    page = mona.page
    expect(page.locator("#heatmap[data-ready=true]")).to_be_attached(timeout=15000)
    mona.shot("process-share")

    heat = heat_of(page)
    assert heat and all(measure == "share" for measure, _ in heat.values())
    assert max(heat, key=lambda eid: heat[eid][1]) == "underwriter_review"
    first = page.locator("#bottlenecks tbody tr").first
    assert first.get_attribute("data-element") == "underwriter_review"
    verdict = first.get_attribute("data-verdict")
    assert verdict in ("queue", "capacity")
    expect(first.locator(".verdict")).to_have_text(verdict)
    expect(page.locator("canvas[data-drawn]")).to_have_count(4)

    # the page's figures are `bankflow metrics --json` for the same window
    doc = cli_metrics(database_url)
    assert page.locator('[data-figure="completed"]').inner_text() == str(doc["instances"]["completed"])
    assert page.locator('[data-figure="started"]').inner_text() == str(doc["instances"]["started"])
    assert page.locator('[data-figure="open"]').inner_text() == str(doc["instances"]["open"])
    assert page.locator('[data-figure="cycle_median"]').get_attribute("data-seconds") == \
        str(doc["instances"]["cycle_time"]["median"])
    rows = page.locator("#bottlenecks tbody tr")
    assert [rows.nth(i).get_attribute("data-element") for i in range(rows.count())] == doc["bottlenecks"]
    shares = {a["element_id"]: a["share"] for a in doc["activities"]}
    for i in range(rows.count()):
        row = rows.nth(i)
        assert float(row.locator("[data-share]").get_attribute("data-share")) == shares[row.get_attribute("data-element")]

    # switching the measure recolours the diagram without a reload
    page.evaluate("() => { window.stillHere = true; }")
    page.locator('input[name=measure][value="wait_share"]').check()
    expect(page.locator("#heatmap")).to_have_attribute("data-measure", "wait_share")
    switched = heat_of(page)
    assert all(measure == "wait_share" for measure, _ in switched.values())
    assert switched != heat
    assert page.evaluate("() => window.stillHere === true")
    assert "measure=wait_share" in page.url
    mona.shot("process-wait-share")
    page.locator('input[name=measure][value="open"]').check()
    expect(page.locator("#heatmap")).to_have_attribute("data-measure", "open")
    assert page.evaluate("() => window.stillHere === true")

    # the figures of an activity in an overlay on hover, and on keyboard focus
    page.locator('#heatmap [data-element="underwriter_review"]').hover()
    expect(page.locator(".heat-overlay")).to_contain_text(page.locator("#bottlenecks tbody tr").first
                                                          .locator("td").nth(1).inner_text())
    mona.shot("overlay")
    page.locator('#heatmap [data-element="underwriter_review"]').focus()
    expect(page.locator("#heatmap")).to_have_attribute("data-overlay", "underwriter_review")

    # a variant highlighted on the diagram
    page.locator("button[data-variant]").first.click()
    path = json.loads(page.locator("button[data-variant]").first.get_attribute("data-variant"))
    expect(page.locator("#heatmap")).to_have_attribute("data-variant", ",".join(path))
    assert page.locator(f'#heatmap .djs-element.on-path[data-element="{path[-1]}"]').count() == 1
    mona.shot("variant")

    # drill-down: clicking the activity lists its slowest cases, each linking to its case
    page.locator('#heatmap [data-element="underwriter_review"]').click()
    page.wait_for_url("**element=underwriter_review**")
    expect(page.locator("#heatmap[data-ready=true]")).to_be_attached(timeout=15000)
    links = page.locator("#slowest a[href^='/cases/']")
    expect(links.first).to_be_visible()
    assert links.count() == 10
    mona.shot("drill-down")
    links.first.click()
    page.wait_for_url("**/cases/*")

    mona.go("/dashboard/sla", "sla-board")
    expect(page.get_by_role("heading", name="SLA board")).to_be_visible()
    assert mona.csp_violations == []


def test_staff_get_403_on_the_dashboard(visit):
    olga = visit()
    olga.sign_in("olga")
    response = olga.page.goto(olga.base + "/dashboard")
    assert response.status == 403
    olga.shot("dashboard-refused")
    assert olga.page.locator("a[href='/dashboard']").count() == 0
    assert olga.csp_violations == []
