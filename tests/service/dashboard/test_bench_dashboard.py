"""bench/dashboard.py end to end at a tiny size (needs a PostgreSQL server, like the figure it prints)."""
from __future__ import annotations

import os

import pytest

from bench import dashboard
from bench.persisted import postgres_database

SERVER = os.environ.get("BANKFLOW_TEST_DATABASE_URL", "")


@pytest.mark.skipif(not SERVER.startswith("postgresql"), reason="the dashboard bench runs on PostgreSQL")
def test_the_dashboard_bench_renders_the_page_over_bulk_history():
    with postgres_database(SERVER) as url:
        found = dashboard.bench_dashboard(url, 300)
    assert found["loaded"]["cases"] == 300
    assert 0 < found["seconds"] and 0 < found["drill_down_seconds"] and 0 < found["last_30_days_seconds"]
