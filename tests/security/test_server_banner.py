"""Class 12: no server the README starts announces its version: `bankflow serve` (Werkzeug's development
server) and gunicorn (production, and the browser tests)."""
from __future__ import annotations

import re
import urllib.request

from tests.service.test_serve_worker import serve  # noqa: F401 (the fixture)
from tests.web.browser.conftest import gunicorn

VERSION = re.compile(r"\d+\.\d+|werkzeug|python", re.IGNORECASE)


def server_header(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers.get("Server", "")


def test_bankflow_serve_sends_no_version_banner(serve, database_url):
    server = serve("--no-worker")
    port = server.args[server.args.index("--port") + 1]
    banner = server_header(f"http://127.0.0.1:{port}/health")
    assert banner == "bankflow"
    assert not VERSION.search(banner)


def test_gunicorn_sends_no_version_banner(database_url, tmp_path):
    with gunicorn(database_url, tmp_path) as base:
        banner = server_header(base + "/health")
    assert banner == "gunicorn"
