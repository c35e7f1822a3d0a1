"""Browser tests: Debian's chromium driven by Playwright against the app served by gunicorn.

The app runs in its own processes on a free local port over the test's database;
every page a test visits is saved as a screenshot under $BANKFLOW_SCREENSHOTS
(default: test-artifacts/screenshots in the project).
"""
from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from engine.services import demo_data, deployments, instances, users
from engine.services.context import EngineContext
from tests.conftest import fresh_database
from tests.web.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = Path(os.environ.get("BANKFLOW_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))
HISTORY_DAYS = 14  # of simulated history in the quick start's bank, as `bankflow serve` loads
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed "
                                                               "(apt-get install -y chromium; .ci/run does)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def people(ctx, fixture_path):
    """The bank the browser tests work in: two_lane_review and its staff, a designer, a manager."""
    for name, groups, roles in (("olga", ["credit_officers"], ["staff"]), ("max", ["credit_managers"], ["staff"]),
                                ("mona", ["credit_managers"], ["manager"]), ("dana", [], ["designer"])):
        users.add_user(ctx, name, PASSWORD, groups, roles)
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]))
    return ctx


@contextlib.contextmanager
def stopped_at_exit(process: subprocess.Popen, log_path: Path) -> Iterator[None]:
    """Stop `process` when the block ends; then a traceback in its log (a request or job that failed
    inside the app) fails the test."""
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)
    logged = log_path.read_text(errors="replace")
    assert "Traceback" not in logged, f"{log_path.name} holds a traceback:\n{logged[-4000:]}"


@contextlib.contextmanager
def gunicorn(database_url: str, workdir: Path) -> Iterator[str]:
    """gunicorn serving the app on `database_url` on a free loopback port; yields its base URL. Its log goes
    to workdir/gunicorn.log; a traceback there (a request that failed inside the app) fails the test."""
    port = free_port()
    env = {**os.environ, "BANKFLOW_DATABASE_URL": database_url, "BANKFLOW_SECRET_KEY": "browser-tests",
           "PYTHONPATH": str(ROOT)}
    log_path = workdir / "gunicorn.log"
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--chdir", str(workdir), "--log-level", "warning", "webui:create_app()"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"gunicorn did not start: {log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
    with stopped_at_exit(server, log_path):
        yield base


@contextlib.contextmanager
def background_worker(database_url: str, workdir: Path, interval: float = 0.5) -> Iterator[subprocess.Popen]:
    """`bankflow worker` in its own process, as production runs it beside the web app; its log goes to
    workdir/worker.log, and a traceback there fails the test."""
    env = {**os.environ, "BANKFLOW_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    log_path = workdir / "worker.log"
    with log_path.open("ab") as log:
        worker = subprocess.Popen(
            [str(Path(sys.executable).with_name("bankflow")), "worker", "--interval", str(interval)],
            env=env, stdout=subprocess.DEVNULL, stderr=log)
    with stopped_at_exit(worker, log_path):
        yield worker


@pytest.fixture
def live_server(people, database_url, tmp_path):
    """gunicorn serving the app on the test's database; yields its base URL."""
    with gunicorn(database_url, tmp_path) as base:
        yield base


@pytest.fixture(scope="module")
def quick_start_bank(database_template, tmp_path_factory):
    """The quick start's bank (process library, demo users of processes/demo_users.toml, simulated history)
    served by gunicorn; yields its base URL."""
    workdir = tmp_path_factory.mktemp("quick-start")
    url = fresh_database(database_template, workdir)
    ctx = EngineContext.from_url(url)
    ctx.password_method = "pbkdf2:sha256:1000"
    report = demo_data.load_demo(ctx, history_days=HISTORY_DAYS)
    assert report.history["counters"]["cases_started"] > 100, report.history
    # The simulated history ends now, so what it leaves with olga (a credit officer) depends on the day
    # and hour the tests run; a new loan application waits in her group whatever it left.
    instances.start(ctx, "loan_application", user="olga")
    ctx.close()
    with gunicorn(url, workdir) as base:
        yield base


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visitor:
    """One person's browser tab: signs in, goes to pages, saves a screenshot of each, and records
    anything the Content-Security-Policy blocked."""

    def __init__(self, page, base: str, test_name: str):
        self.page, self.base, self.test_name = page, base, test_name
        self.shots = 0
        self.csp_violations: list[str] = []
        page.on("console", lambda message: self.csp_violations.append(message.text)
                if "Content Security Policy" in message.text else None)

    def shot(self, label: str) -> None:
        self.shots += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w-]+", "_", f"{self.test_name}-{self.shots:02d}-{label}")
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def go(self, path: str, label: str) -> None:
        self.page.goto(self.base + path, wait_until="networkidle")
        self.shot(label)

    def sign_in(self, name: str, password: str = PASSWORD, shots: bool = True) -> None:
        """Through the sign-in form, in any language (the fields are found by their names); `shots`: save
        screenshots of the form and the first page."""
        self.page.goto(self.base + "/login", wait_until="networkidle")
        if shots:
            self.shot(f"sign-in-{name}")
        self.page.locator("input[name=name]").fill(name)
        self.page.locator("input[name=password]").fill(password)
        self.page.locator("form:has(input[name=password]) button[type=submit]").click()
        self.page.wait_for_url(re.compile(r".*/tasks.*"))
        if shots:
            self.shot(f"signed-in-{name}")


@pytest.fixture
def visit(chromium, live_server, request):
    contexts = []

    def open_tab(locale: str = "en-US") -> Visitor:
        context = chromium.new_context(locale=locale, viewport={"width": 1366, "height": 900})
        contexts.append(context)
        return Visitor(context.new_page(), live_server, request.node.name)

    yield open_tab
    for context in contexts:
        context.close()
