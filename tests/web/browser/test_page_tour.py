"""The page tour (the Polish issue): every kind of page, as the demo user who works on it, on the quick
start's bank, in English and in Chinese on a laptop screen and on a phone (390 px wide) in both.

Each visit saves a full-page screenshot `tour-<page>-<en|zh|phone|phone-zh>.png` to look at, runs axe-core (from
npm, served by the app itself so the Content-Security-Policy lets it in) and allows no serious or
critical violation, and measures that the page is no wider than the screen, the phone's included: wide
tables scroll inside their own box, nothing makes the whole page scroll sideways.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import pytest

from tests.web.browser.conftest import SCREENSHOTS, Visitor
from tests.web.browser.journeys import demo_users

PHONE_WIDTH = 390
SCREENS = {  # view: (browser language, context options)
    "en": ("en-US", {"viewport": {"width": 1280, "height": 800}}),
    "zh": ("zh-CN", {"viewport": {"width": 1280, "height": 800}}),
    "phone": ("en-US", {"viewport": {"width": PHONE_WIDTH, "height": 844}, "is_mobile": True, "has_touch": True}),
    "phone-zh": ("zh-CN", {"viewport": {"width": PHONE_WIDTH, "height": 844}, "is_mobile": True, "has_touch": True}),
}
SERIOUS = ("serious", "critical")

AXE_VIOLATIONS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => %s.includes(v.impact)).map(v =>
    `${v.id} (${v.impact}): ${v.help}\\n` + v.nodes.slice(0, 6).map(n => `    ${n.target.join(" ")}: ${n.failureSummary}`).join("\\n"));
}""" % list(SERIOUS)

# The elements that stick out on the right, outermost first; those inside a box that scrolls or clips them do
# not widen the page and are left out (a box clips a positioned element only when it holds its containing block).
WIDEST = """() => {
  const limit = document.documentElement.clientWidth;
  const clipped = e => {
    const position = getComputedStyle(e).position;
    let p = position === "absolute" || position === "fixed" ? e.offsetParent : e.parentElement;
    for (; p; p = p.parentElement) { if (getComputedStyle(p).overflowX !== "visible") return true; }
    return false;
  };
  const over = [...document.body.querySelectorAll("*")].filter(e => e.getBoundingClientRect().right > limit + 0.5 && !clipped(e));
  const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + [...e.classList].map(c => "." + c).join("");
  return over.filter(e => !over.includes(e.parentElement)).slice(0, 8).map(e =>
    `${name(e)} right edge at ${Math.round(e.getBoundingClientRect().right)} px: "${(e.textContent || "").replace(/\\s+/g, " ").trim().slice(0, 50)}"`);
}"""


def open_figures(page) -> None:
    """Focus the first activity of the heatmap that has figures and wait for its figures to be shown."""
    page.wait_for_selector("#heatmap[data-ready]")
    activity = page.locator("#heatmap [data-element][tabindex]").first
    activity.focus()
    name = (activity.get_attribute("aria-label") or "").split(" – ")[-1]  # drawn name – name in the reader's language
    page.wait_for_function("""name => [...document.querySelectorAll("[aria-live], [role=tooltip]")].some(
        e => e.getClientRects().length && e.textContent.includes(name))""", arg=name)


@dataclass(frozen=True)
class PageKind:
    name: str
    user: str | None  # the demo user signed in; None: nobody
    path: str
    follow: tuple[str, ...] = ()  # from `path`, follow the first link whose address matches each in turn
    status: int = 200
    then: Callable | None = None  # what to do on the page before it is looked at


PAGES = [
    PageKind("sign-in", None, "/login"),
    PageKind("inbox", "olga", "/tasks"),
    PageKind("task", "olga", "/tasks?view=group", follow=(r"/tasks/\d+",)),
    PageKind("start-list", "olga", "/start"),
    PageKind("start-form", "olga", "/start/loan_application"),
    PageKind("case", "olga", "/tasks?view=group", follow=(r"/tasks/\d+", r"/cases/\d+")),
    PageKind("case-search", "mona", "/cases"),
    PageKind("dashboard", "mona", "/dashboard"),
    PageKind("heatmap", "mona", "/dashboard/loan_application", then=open_figures),
    PageKind("sla-board", "mona", "/dashboard/sla"),
    PageKind("notifications", "mona", "/notifications"),
    PageKind("designer", "dana", "/designer"),
    PageKind("definition", "dana", "/designer/definitions/loan_application"),
    PageKind("test-case", "dana", "/designer/definitions/loan_application", follow=(r"/designer/.*/test-case",)),
    PageKind("admin", "admin", "/admin"),
    PageKind("add-user", "admin", "/admin/users/new"),
    PageKind("user", "admin", "/admin/users/olga"),
    PageKind("profile", "olga", "/profile"),
    PageKind("not-found", "olga", "/cases/999999999", status=404),
    PageKind("forbidden", "olga", "/admin", status=403),
]


def arrive(page, base: str, kind: PageKind) -> None:
    """Go to the page of `kind`, through the links it follows."""
    response = page.goto(base + kind.path, wait_until="networkidle")
    for pattern in kind.follow:
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
        found = next((h for h in hrefs if re.fullmatch(pattern, h.split("?")[0].split("#")[0])), None)
        assert found, f"{page.url} has no link to {pattern}"
        response = page.goto(base + found, wait_until="networkidle")
    assert response.status == kind.status, f"{page.url} answered {response.status}"


@pytest.mark.slow
@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("kind", PAGES, ids=[k.name for k in PAGES])
def test_page_is_accessible_and_fits_the_screen(chromium, quick_start_bank, kind, screen):
    language, options = SCREENS[screen]
    context = chromium.new_context(locale=language, **options)
    try:
        visitor = Visitor(context.new_page(), quick_start_bank, f"tour-{kind.name}-{screen}")
        page = visitor.page
        if kind.user:
            visitor.sign_in(kind.user, demo_users()[kind.user].password, shots=False)
        arrive(page, quick_start_bank, kind)
        assert page.get_attribute("html", "lang") == ("zh-Hans" if language.startswith("zh") else "en")
        if kind.then:
            kind.then(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"tour-{kind.name}-{screen}.png"), full_page=True)

        page.add_script_tag(url=quick_start_bank + "/assets/axe-core/axe.min.js")
        violations = page.evaluate(AXE_VIOLATIONS)
        assert not violations, f"axe-core on {page.url}:\n" + "\n".join(violations)
        screen_width = options["viewport"]["width"]
        widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
        assert max(widths) <= screen_width, (f"{page.url} is {max(widths)} px wide on a {screen_width} px screen; "
                                             "sticking out:\n" + "\n".join(page.evaluate(WIDEST)))
        assert not visitor.csp_violations, visitor.csp_violations
    finally:
        context.close()
