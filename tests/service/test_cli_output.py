"""What the command line prints: JSON on every command, library logs only when asked for."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from webui.cli import main

BANKFLOW = [sys.executable, "-c", "from webui.cli import main; main()"]


@pytest.fixture
def library_db(database_url):
    CliRunner().invoke(main, ["demo", "--database-url", database_url], catch_exceptions=False)
    return database_url


def run(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """A real `bankflow` process, so logging is configured as on a terminal."""
    return subprocess.run([*BANKFLOW, *args], env={**os.environ, "BANKFLOW_DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)


def test_worker_once_prints_no_library_log_lines_unless_verbose(library_db):
    run(library_db, "start", "customer_enquiry", "--var", "question=Why was my transfer held?")
    quiet = run(library_db, "worker", "--once")
    assert quiet.returncode == 0, quiet.stderr
    assert "1 service jobs completed" in quiet.stdout
    assert "spiff" not in quiet.stderr.lower() and "spiff" not in quiet.stdout.lower()
    run(library_db, "start", "customer_enquiry", "--var", "question=Why was my transfer held?")
    verbose = run(library_db, "worker", "--once", "--verbose")
    assert "spiff" in verbose.stderr.lower()


def test_every_command_answers_json(library_db):
    runner = CliRunner()

    def as_json(*args: str):
        result = runner.invoke(main, [*args, "--database-url", library_db], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    case = as_json("start", "customer_enquiry", "--var", "question=Why was my transfer held?", "--json")
    assert as_json("--json", "worker", "--once")["service_jobs"] == 1
    [task] = as_json("tasks", "--instance", str(case["id"]), "--json")
    claimed = as_json("claim", str(task["id"]), "--user", "anna", "--json")
    assert claimed["assignee"] == "anna" and claimed["status"] == "claimed"
    assert as_json("unclaim", str(task["id"]), "--user", "anna", "--json")["status"] == "open"
    assert as_json("assign", str(task["id"]), "--user", "mona", "--to", "anna", "--json")["assignee"] == "anna"
    assert as_json("init-db", "--json")["schema"] == "current"
    assert {c["name"] for c in as_json("calendars", "list", "--json")} >= {"head_office", "24x7"}
    assert as_json("sla", "set", "customer_enquiry", "PT2H", "--task", "agent_answer", "--json")["duration"] == "PT2H"
    assert as_json("activate", "customer_enquiry", "1", "--json")["active"] is True
    assert as_json("notifications", "--user", "mona", "--json") == []
    assert "anna" in {u["name"] for u in as_json("users", "list", "--json")}
    assert as_json("demo", "--json")["users_added"] == []


def test_init_db_says_whether_it_created_the_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    first = CliRunner().invoke(main, ["init-db", "--database-url", url])
    assert first.exit_code == 0 and "created the bankflow schema" in first.stdout
    again = CliRunner().invoke(main, ["init-db", "--database-url", url])
    assert "the schema is already current; nothing to do" in again.stdout


def test_help_says_who_acts_without_user():
    result = CliRunner().invoke(main, ["deploy", "--help"])
    assert "Without --user the command acts as the local operator" in " ".join(result.stdout.split())
