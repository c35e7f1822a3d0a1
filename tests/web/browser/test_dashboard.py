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
from engine.services import demo_data, simulation
from tests.service.analytics.test_simulation import LIBRARY, PLANTED, START
from tests.web.browser.conftest import Visitor

WINDOW = "from=2026-03-02&to=2026-03-08"  # the six simulated days (until 2026-03-09 00:00 UTC)
SINCE, UNTIL = "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"


@pytest.fixture
def planted(people, tmp_path):
    """Six days of loan applications from Monday 2 March 2026 with too few underwriters."""
    scenario = tmp_path / "planted.toml"
    scenario.write_text(PLANTED, encoding="utf-8")
    sim = dataclasses.replace(people, clock=ManualClock(START), script_engine=None, mailer=None)
    demo_data.load_demo(sim, LIBRARY)
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

    # the figures of an activity in the panel beside the diagram on hover, and on keyboard focus
    page.locator('#heatmap [data-element="underwriter_review"]').hover()
    expect(page.locator("#heat-panel h3")).to_have_text(page.locator("#bottlenecks tbody tr").first
                                                        .locator("td").nth(1).inner_text())
    mona.shot("panel")
    page.mouse.move(0, 0)
    expect(page.locator("#heat-panel")).not_to_have_attribute("data-showing", "underwriter_review")
    page.locator('#heatmap [data-element="underwriter_review"]').focus()
    expect(page.locator("#heat-panel")).to_have_attribute("data-showing", "underwriter_review")

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


READABLE_PX = 11  # the smallest label size on screen we call readable
VIEW = """sel => {
    const box = document.querySelector(sel);
    const labels = Array.from(box.querySelectorAll('.djs-visual text')).filter(t => t.textContent.trim());
    const sizes = labels.map(t => {
        const ctm = t.getScreenCTM();
        return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(ctm.a, ctm.b);
    });
    const task = labels.find(t => Math.abs(t.getScreenCTM().b) < 1e-6 && t.querySelector('tspan'));
    const bottom = box.getBoundingClientRect().top + box.clientTop + box.clientHeight;
    const drawn = box.querySelector('.viewport').getBoundingClientRect();
    return {scale: parseFloat(box.getAttribute('data-scale')), smallest: Math.min(...sizes),
            line: task.querySelector('tspan').getBoundingClientRect().height,
            empty_below: bottom - Math.min(bottom, drawn.bottom), box_right: box.getBoundingClientRect().right,
            page_width: document.documentElement.scrollWidth, viewport: window.innerWidth};
}"""


def readable_view(page, selector: str) -> dict:
    """The diagram in `selector` after load: every label at least READABLE_PX on screen, no tall empty
    canvas below the drawing, nothing wider than the window; the zoom buttons and keys change the scale
    and "fit" goes back to it; a mouse drag moves the drawing in its box without clicking anything."""
    view = page.evaluate(VIEW, selector)
    assert view["scale"] * 12 >= READABLE_PX, view
    assert view["smallest"] >= READABLE_PX, view
    assert view["line"] >= READABLE_PX, view
    assert view["empty_below"] <= 40, view
    assert view["box_right"] <= view["viewport"], view
    assert view["page_width"] <= view["viewport"], view
    frame = page.locator(".diagram-frame", has=page.locator(selector))
    box = page.locator(selector)
    frame.locator("[data-zoom=in]").click()
    zoomed_in = float(box.get_attribute("data-scale"))
    assert zoomed_in > view["scale"]
    frame.locator("[data-zoom=out]").click()
    frame.locator("[data-zoom=out]").click()
    assert float(box.get_attribute("data-scale")) < view["scale"]
    frame.locator("[data-zoom=fit]").click()
    assert float(box.get_attribute("data-scale")) == view["scale"]
    # dragging with the mouse moves the drawing in its box, and is no click (no drill-down, no details)
    box.scroll_into_view_if_needed()
    address, area = page.url, box.bounding_box()
    page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] / 2 - 120, area["y"] + area["height"] / 2 - 40, steps=6)
    page.mouse.up()
    assert box.evaluate("b => b.scrollLeft") > 0
    assert page.url == address
    box.focus()  # the keyboard: + zooms in, 0 goes back to the readable fit
    page.keyboard.press("+")
    assert float(box.get_attribute("data-scale")) > view["scale"]
    page.keyboard.press("0")
    assert float(box.get_attribute("data-scale")) == view["scale"]
    box.blur()
    return view


def panel_figures(page) -> dict[str, str]:
    terms = page.locator("#heat-panel dt")
    return {terms.nth(i).inner_text(): page.locator("#heat-panel dd").nth(i).inner_text() for i in range(terms.count())}


def table_figures(page, element_id: str) -> dict[str, str]:
    """The bottleneck table's row of an activity, by column heading (the verdict without its advice)."""
    headings = page.locator("#bottlenecks thead th")
    cells = page.locator(f'#bottlenecks tr[data-element="{element_id}"] td')
    row = {}
    for i in range(headings.count()):
        verdict = cells.nth(i).locator(".verdict")
        row[headings.nth(i).inner_text()] = (verdict if verdict.count() else cells.nth(i)).inner_text()
    return row


@pytest.mark.parametrize("width", [1280, 390])
def test_the_heatmap_and_a_case_diagram_are_readable_with_figures_in_a_panel(planted, visit, width):
    for locale in ("en-US", "zh-CN"):
        mona = visit(locale)
        page = mona.page
        page.set_viewport_size({"width": width, "height": 900 if width > 800 else 844})
        mona.sign_in("mona")
        mona.go(f"/dashboard/loan_application?{WINDOW}", f"heatmap-{locale}")
        expect(page.locator("#heatmap[data-ready=true]")).to_be_attached(timeout=15000)
        readable_view(page, "#heatmap")

        # the activity under the pointer: its name and the bottleneck table's figures, in the panel
        first, second = (page.locator("#bottlenecks tbody tr").nth(i).get_attribute("data-element") for i in (0, 1))
        page.locator(f'#heatmap [data-element="{first}"]').hover()
        expect(page.locator("#heat-panel")).to_have_attribute("data-showing", first)
        expect(page.locator("#heat-panel h3")).to_have_text(
            page.locator(f'#bottlenecks tr[data-element="{first}"] td').nth(1).inner_text())
        shown, row = panel_figures(page), table_figures(page, first)
        same = [label for label in shown if label in row]
        assert len(same) >= 4, (shown, row)
        assert {label: shown[label] for label in same} == {label: row[label] for label in same}
        assert page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('#heat-panel dd')).fontSize)") \
            == page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
        mona.shot(f"heatmap-panel-{locale}")
        # and the one with keyboard focus
        page.mouse.move(0, 0)
        page.locator(f'#heatmap [data-element="{second}"]').focus()
        expect(page.locator("#heat-panel")).to_have_attribute("data-showing", second)
        shown, row = panel_figures(page), table_figures(page, second)
        assert {label: shown[label] for label in shown if label in row} == \
            {label: row[label] for label in shown if label in row}
        page.locator(f'#heatmap [data-element="{second}"]').blur()
        expect(page.locator("#heat-panel")).not_to_have_attribute("data-showing", second)
        expect(page.locator("#heat-panel .hint")).to_be_visible()

        # a case's diagram: the same readable fit and zoom, the current and completed marks kept
        page.goto(f"{mona.base}/dashboard/loan_application?{WINDOW}&element={first}")
        page.locator("#slowest a[href^='/cases/']").first.click()
        page.wait_for_url("**/cases/*")
        expect(page.locator(".diagram[data-ready=true]")).to_be_attached(timeout=15000)
        assert page.locator(".diagram .djs-element.completed").count() > 0
        readable_view(page, ".diagram")
        mona.shot(f"case-{locale}")

        # a case waiting at the bottleneck (far from the diagram's top-left) opens with it in view
        page.goto(f"{mona.base}/cases?status=running&process=loan_application")
        links = page.locator("table a[href^='/cases/']")
        for href in [links.nth(i).get_attribute("href") for i in range(links.count())]:
            page.goto(mona.base + href)
            if first in json.loads(page.locator(".diagram").get_attribute("data-current")):
                break
        else:
            pytest.fail(f"no running case waits at {first}")
        expect(page.locator(".diagram[data-ready=true]")).to_be_attached(timeout=15000)
        assert page.locator(".diagram").evaluate("""box => {
            const shown = box.getBoundingClientRect(), at = box.querySelector('.djs-element.current').getBoundingClientRect();
            return at.left >= shown.left && at.right <= shown.right && at.top >= shown.top && at.bottom <= shown.bottom;
        }""")
        mona.shot(f"running-case-{locale}")
        assert mona.csp_violations == []


def test_on_a_touch_screen_the_first_tap_shows_the_figures_and_the_second_drills_down(planted, chromium, live_server,
                                                                                     request):
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        mona = Visitor(context.new_page(), live_server, request.node.name)
        page = mona.page
        mona.sign_in("mona")
        mona.go(f"/dashboard/loan_application?{WINDOW}", "heatmap-phone")
        expect(page.locator("#heatmap[data-ready=true]")).to_be_attached(timeout=15000)
        first = page.locator("#bottlenecks tbody tr").first.get_attribute("data-element")
        activity = page.locator(f'#heatmap [data-element="{first}"]')
        activity.tap()
        expect(page.locator("#heat-panel")).to_have_attribute("data-showing", first)
        assert f"element={first}" not in page.url
        mona.shot("tapped-once")  # a full-page shot resizes the window: the diagram keeps its place
        assert page.locator("#heatmap").evaluate("b => b.scrollLeft + b.scrollTop") > 0
        activity.tap()
        page.wait_for_url(f"**element={first}**")
        assert mona.csp_violations == []
    finally:
        context.close()
