"""The benchmark harness runs end to end and writes every figure issue #7 asks for (tiny sizes)."""
from __future__ import annotations

import json

from bench import run


def test_quick_run_on_sqlite_writes_the_figures(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "QUICK", run.Sizes(straight=6, human=3, bare_straight=10, bare_human=6, warmup=2))
    out_file = tmp_path / "bench.json"
    assert run.main(["--quick", "--only", "sqlite", "--json", str(out_file)]) == 0
    figures = json.loads(out_file.read_text())
    for key in ("bare_straight_ips", "bare_human_ips", "sqlite_straight_ips", "sqlite_human_ips",
                "sqlite_straight_ratio", "sqlite_human_ratio", "sandbox_overhead", "peak_rss_mb"):
        assert figures[key] > 0, key
    assert figures["pg_human_ips"] is None and figures["pg_human_ratio"] is None  # not asked for
    assert figures["sqlite_human_ratio"] == figures["sqlite_human_ips"] / figures["bare_human_ips"]
    assert set(figures["detail"]["bare"]) == {"before", "after", "pooled"}
    assert figures["detail"]["sqlite"]["statements_per_call"]["human"]["complete"] > 0
    printed = capsys.readouterr().out
    assert "Bare before / after the persisted runs" in printed and "Database round trip" in printed
