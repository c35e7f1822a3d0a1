"""The XES export as process-mining tools read it (pm4py), and the CSV tables."""
from __future__ import annotations

import csv
import io
import warnings

import numpy as np
import pytest

from engine.analytics import csv_tables
from engine.errors import NotFound
from engine.services import exports, metrics
from engine.store.tables import INSTANCE


@pytest.fixture(scope="module")
def pm4py():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py as module
    return module


def test_pm4py_reads_the_log_and_its_case_durations_are_the_cycle_times(claims, build_history, tmp_path, pm4py):
    end = build_history(cases=10)
    path = tmp_path / "claims.xes"
    written = exports.export_xes(claims, path, key="claim_review")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = pm4py.read_xes(str(path), return_legacy_log_object=False, show_progress_bar=False)
    assert log["case:concept:name"].nunique() == written.traces == 10
    assert len(log) == written.events
    assert set(log["lifecycle:transition"]) <= {"schedule", "start", "complete", "ate_abort"}
    assert {"case:business_key", "case:definition_key", "case:definition_version", "org:resource"} <= set(log.columns)
    assert set(log.loc[log["element_id"] == "review", "org:resource"].dropna()) == {"rex"}
    completed = log[log["case:status"] == "completed"]
    durations = sorted(pm4py.get_all_case_durations(completed))
    found = metrics.process_metrics(claims, "claim_review", until=end)
    assert len(durations) == found["instances"]["cycle_time"]["count"] == found["instances"]["completed"]
    assert sum(durations) / len(durations) == pytest.approx(found["instances"]["cycle_time"]["mean"], abs=1e-3)
    assert max(durations) == pytest.approx(found["instances"]["cycle_time"]["max"], abs=1e-3)
    cycle = found["instances"]["cycle_time"]
    assert np.median(durations) == pytest.approx(cycle["median"], abs=1e-3)
    assert np.percentile(durations, 90) == pytest.approx(cycle["p90"], abs=1e-3)


def test_xes_escapes_text_and_filters_by_process_and_start(claims, build_history, tmp_path, read_xes):
    build_history(cases=4)
    with claims.database.engine.begin() as conn:
        conn.execute(INSTANCE.update().where(INSTANCE.c.id == 1).values(business_key='a<b & "c"\x01'))
    buffer = io.StringIO()
    exports.export_xes(claims, buffer)
    assert 'value="a&lt;b &amp; &quot;c&quot;"' in buffer.getvalue()
    path = tmp_path / "x.xes"
    exports.export_xes(claims, path)
    traces = read_xes(path)
    assert traces[0]["attributes"]["business_key"] == 'a<b & "c"'
    started = sorted(t["events"][0]["time:timestamp"] for t in traces)
    since_third = exports.export_xes(claims, io.StringIO(), since=started[2])
    assert since_third.traces == 2
    with pytest.raises(NotFound):
        exports.export_xes(claims, io.StringIO(), key="nope")


def test_csv_export_writes_every_metrics_table(claims, build_history, tmp_path):
    end = build_history(cases=5)
    result = exports.export_csv(claims, tmp_path / "out", until=end)
    assert result.processes == ("claim_review",)
    found = metrics.process_metrics(claims, "claim_review", until=end)
    for name, columns in csv_tables.TABLES.items():
        with open(tmp_path / "out" / f"{name}.csv", newline="", encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
        assert rows and list(rows[0]) == columns, name
    with open(tmp_path / "out" / "activities.csv", newline="", encoding="utf-8") as stream:
        activities = {r["element_id"]: r for r in csv.DictReader(stream)}
    review = next(a for a in found["activities"] if a["element_id"] == "review")
    assert float(activities["review"]["wait_p90"]) == review["wait"]["p90"]
    assert activities["review"]["verdict"] == review["verdict"]
    assert int(activities[found["bottlenecks"][0]]["bottleneck_rank"]) == 1
