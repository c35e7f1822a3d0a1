"""Exports for process-mining tools and spreadsheets.

* `export_xes`: the history as an IEEE 1849 XES event log (pm4py, ProM, Celonis):
  one trace per case (concept:name = instance id, business_key, definition_key,
  definition_version, status), one event per lifecycle transition of each executed
  flow node (concept:name, lifecycle:transition, time:timestamp, org:resource, and
  element_id / element_type). Human tasks give `schedule` (created), `start`
  (claimed) and `complete`; other nodes `start` and `complete`; a node the process
  moved on without (a task a timer interrupted) ends with `ate_abort`. Gateways
  and boundary events that never fired are left out. Rows are read in batches of
  cases (keyset pagination on the instance id: no server-side cursor, which
  PostgreSQL's autocommit read sessions cannot hold) and written one trace at a
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

from sqlalchemy import and_, not_, select

from engine.analytics import tables
from engine.analytics.xes import XesWriter
from engine.errors import NotFound
from engine.services import metrics
from engine.services.context import EngineContext
from engine.services.unit_of_work import unit_of_work
from engine.store.tables import ACTIVITY, DEFINITION, INSTANCE, TASK

CASES_PER_BATCH = 500
_RANK = {"schedule": 0, "start": 1, "complete": 2, "ate_abort": 2}


def export_xes(ctx: EngineContext, target: str | Path | TextIO, key: str | None = None,
               since: datetime | None = None) -> dict[str, int]:
    """Write the event log of every case (of process `key`; started at or after `since`) to
    `target` (a path or a text stream); return how many traces and events were written."""
    with _text_target(target) as stream, unit_of_work(ctx, read_only=True) as session:
        if key is not None and session.scalar(select(DEFINITION.c.id).where(DEFINITION.c.key == key).limit(1)) \
                is None:
            raise NotFound("process '%(key)s' is not deployed", key=key)
        with XesWriter(stream, f"bankflow {key or 'all processes'}") as log:
            for batch in _batches(session, key, since):
                current: Any = None
                events: list[tuple[Any, ...]] = []
                for row in batch:
                    if current is not None and row.instance_id != current.instance_id:
                        log.trace(_trace_attributes(current), _sorted(events))
                        events = []
                    current = row
                    events.extend(_events(row))
                if current is not None:
                    log.trace(_trace_attributes(current), _sorted(events))
        return {"traces": log.traces, "events": log.events}


def _batches(session: Any, key: str | None, since: datetime | None) -> Iterator[list[Any]]:
    """The event rows of CASES_PER_BATCH cases at a time, in instance order."""
    cases = select(INSTANCE.c.id).join(DEFINITION, INSTANCE.c.definition_id == DEFINITION.c.id)
    if key is not None:
        cases = cases.where(DEFINITION.c.key == key)
    if since is not None:
        cases = cases.where(INSTANCE.c.started_at >= since)
    last = 0
    while True:
        ids = session.scalars(cases.where(INSTANCE.c.id > last).order_by(INSTANCE.c.id)
                              .limit(CASES_PER_BATCH)).all()
        if not ids:
            return
        yield session.execute(_event_rows(key, since).where(INSTANCE.c.id >= ids[0],
                                                            INSTANCE.c.id <= ids[-1])).all()
        last = ids[-1]


def _event_rows(key: str | None, since: datetime | None) -> Any:
    where = [not_(ACTIVITY.c.element_type.like("%Gateway")),
             not_(and_(ACTIVITY.c.state == "cancelled", ACTIVITY.c.element_type == "boundaryEvent"))]
    if key is not None:
        where.append(DEFINITION.c.key == key)
    if since is not None:
        where.append(INSTANCE.c.started_at >= since)
    return (select(INSTANCE.c.id.label("instance_id"), INSTANCE.c.business_key, INSTANCE.c.status.label("status"),
                   DEFINITION.c.key.label("definition_key"), DEFINITION.c.version.label("definition_version"),
                   ACTIVITY.c.id.label("activity_id"), ACTIVITY.c.element_id, ACTIVITY.c.element_type,
                   ACTIVITY.c.name, ACTIVITY.c.started_at, ACTIVITY.c.ended_at, ACTIVITY.c.state,
                   TASK.c.id.label("task_id"), TASK.c.claimed_at, TASK.c.assignee, TASK.c.completed_by)
            .select_from(ACTIVITY.join(INSTANCE, ACTIVITY.c.instance_id == INSTANCE.c.id)
                         .join(DEFINITION, INSTANCE.c.definition_id == DEFINITION.c.id)
                         .outerjoin(TASK, TASK.c.spiff_task_id == ACTIVITY.c.spiff_task_id))
            .where(*where).order_by(INSTANCE.c.id, ACTIVITY.c.started_at, ACTIVITY.c.id))


def _trace_attributes(row: Any) -> dict[str, Any]:
    return {"concept:name": str(row.instance_id), "business_key": row.business_key,
            "definition_key": row.definition_key, "definition_version": int(row.definition_version),
            "status": row.status}


def _events(row: Any) -> list[tuple[Any, ...]]:
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
        if row.state == "completed":
            add("complete", row.ended_at, row.completed_by)
    else:
        add("start", row.started_at, None)
        if row.state == "completed":
            add("complete", row.ended_at, None)
    if row.state == "cancelled":
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
               **filters: Any) -> dict[str, Any]:
    """Write processes.csv, activities.csv, groups.csv, variants.csv and throughput.csv into
    `directory` (created if needed) for process `key`, or every process with instances."""
    documents = [metrics.process_metrics(ctx, key, **filters)] if key else metrics.all_process_metrics(ctx, **filters)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, rows in tables.tables(documents).items():
        path = folder / f"{name}.csv"
        with open(path, "w", encoding="utf-8", newline="") as stream:
            stream.write(csv_text(tables.TABLES[name], rows))
        written[name] = {"path": str(path), "rows": len(rows)}
    return {"directory": str(folder), "processes": [d["process"] for d in documents], "files": written}


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
