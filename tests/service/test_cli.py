"""The `bankflow` command line: the whole case through the CLI, and its exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from webui.cli import main


@pytest.fixture
def bankflow(database_url):
    runner = CliRunner()

    def run(*args: str, expect: int = 0):
        result = runner.invoke(main, ["--database-url", database_url, *args], catch_exceptions=False)
        assert result.exit_code == expect, (result.output, getattr(result, "stderr", ""))
        return result

    return run


def as_json(result):
    return json.loads(result.stdout)


def test_whole_case_through_the_cli(bankflow, fixture_path):
    bankflow("init-db")
    bankflow("users", "add", "olga", "--password", "secret123", "--group", "credit_officers")
    bankflow("users", "add", "max", "--password", "secret123", "--group", "credit_managers")
    bankflow("users", "add", "dana", "--password", "secret123", "--role", "designer")
    deployed = as_json(bankflow("deploy", str(fixture_path("two_lane_review.bpmn")), "--user", "dana", "--json"))
    assert deployed["definitions"][0]["status"] == "new"
    assert as_json(bankflow("definitions", "--json"))[0]["key"] == "loan_review"

    started = as_json(bankflow("start", "loan_review", "--business-key", "L-7", "--user", "olga", "--json"))
    assert set(started) >= {"id", "definition_key", "version", "status", "business_key", "started_at"}
    assert started["business_key"] == "L-7" and started["status"] == "running"

    [capture] = as_json(bankflow("tasks", "--user", "olga", "--json"))
    assert set(capture) >= {"id", "instance_id", "element_id", "name", "lane", "candidate_groups",
                            "candidate_users", "assignee", "status", "created_at", "claimed_at",
                            "completed_at", "due_at", "sla_status", "form"}
    assert set(capture["form"][0]) >= {"id", "label", "type", "required", "options"}
    bankflow("claim", str(capture["id"]), "--user", "olga")
    bankflow("complete", str(capture["id"]), "--user", "olga", "--data", '{"amount": 25000, "score": 610}')

    [approve] = as_json(bankflow("tasks", "--group", "credit_managers", "--json"))
    bankflow("claim", str(approve["id"]), "--user", "max")
    bankflow("complete", str(approve["id"]), "--user", "max", "--data", '{"approved": false, "comment": "too risky"}')

    detail = as_json(bankflow("instance", str(started["id"]), "--json"))
    assert detail["status"] == "completed"
    assert detail["variables"]["risk"] == "high" and detail["variables"]["approved"] is False
    actors = {(e["type"], e["element_id"]): e["actor"] for e in detail["history"]}
    assert actors[("task_completed", "capture")] == "olga"
    assert actors[("task_completed", "approve")] == "max"
    assert {"id", "status", "definition_key", "version", "variables", "tasks", "history"} <= set(detail)


def test_user_errors_exit_1_with_one_line_per_problem(bankflow, fixture_path):
    bankflow("users", "add", "olga", "--password", "secret123", "--group", "credit_officers")
    bankflow("deploy", str(fixture_path("two_lane_review.bpmn")))
    started = as_json(bankflow("start", "loan_review", "--json"))
    [task] = as_json(bankflow("tasks", "--instance", str(started["id"]), "--json"))
    bankflow("claim", str(task["id"]), "--user", "olga")
    result = bankflow("complete", str(task["id"]), "--user", "olga", "--data", '{"amount": "x"}', expect=1)
    assert result.stderr.splitlines() == ["error: amount: must be a whole number", "error: score: is required"]
    result = bankflow("deploy", str(fixture_path("missing.bpmn")), expect=1)
    assert "missing.bpmn: no such file or folder" in result.stderr


def test_deploy_json_carries_the_warnings(bankflow, fixture_path):
    deployed = as_json(bankflow("deploy", str(fixture_path("starter_groups.bpmn")), "--json"))
    assert deployed["definitions"][0]["status"] == "new"
    assert deployed["warnings"] == [{
        "file": "starter_groups.bpmn", "element": "credit_limit_change", "line": 4,  # where lxml ends the start tag
        "message": "process credit_limit_change may be started by 'cara' (camunda:candidateStarterUsers), but there "
                   "is no user 'cara' yet: they cannot start it until they are added"}]


def test_deploy_prints_the_warnings_on_stderr(bankflow, fixture_path):
    result = bankflow("deploy", str(fixture_path("starter_groups.bpmn")))
    assert result.stdout.strip() == "credit_limit_change v1 (new)"
    assert result.stderr.splitlines() == [
        "warning: starter_groups.bpmn:4 [credit_limit_change]: process credit_limit_change may be started by 'cara' "
        "(camunda:candidateStarterUsers), but there is no user 'cara' yet: they cannot start it until they are added"]


def test_usage_errors_exit_2(bankflow):
    assert "not valid JSON" in bankflow("start", "x", "--data", "{nope", expect=2).stderr
    bankflow("claim", "not-a-number", "--user", "x", expect=2)


def test_installed_console_script_runs(database_url, fixture_path, tmp_path):
    env = {**os.environ, "BANKFLOW_DATABASE_URL": database_url}
    exe = os.path.join(os.path.dirname(sys.executable), "bankflow")
    out = subprocess.run([exe, "deploy", str(fixture_path("two_lane_review.bpmn")), "--json"],
                         env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["definitions"][0]["key"] == "loan_review"


def test_notifications_command_lists_escalations(bankflow, database_url):
    from datetime import datetime, timezone

    from engine.store.db import make_engine, make_session_factory
    from engine.store.models import Notification

    bankflow("users", "add", "mo", "--password", "secret123", "--group", "reviewers", "--role", "manager")
    assert bankflow("notifications", "--user", "mo").stdout.strip() == "no notifications"
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:  # as the worker's escalation writes it
        session.add(Notification(user_name="mo", kind="sla_breached", message="SLA breached: task 'Review'",
                                 created_at=datetime(2026, 1, 12, 16, tzinfo=timezone.utc)))
    engine.dispose()
    [row] = as_json(bankflow("notifications", "--user", "mo", "--unread", "--json"))
    assert row["message"] == "SLA breached: task 'Review'" and row["read_at"] is None
    assert "2026-01-12T16:00:00Z  * SLA breached" in bankflow("notifications", "--user", "mo", "--mark-read").stdout
    assert as_json(bankflow("notifications", "--user", "mo", "--unread", "--json")) == []
    [read] = as_json(bankflow("notifications", "--user", "mo", "--json"))
    assert read["read_at"] is not None


def test_database_problems_are_one_line_not_a_traceback(tmp_path):
    runner = CliRunner()
    missing = tmp_path / "missing.sqlite"
    absent = runner.invoke(main, ["--database-url", f"sqlite:///{missing}", "tasks"])
    assert absent.exit_code == 1 and not missing.exists()
    assert absent.stderr.strip() == (f"error: the database {missing} does not exist: run `bankflow init-db` "
                                     "(or `bankflow demo`) to create it, or pass --database-url")
    (tmp_path / "empty.sqlite").touch()
    empty = runner.invoke(main, ["tasks", "--database-url", f"sqlite:///{tmp_path / 'empty.sqlite'}"])
    assert empty.exit_code == 1
    assert empty.stderr.strip() == "error: the database has no bankflow schema yet: run `bankflow init-db` first"
    for url, says in (("garbage", "error: 'garbage' is not a database URL"),
                      ("mysql://x@y/z", "error: cannot use 'mysql://x@y/z': the database driver is not installed")):
        for args in (["--database-url", url, "definitions"], ["definitions", "--database-url", url]):
            result = runner.invoke(main, args)
            assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1, result.output
            assert result.stderr.startswith(says) and "Traceback" not in result.output
    unreachable = runner.invoke(main, ["--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/none", "tasks"])
    assert unreachable.exit_code == 1
    assert unreachable.stderr.startswith("error: cannot reach the database:")
    assert "Traceback" not in unreachable.output


def test_init_db_on_an_unreachable_server_is_one_line():
    result = CliRunner().invoke(main, ["--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/none", "init-db"])
    assert result.exit_code == 1 and result.stderr.startswith("error: cannot reach the database:")
