"""A streaming IEEE 1849 (XES) event-log writer.

Writes one trace at a time to a text stream, so a log of any size needs the memory
of one case. Attribute values are escaped with the standard library
(`xml.sax.saxutils`); characters XML 1.0 cannot carry at all are dropped.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterable, TextIO
from xml.sax.saxutils import escape

EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _attr(value: str) -> str:
    """A double-quoted XML attribute value."""
    return '"' + escape(_NOT_XML.sub("", value), _ENTITIES) + '"'



def xes_date(value: datetime) -> str:
    """xs:dateTime with milliseconds and an explicit UTC offset, as XES tools expect."""
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+00:00"


def attribute(key: str, value: Any, indent: str) -> str:
    if isinstance(value, bool):
        return f"{indent}<boolean key={_attr(key)} value=\"{'true' if value else 'false'}\"/>\n"
    if isinstance(value, int):
        return f"{indent}<int key={_attr(key)} value=\"{value}\"/>\n"
    if isinstance(value, float):
        return f"{indent}<float key={_attr(key)} value=\"{value!r}\"/>\n"
    if isinstance(value, datetime):
        return f"{indent}<date key={_attr(key)} value=\"{xes_date(value)}\"/>\n"
    return f"{indent}<string key={_attr(key)} value={_attr(str(value))}/>\n"


class XesWriter:
    """`with XesWriter(stream, "log name") as log: log.trace(attrs, events)`."""

    def __init__(self, stream: TextIO, name: str):
        self.stream = stream
        self.name = name
        self.traces = 0
        self.events = 0

    def __enter__(self) -> "XesWriter":
        write = self.stream.write
        write('<?xml version="1.0" encoding="UTF-8"?>\n')
        write('<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">\n')
        for name, prefix, uri in EXTENSIONS:
            write(f"  <extension name={_attr(name)} prefix={_attr(prefix)} uri={_attr(uri)}/>\n")
        write('  <global scope="trace">\n    <string key="concept:name" value="__INVALID__"/>\n  </global>\n')
        write('  <global scope="event">\n    <string key="concept:name" value="__INVALID__"/>\n'
              '    <string key="lifecycle:transition" value="complete"/>\n'
              '    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>\n  </global>\n')
        write('  <classifier name="Activity" keys="concept:name"/>\n')
        write('  <classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>\n')
        write(attribute("concept:name", self.name, "  "))
        return self

    def trace(self, attributes: dict[str, Any], events: Iterable[dict[str, Any]]) -> None:
        """One case: its attributes and its events (each a dict of XES keys to values, None skipped)."""
        parts = ["  <trace>\n"]
        parts.extend(attribute(k, v, "    ") for k, v in attributes.items() if v is not None)
        for event in events:
            parts.append("    <event>\n")
            parts.extend(attribute(k, v, "      ") for k, v in event.items() if v is not None)
            parts.append("    </event>\n")
            self.events += 1
        parts.append("  </trace>\n")
        self.stream.write("".join(parts))
        self.traces += 1

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None:
            self.stream.write("</log>\n")
