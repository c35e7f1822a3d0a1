"""The XES writer's output, and the verdict rule (docs/metrics-json.md: customer, queue, capacity, work)."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest

from engine.analytics.report import Flow, backlog_grew, empty_stats, verdict
from engine.analytics.xes import XesWriter, xes_date

NS = "{http://www.xes-standard.org/}"


def test_the_writer_produces_well_formed_xes_with_typed_attributes():
    out = io.StringIO()
    at = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=timezone.utc)
    with XesWriter(out, "bankflow test") as log:
        log.trace({"concept:name": "1", "business_key": 'K<1> & "2"\nnew', "definition_version": 3, "none": None},
                  [{"concept:name": "Review", "lifecycle:transition": "start", "time:timestamp": at,
                    "org:resource": None, "flag": True, "score": 0.5}])
    root = ET.fromstring(out.getvalue())
    assert root.tag == f"{NS}log" and root.get("xes.version") == "1849-2016"
    assert {e.get("prefix") for e in root.iter(f"{NS}extension")} == {"concept", "lifecycle", "org", "time"}
    [trace] = root.iter(f"{NS}trace")
    attrs = {c.get("key"): (c.tag.replace(NS, ""), c.get("value")) for c in trace if c.tag != f"{NS}event"}
    assert attrs["business_key"] == ("string", 'K<1> & "2"\nnew')
    assert attrs["definition_version"] == ("int", "3") and "none" not in attrs
    [event] = trace.iter(f"{NS}event")
    values = {c.get("key"): (c.tag.replace(NS, ""), c.get("value")) for c in event}
    assert values["time:timestamp"] == ("date", "2026-03-02T09:30:15.123+00:00")
    assert values["flag"] == ("boolean", "true") and values["score"] == ("float", "0.5")
    assert "org:resource" not in values
    assert (log.traces, log.events) == (1, 1)
    assert xes_date(datetime(2026, 1, 1, 8, tzinfo=timezone.utc)) == "2026-01-01T08:00:00.000+00:00"


def flow(arrivals, completions, open_at_start=0, open_at_end=None, wait_share=0.2, by_customer=False):
    """An activity's window; the open count at the end follows from the counts unless given."""
    if open_at_end is None:
        open_at_end = open_at_start + arrivals - completions
    return Flow(wait_share, arrivals, completions, open_at_start, open_at_end, by_customer)


def test_queue_when_most_of_the_time_is_waiting():
    assert verdict(flow(10, 10, wait_share=0.51)) == "queue"
    assert verdict(flow(10, 10, wait_share=0.5)) == "work"
    assert verdict(flow(10, 10, wait_share=None)) == "work"


@pytest.mark.parametrize("arrivals, completions, expected", [
    (34, 33, "work"),      # the walk-through's case: one in flight is no growing backlog
    (3, 1, "work"),        # 2 < 3
    (3, 0, "capacity"),    # 3 >= max(3, 0.3)
    (30, 27, "capacity"),  # 3 >= max(3, 3.0): the boundary, in whole numbers
    (40, 37, "work"),      # 3 < 4 = 10 % of 40
    (40, 36, "capacity"),  # 4 >= 4
    (100, 91, "work"),     # 9 < 10
    (100, 90, "capacity"),
])
def test_capacity_needs_arrivals_ahead_by_max_3_and_10_percent(arrivals, completions, expected):
    assert verdict(flow(arrivals, completions, open_at_start=2)) == expected


def test_capacity_needs_more_open_at_the_end_than_at_the_start():
    # 10 more arrived than were done, but as many were cancelled (timers): the backlog did not grow
    assert verdict(flow(40, 30, open_at_start=5, open_at_end=5)) == "work"
    assert verdict(flow(40, 30, open_at_start=5, open_at_end=4)) == "work"
    assert verdict(flow(40, 30, open_at_start=5, open_at_end=6)) == "capacity"
    assert backlog_grew(flow(40, 30, open_at_start=5, open_at_end=6))


def test_queue_comes_before_capacity_and_the_customer_before_both():
    assert verdict(flow(40, 30, wait_share=0.9)) == "queue"
    assert verdict(flow(40, 30, wait_share=0.9, by_customer=True)) == "customer"
    assert verdict(flow(10, 10, by_customer=True)) == "customer"


def test_empty_statistics():
    assert empty_stats() == {"count": 0, "mean": None, "median": None, "p90": None, "p95": None, "max": None}
