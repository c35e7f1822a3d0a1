"""`bankflow serve` runs a worker in a background thread (unless --no-worker): a real server process on
a free local port, a loan application driven to its credit bureau step, and nothing else run."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.services import calendars, deployments, instances, users
from tests.helpers.process_library import LIBRARY
from webui.cli import main

BANKFLOW = Path(sys.executable).with_name("bankflow")
INTAKE = {"customer_id": "C-1001", "customer_name": "Li Wei", "applicant_user": "carl", "loan_product": "consumer",
          "amount": 200000, "term_months": 120, "monthly_income": 30000, "existing_debt_monthly": 2000,
          "collateral": "none"}
WORKER_SECONDS = 30  # the worker passes every 2 s: the bureau answers well within this


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def loans(ctx):
    """loan_application, its decision table, an officer and the applicant (no demo data: serve --no-demo)."""
    calendars.ensure_default_calendars(ctx)
    users.add_user(ctx, "olga", "secret123", ["credit_officers"], ["staff"])
    users.add_user(ctx, "carl", "secret123", ["applicants"], ["staff"])
    deployments.deploy(ctx, deployments.read_sources([LIBRARY / "loan_application.bpmn",
                                                      LIBRARY / "credit_decision.dmn"]))
    return ctx


@pytest.fixture
def serve(database_url, tmp_path):
    """`serve(*options)`: `bankflow serve --no-demo` on a free port over the test's database, up and
    answering /health; stopped with SIGTERM at the end, which must end it cleanly."""
    servers = []

    def start(*options: str) -> subprocess.Popen:
        port = free_port()
        log = (tmp_path / f"serve-{port}.log").open("w+")
        server = subprocess.Popen([str(BANKFLOW), "--database-url", database_url, "serve", "--no-demo",
                                   "--port", str(port), *options],
                                  cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "FLASK_DEBUG": "0"})
        servers.append((server, log))
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    assert json.load(response)["status"] == "ok"
                    return server
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    log.seek(0)
                    pytest.fail(f"bankflow serve did not start: {log.read()[-2000:]}")
                time.sleep(0.2)

    yield start
    for server, log in servers:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                server.kill()
                pytest.fail("bankflow serve did not stop on SIGTERM")
        log.close()


def loan_past_the_document_check(database_url: str) -> int:
    """As the CLI user would: start the case, then claim and complete intake and document check."""
    runner = CliRunner()

    def bankflow(*args: str) -> dict | list:
        result = runner.invoke(main, ["--database-url", database_url, *args, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    case = bankflow("start", "loan_application", "--business-key", "LOAN-1", "--user", "olga")
    for element_id, data in (("loan_intake", INTAKE), ("document_check", {"documents_complete": True,
                                                                          "missing_documents": ""})):
        [task] = bankflow("tasks", "--instance", str(case["id"]))
        assert task["element_id"] == element_id
        bankflow("claim", str(task["id"]), "--user", "olga")
        bankflow("complete", str(task["id"]), "--user", "olga", "--data", json.dumps(data))
    return case["id"]


def at_the_bureau(ctx, case_id: int) -> bool:
    return [w.element_id for w in instances.get_instance(ctx, case_id).waiting] == ["credit_bureau"]


@pytest.mark.slow
def test_serve_runs_a_worker_that_moves_the_case_past_the_bureau(loans, database_url, serve, tmp_path):
    server = serve()
    case_id = loan_past_the_document_check(database_url)
    deadline = time.monotonic() + WORKER_SECONDS
    while at_the_bureau(loans, case_id) and time.monotonic() < deadline:
        time.sleep(0.5)
    detail = instances.get_instance(loans, case_id)
    served = [e for e in detail.history if e.type == "service_completed"]
    assert [e.element_id for e in served] == ["credit_bureau"], detail.waiting
    assert served[0].actor.startswith("serve:") and detail.variables["bureau_score"] == 841
    assert [t.element_id for t in detail.tasks if t.status == "open"] == ["underwriter_review"]

    server.send_signal(signal.SIGTERM)  # stops like Ctrl-C: the server closes, the worker ends its pass
    assert server.wait(timeout=40) == 0
    output = "".join(p.read_text() for p in tmp_path.glob("serve-*.log"))
    assert "worker serve:" in output and "--no-worker turns it off" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_serve_no_worker_leaves_the_case_waiting(loans, database_url, serve, tmp_path):
    server = serve("--no-worker")
    case_id = loan_past_the_document_check(database_url)
    time.sleep(5)  # two and a half passes of serve's worker, had there been one
    assert at_the_bureau(loans, case_id)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=40) == 0
    output = "".join(p.read_text() for p in tmp_path.glob("serve-*.log"))
    assert "worker serve:" not in output and "Traceback" not in output


def test_the_help_says_production_runs_separate_workers():
    serve_help = " ".join(CliRunner().invoke(main, ["serve", "--help"]).output.split())
    assert "--worker / --no-worker" in serve_help and "separate `bankflow worker` processes" in serve_help
    worker_help = " ".join(CliRunner().invoke(main, ["worker", "--help"]).output.split())
    assert "`bankflow serve` runs one in a thread unless --no-worker" in worker_help
