"""Exports for process-mining tools and spreadsheets.

* `export_xes`: the history as an IEEE 1849 XES event log (pm4py, ProM, Celonis):
  one trace per case (concept:name = instance id, business_key, definition_key,
  definition_version, status), one event per lifecycle transition of each executed
  flow node (concept:name, lifecycle:transition, time:timestamp, org:resource, and
  element_id / element_type). Human tasks give `schedule` (created), `start`
  (claimed) and `complete`; other nodes `start` and `complete`; a node the process
  moved on without (a task a timer interrupted) ends with `ate_abort`. Gateways
  and boundary events that never fired are left out. The read model `uow.event_log`
  reads the executions in batches of cases, and they are written one trace at a
  time, so memory holds one batch whatever the size of the log.
* `export_csv`: the tables of `bankflow metrics` as CSV files. Every CSV the app writes (these files
  and the dashboard's downloads) goes through `csv_text`, which makes text cells safe to open in a
  spreadsheet (`spreadsheet_safe`); the XES log stays as the standard has it.
"""
from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, TextIO

from engine.analytics import csv_tables
from engine.analytics.xes import XesWriter
from engine.errors import NotFound
from engine.records.analytics import CsvExport, CsvFile, Execution, XesExport
from engine.services import metrics
from engine.services.context import EngineContext
from engine.services.unit_of_work import unit_of_work
from engine.statuses import ActivityState

_RANK = {"schedule": 0, "start": 1, "complete": 2, "ate_abort": 2}


def export_xes(ctx: EngineContext, target: str | Path | TextIO, key: str | None = None,
               since: datetime | None = None) -> XesExport:
    """Write the event log of every case (of process `key`; started at or after `since`) to
    `target` (a path or a text stream); return how many traces and events were written."""
    with _text_target(target) as stream, unit_of_work(ctx, read_only=True) as uow:
        if key is not None and not uow.event_log.has_process(key):
            raise NotFound("process '%(key)s' is not deployed", key=key)
        with XesWriter(stream, f"bankflow {key or 'all processes'}") as log:
            for batch in uow.event_log.batches(key, since):
                current: Execution | None = None
                events: list[tuple[Any, ...]] = []
                for row in batch:
                    if current is not None and row.instance_id != current.instance_id:
                        log.trace(_trace_attributes(current), _sorted(events))
                        events = []
                    current = row
                    events.extend(_events(row))
                if current is not None:
                    log.trace(_trace_attributes(current), _sorted(events))
        return XesExport(traces=log.traces, events=log.events)


def _trace_attributes(row: Execution) -> dict[str, Any]:
    return {"concept:name": str(row.instance_id), "business_key": row.business_key,
            "definition_key": row.definition_key, "definition_version": int(row.definition_version),
            "status": row.status}


def _events(row: Execution) -> list[tuple[Any, ...]]:
    """(timestamp, activity id, rank, event attributes) of one activity row."""
    base = {"concept:name": row.name or row.element_id, "element_id": row.element_id,
            "element_type": row.element_type}
    found = []
    human = row.task_id is not None

    def add(transition: str, at: datetime | None, resource: str | None) -> None:
        if at is not None:
            found.append((at, row.activity_id, _RANK[transition],
                          {**base, "lifecycle:transition": transition, "time:timestamp": at,
                           "org:resource": resource}))

    if human:
        add("schedule", row.started_at, None)
        add("start", row.claimed_at, row.assignee)
        if row.state == ActivityState.COMPLETED:
            add("complete", row.ended_at, row.completed_by)
    else:
        add("start", row.started_at, None)
        if row.state == ActivityState.COMPLETED:
            add("complete", row.ended_at, None)
    if row.state == ActivityState.CANCELLED:
        add("ate_abort", row.ended_at, None)
    return found


def _sorted(events: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [attrs for *_, attrs in sorted(events, key=lambda e: e[:3])]


@contextmanager
def _text_target(target: str | Path | TextIO) -> Iterator[TextIO]:
    if isinstance(target, (str, Path)):
        with open(target, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
    else:
        yield target


def export_csv(ctx: EngineContext, directory: str | Path, key: str | None = None,
               **filters: Any) -> CsvExport:
    """Write processes.csv, activities.csv, groups.csv, variants.csv and throughput.csv into
    `directory` (created if needed) for process `key`, or every process with instances."""
    documents = [metrics.process_metrics(ctx, key, **filters)] if key else metrics.all_process_metrics(ctx, **filters)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, rows in csv_tables.tables(documents).items():
        path = folder / f"{name}.csv"
        with open(path, "w", encoding="utf-8", newline="") as stream:
            stream.write(csv_text(csv_tables.TABLES[name], rows))
        written[name] = CsvFile(path=str(path), rows=len(rows))
    return CsvExport(directory=str(folder), processes=tuple(d["process"] for d in documents), files=written)


def csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """`rows` as CSV with a header of `columns`; every cell made safe to open (`spreadsheet_safe`). Lines end
    in CRLF (RFC 4180), so the writer quotes a cell holding a line break or a carriage return."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    return buffer.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows and never runs (OWASP, "CSV injection"): text beginning with
    `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading single quote, so a business key such
    as `=HYPERLINK(...)` is shown as that text. Only text cells change: numbers stay numbers (a
    negative figure is written as `-3.5`, which a spreadsheet reads as a number, not a formula), and
    None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
