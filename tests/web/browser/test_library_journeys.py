"""Every model of the bank's process library, worked through the browser by its demo users (the Journeys
issue): a case started through /start and every user task completed through the task pages on three paths
per model (path 1 in Chinese), with a `bankflow worker` running beside the web app
as in production. Each case ends completed, or waits on a timer named here.
"""
from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from playwright.sync_api import expect

from engine.services import demo_data, deployments, users
from engine.services.context import EngineContext
from engine.json_shapes import definition_detail_view
from tests.conftest import fresh_database
from tests.helpers.process_library import MODELS
from tests.web.browser.conftest import CHROMIUM, SCREENSHOTS, Visitor, background_worker, gunicorn
from tests.web.browser.journeys import Journey, demo_users

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")

# Where a journey may rightly stop before the end: the process waits on a timer that fires weeks later.
WAITING_TIMERS = {"marketing_campaign": {"wait_30_days"}}
# Path 0 takes the first option of every choice, path 1 the last, path 2 the middle one (yes for yes/no),
# each with other customers' data; path 1 is walked in Chinese.
LOCALES = {0: "en-US", 1: "zh-CN", 2: "en-US"}


def record(key: str, outcomes) -> None:
    """What each journey did, one JSON line per path, beside the screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with (SCREENSHOTS / "journeys.jsonl").open("a", encoding="utf-8") as log:
        for path, outcome in enumerate(outcomes):
            log.write(json.dumps({"model": key, "path": path, "locale": LOCALES[path], **asdict(outcome)}) + "\n")


@pytest.fixture(scope="module")
def library(database_template, tmp_path_factory):
    """The quick start's bank: the process library and the demo users, served by gunicorn with a worker."""
    workdir = tmp_path_factory.mktemp("library")
    url = fresh_database(database_template, workdir)
    ctx = EngineContext.from_url(url)
    ctx.password_method = "pbkdf2:sha256:1000"  # the demo users are many; signing in stays real
    demo_data.load_demo(ctx)
    with gunicorn(url, workdir) as base, background_worker(url, workdir):
        yield ctx, base
    ctx.close()


@pytest.fixture
def browsers(chromium, library, request):
    """A signed-in browser tab per demo user and language, opened when first needed."""
    _, base = library
    people = demo_users()
    contexts, tabs = [], {}

    def browser_for(locale: str):
        def tab(user: str) -> Visitor:
            if (user, locale) not in tabs:
                context = chromium.new_context(locale=locale, viewport={"width": 1366, "height": 900})
                contexts.append(context)
                visitor = Visitor(context.new_page(), base, f"{request.node.name}-{locale}")
                visitor.sign_in(user, people[user].password)
                tabs[user, locale] = visitor
            return tabs[user, locale]
        return tab

    yield browser_for, people
    for visitor in tabs.values():
        assert visitor.csp_violations == [], visitor.csp_violations
    for context in contexts:
        context.close()


def test_the_library_is_what_the_journeys_walk(library):
    ctx, _ = library
    assert sorted(d.key for d in deployments.list_definitions(ctx, latest_only=True)) == sorted(MODELS)


@pytest.mark.slow
@pytest.mark.parametrize("key", MODELS)
def test_every_model_completes_through_the_web_on_three_paths(library, browsers, key):
    ctx, _ = library
    browser_for, people = browsers
    outcomes = [Journey(ctx, key, path, browser_for(LOCALES[path]), people).run() for path in LOCALES]
    record(key, outcomes)
    for path, outcome in enumerate(outcomes):
        assert outcome.steps, f"{key} path {path}: no user task was worked"
        if outcome.waiting_timer:
            assert outcome.waiting_timer in WAITING_TIMERS.get(key, set()), \
                f"{key} path {path} waits on the timer {outcome.waiting_timer} after {outcome.steps}"
        else:
            assert outcome.status == "completed", (key, path, outcome)
    assert outcomes[0].steps != outcomes[1].steps, f"{key}: paths 0 and 1 did the same: {outcomes[0].steps}"
    assert any(o.refused_field for o in outcomes), f"{key}: no form had a value to refuse"
    manager = min(name for name, person in people.items() if "manager" in person.roles)
    for path, outcome in enumerate(outcomes):
        follows = browser_for(LOCALES[path])(manager)  # a manager follows every case
        follows.go(f"/cases/{outcome.instance_id}", f"{key}-path-{path}-case")
        diagram = follows.page.locator(".diagram[data-ready=true]")
        expect(diagram).to_be_visible()
        for element_id, _ in outcome.steps:
            expect(diagram.locator(f'.djs-element.completed[data-element-id="{element_id}"]')).to_have_count(1)
        expect(follows.page.locator(".history")).to_contain_text(outcome.steps[-1][1])


@pytest.mark.parametrize("key", MODELS)
def test_the_designer_sees_every_model_drawn_with_its_people(library, browsers, key):
    ctx, _ = library
    browser_for, people = browsers
    designer = min(name for name, person in people.items() if "designer" in person.roles)
    dana = browser_for("en-US")(designer)
    dana.go("/designer", f"{key}-designer")
    dana.page.locator(f'a[href="/designer/definitions/{key}"]').click()
    diagram = dana.page.locator(".diagram[data-ready=true]")
    expect(diagram).to_be_visible()
    elements = definition_detail_view(deployments.definition_detail(ctx, key))["elements"]
    for element in elements:
        expect(diagram.locator(f'[data-element-id="{element["id"]}"]')).to_have_count(1)
    first_task = next(e for e in elements if e["type"] == "userTask")
    diagram.locator(f'[data-element-id="{first_task["id"]}"]').click()
    titles = users.group_titles(ctx)  # the page names a group by its display name, a user by their name
    offered = [titles[g].title for g in first_task["candidate_groups"]] + first_task["candidate_users"]
    expect(dana.page.locator(f'[data-element="{first_task["id"]}"]')).to_contain_text(offered[0])
    dana.shot(f"{key}-definition")
