"""The analytics commands: metrics (table and --json), export-xes, export-csv, simulate --compare."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.services import metrics
from webui.cli import main  # registers the analytics commands (webui/analytics_cli.py)

LIBRARY = Path(__file__).resolve().parents[3] / "processes"


@pytest.fixture
def bankflow():
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_metrics_json_is_the_service_document_and_the_table_names_the_bottleneck(claims, build_history, bankflow,
                                                                                  database_url, tmp_path):
    end = build_history(cases=6)
    until = end.isoformat()
    result = bankflow("metrics", "--process", "claim_review", "--until", until, "--json", "--database-url",
                      database_url)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(metrics.process_metrics(claims, "claim_review",
                                                                                       until=end)))
    table = bankflow("metrics", "--process", "claim_review", "--until", until, "--database-url", database_url)
    top = json.loads(result.output)["bottlenecks"][0]
    assert table.exit_code == 0 and "cycle time: median" in table.output and top in table.output
    unknown = bankflow("metrics", "--process", "nope", "--database-url", database_url)
    assert unknown.exit_code == 1
    xes = bankflow("export-xes", str(tmp_path / "log.xes"), "--database-url", database_url)
    assert xes.exit_code == 0 and "6 cases" in xes.output and (tmp_path / "log.xes").stat().st_size > 0
    csv = bankflow("export-csv", str(tmp_path / "csv"), "--process", "claim_review", "--database-url", database_url)
    assert csv.exit_code == 0 and (tmp_path / "csv" / "activities.csv").is_file()
    bad = bankflow("metrics", "--since", "yesterday", "--database-url", database_url)
    assert bad.exit_code == 2


@pytest.mark.slow
def test_simulate_compare_prints_both_scenarios_side_by_side(bankflow, tmp_path):
    more = tmp_path / "more.toml"
    more.write_text('[scenario]\nprocess = "customer_enquiry"\nextends = "customer_enquiry"\n'
                    'name = "three agents"\n[staff]\ncontact_centre = 3\n', encoding="utf-8")
    result = bankflow("simulate", "--process", "customer_enquiry", "--days", "2", "--seed", "4",
                      "--start", "2026-03-02", "--compare", str(more), "--library", str(LIBRARY))
    assert result.exit_code == 0, result.output
    assert "A: Customer enquiries, normal day" in result.output and "B: three agents" in result.output
    assert "customer_enquiry: p90 cycle time:" in result.output and "→" in result.output
    kept = tmp_path / "sim.sqlite"
    single = bankflow("simulate", "--process", "customer_enquiry", "--days", "1", "--start", "2026-03-02",
                      "--keep", str(kept), "--json", "--library", str(LIBRARY))
    report = json.loads(single.output)
    assert report["counters"]["cases_started"] > 0 and kept.is_file()
