"""The XES writer's output, and the verdict rule of DESIGN §6."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from engine.analytics.report import empty_stats, verdict
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


def test_verdicts_follow_design_section_6():
    assert verdict(0.51, 10, 10) == "queue"
    assert verdict(0.5, 11, 10) == "capacity"
    assert verdict(None, 3, 2) == "capacity"
    assert verdict(0.2, 10, 10) == "work"
    assert empty_stats() == {"count": 0, "mean": None, "median": None, "p90": None, "p95": None, "max": None}
