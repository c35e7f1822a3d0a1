"""Shape what the metrics statements returned (engine.records.analytics) into the metrics document of
docs/metrics-json.md.

Pure: no SQL, no I/O. Seconds are rounded to the millisecond, shares to six
decimals. The verdict rule and the bottleneck order live here, in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from engine.records.analytics import ActivityCounts, CaseFigures, Figure, RawMetrics, Statistics

HUMAN_TYPES = ("userTask", "manualTask")  # the element types people work on: wait and work are measured
STAT_KEYS = ("count", "mean", "median", "p90", "p95", "max")
QUEUE_WAIT_SHARE = 0.5
# `capacity`: arrivals - completions >= max(CAPACITY_MIN_GROWTH, CAPACITY_MIN_PERCENT % of arrivals)
CAPACITY_MIN_GROWTH = 3
CAPACITY_MIN_PERCENT = 10
# Containers: their time is their content's time, so they are reported but not ranked.
CONTAINER_TYPES = ("subProcess", "adHocSubProcess", "transaction")
CUSTOMER = "customer"  # the verdict of activities the customer does (engine.bpmn.elements.performer)
# the kinds of rows of the breaches statement (engine/store/read_models/metrics_sql.py, MetricsQueries.breaches)
BREACH_EVENTS, OPEN_BREACHED = "event", "open_breached"


def seconds(value: Figure | None) -> float | None:
    return None if value is None else round(float(value), 3)


def ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def empty_stats() -> dict[str, Any]:
    return {"count": 0, "mean": None, "median": None, "p90": None, "p95": None, "max": None}


def stats_from_row(row: Statistics) -> dict[str, Any]:
    """A statistics row (n, mean, max, p50, p90, p95) as the JSON statistics object."""
    if not row.n:
        return empty_stats()
    return {"count": int(row.n), "mean": seconds(row.mean), "median": seconds(row.p50),
            "p90": seconds(row.p90), "p95": seconds(row.p95), "max": seconds(row.max)}


@dataclass(frozen=True)
class Flow:
    """One activity's work over the window: what the verdict is decided on."""

    wait_share: float | None
    arrivals: int
    completions: int
    open_at_start: int
    open_at_end: int
    by_customer: bool = False


def backlog_grew(flow: Flow) -> bool:
    """Arrivals outran completions by at least max(3, 10 % of arrivals), and more was open at the
    window's end than at its start: a real growth, not the few cases in flight at the edges."""
    growth = flow.arrivals - flow.completions  # compared in whole numbers: 10 % of 30 is exactly 3
    return (growth >= CAPACITY_MIN_GROWTH and growth * 100 >= CAPACITY_MIN_PERCENT * flow.arrivals
            and flow.open_at_end > flow.open_at_start)


def verdict(flow: Flow) -> str:
    """`customer` (the customer does it: no staff figure applies), `queue` (wait share > 0.5),
    `capacity` (the backlog grew, `backlog_grew`), else `work` (docs/metrics-json.md)."""
    if flow.by_customer:
        return CUSTOMER
    if flow.wait_share is not None and flow.wait_share > QUEUE_WAIT_SHARE:
        return "queue"
    if backlog_grew(flow):
        return "capacity"
    return "work"


def _count(row: ActivityCounts | None, name: str) -> int:
    """A count column of an optional row (None when the activity had no such row)."""
    return int(getattr(row, name) or 0) if row is not None else 0


def _sla(inst: CaseFigures, breaches: dict[str | None, int], open_breached_tasks: int) -> dict[str, Any]:
    """Case SLA and task SLA apart: what each counts is in docs/metrics-json.md."""
    completed = int(inst.sla_completed or 0)
    late = int(inst.sla_completed_breached or 0)
    return {
        "cases": {"completed": completed, "completed_breached": late,
                  "breach_rate": ratio(late / completed) if completed else None,
                  "open_breached": int(inst.sla_open_breached or 0)},
        "tasks": {"breaches": sum(n for element_id, n in breaches.items() if element_id is not None),
                  "open_breached": open_breached_tasks},
    }


def customer_groups(elements: dict[str, dict[str, Any]]) -> set[str]:
    """Candidate groups whose every task the customer does (engine.bpmn.elements.performer): their backlog is
    the customer's, never staff capacity."""
    kinds: dict[str, set[bool]] = {}
    for meta in elements.values():
        if meta.get("type") != "userTask":
            continue
        for group in meta.get("candidate_groups") or ([meta["lane"]] if meta.get("lane") else []):  # as offered
            kinds.setdefault(group, set()).add(meta.get("performer") == CUSTOMER)
    return {group for group, seen in kinds.items() if seen == {True}}


def build(*, key: str, version: int | None, since: datetime | None, until: datetime, group: str | None,
          business_time: bool, raw: RawMetrics, elements: dict[str, dict[str, Any]],
          iso: Callable[[datetime | None], Any],
          human_elements: Iterable[str]) -> dict[str, Any]:
    """The metrics document. `elements` is element id -> metadata (name, type) from the definitions."""
    human = set(human_elements)
    stats: dict[tuple[str, str], dict[str, Any]] = {(row.g, row.m): stats_from_row(row) for row in raw.statistics}
    shares = {row.g: float(row.total or 0.0) for row in raw.shares}
    counts = {row.element_id: row for row in raw.counts}
    breaches = {row.element_id: int(row.n) for row in raw.breaches if row.kind == BREACH_EVENTS}
    open_breached_tasks = sum(int(row.n) for row in raw.breaches if row.kind == OPEN_BREACHED)
    cycle_total = shares.pop("", 0.0)
    inst = raw.instances
    oldest = inst.oldest_open_started_at

    activity_ids = sorted({g for g, m in stats if g} | set(counts) | set(shares))
    activities = []
    for element_id in activity_ids:
        meta = elements.get(element_id, {})
        is_human = element_id in human or meta.get("type") in HUMAN_TYPES
        duration = stats.get((element_id, "duration"), empty_stats())
        wait = stats.get((element_id, "wait"), empty_stats())
        work = stats.get((element_id, "work"), empty_stats())
        wait_share = None
        if is_human and duration["count"] and duration["mean"]:
            wait_share = ratio(wait["mean"] / duration["mean"]) if wait["mean"] is not None else None
        row = counts.get(element_id)
        flow = Flow(wait_share=wait_share, arrivals=_count(row, "arrivals"), completions=_count(row, "completions"),
                    open_at_start=_count(row, "open_at_start"), open_at_end=_count(row, "open"),
                    by_customer=meta.get("performer") == CUSTOMER)
        activities.append({
            "element_id": element_id,
            "name": meta.get("name") or element_id,
            "type": meta.get("type"),
            "count": duration["count"],
            "wait": wait,
            "work": work,
            "duration": duration,
            "share": ratio(shares.get(element_id, 0.0) / cycle_total) if cycle_total > 0 else None,
            "wait_share": wait_share,
            "sla_breaches": breaches.get(element_id, 0),
            "open": flow.open_at_end,
            "open_at_start": flow.open_at_start,
            "arrivals": flow.arrivals,
            "completions": flow.completions,
            "rework": _count(row, "rework"),
            "verdict": verdict(flow),
        })
    activities.sort(key=lambda a: (-(a["share"] or 0.0), a["element_id"]))
    completed = int(inst.completed or 0)
    first = inst.first_started_at
    window_start = since or first or until
    window_days = max((until - window_start).total_seconds() / 86400.0, 1.0)

    per_day = [{"day": r.period, "completed": int(r.n)} for r in raw.throughput if r.kind == "day"]
    per_week = [{"week": r.period, "completed": int(r.n)} for r in raw.throughput if r.kind == "week"]
    by_customer = customer_groups(elements)
    groups = [{
        "group": g.group,
        "customer": g.group in by_customer,
        "backlog": int(g.backlog or 0),
        "oldest_open_at": iso(g.oldest_open_at),
        "mean_handling": seconds(g.mean_handling),
        "completions": int(g.completions or 0),
        "completions_per_day": ratio(int(g.completions or 0) / window_days),
    } for g in raw.groups]
    variants = [{
        "path": row.g.split(",") if row.g else [],
        "count": int(row.n),
        "share": ratio(int(row.n) / completed) if completed else None,
        "median_cycle_time": seconds(row.p50),
    } for row in raw.variants]
    return {
        "process": key,
        "version": version,
        "window": {"since": iso(since), "until": iso(until)},
        "business_time": business_time,
        "group": group,
        "instances": {
            "started": int(inst.started or 0),
            "completed": completed,
            "open": int(inst.open or 0),
            "oldest_open_started_at": iso(oldest),
            "oldest_open_age": seconds((until - oldest).total_seconds()) if oldest else None,
            "sla_breaches": breaches.get(None, 0),
            "cycle_time": stats.get(("", "cycle"), empty_stats()),
            "throughput": {"per_day": per_day, "per_week": per_week},
        },
        "sla": _sla(inst, breaches, open_breached_tasks),
        "activities": activities,
        "bottlenecks": [a["element_id"] for a in activities
                        if a["share"] and a["type"] not in CONTAINER_TYPES and a["verdict"] != CUSTOMER],
        "customer_activities": [a["element_id"] for a in activities if a["verdict"] == CUSTOMER],
        "groups": groups,
        "variants": variants,
    }
