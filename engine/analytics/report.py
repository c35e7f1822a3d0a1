"""Shape what the metrics statements returned into the JSON of DESIGN §6.

Pure: no SQL, no I/O. Seconds are rounded to the millisecond, shares to six
decimals. The verdict rule and the bottleneck order live here, in one place.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterable

STAT_KEYS = ("count", "mean", "median", "p90", "p95", "max")
QUEUE_WAIT_SHARE = 0.5
# Containers: their time is their content's time, so they are reported but not ranked.
CONTAINER_TYPES = ("subProcess", "adHocSubProcess", "transaction")


def seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def empty_stats() -> dict[str, Any]:
    return {"count": 0, "mean": None, "median": None, "p90": None, "p95": None, "max": None}


def stats_from_row(row: Any) -> dict[str, Any]:
    """A statistics row (n, mean, max, p50, p90, p95) as the JSON statistics object."""
    if not row.n:
        return empty_stats()
    return {"count": int(row.n), "mean": seconds(row.mean), "median": seconds(row.p50),
            "p90": seconds(row.p90), "p95": seconds(row.p95), "max": seconds(row.max)}


def verdict(wait_share: float | None, arrivals: int, completions: int) -> str:
    """DESIGN §6: `queue` (wait share > 0.5), `capacity` (arrivals > completions), else `work`."""
    if wait_share is not None and wait_share > QUEUE_WAIT_SHARE:
        return "queue"
    if arrivals > completions:
        return "capacity"
    return "work"


def _utc(value: Any) -> datetime | None:
    """A timestamp from either database as an aware UTC datetime (SQLite gives text in subqueries)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def build(*, key: str, version: int | None, since: datetime | None, until: datetime, group: str | None,
          business_time: bool, raw: Any, elements: dict[str, dict[str, Any]], iso: Callable[[datetime | None], Any],
          human_elements: Iterable[str]) -> dict[str, Any]:
    """The metrics document. `elements` is element id -> metadata (name, type) from the definitions."""
    human = set(human_elements)
    stats: dict[tuple[str, str], dict[str, Any]] = {(row.g, row.m): stats_from_row(row) for row in raw.statistics}
    shares = {row.g: float(row.total or 0.0) for row in raw.shares}
    counts = {row.element_id: row for row in raw.counts}
    breaches = {row.element_id: int(row.n) for row in raw.breaches}
    cycle_total = shares.pop("", 0.0)
    inst = raw.instances
    oldest = _utc(inst.get("oldest_open_started_at"))

    activity_ids = sorted({g for g, m in stats if g} | set(counts) | set(shares))
    activities = []
    for element_id in activity_ids:
        meta = elements.get(element_id, {})
        is_human = element_id in human or meta.get("type") in ("userTask", "manualTask")
        duration = stats.get((element_id, "duration"), empty_stats())
        wait = stats.get((element_id, "wait"), empty_stats())
        work = stats.get((element_id, "work"), empty_stats())
        wait_share = None
        if is_human and duration["count"] and duration["mean"]:
            wait_share = ratio(wait["mean"] / duration["mean"]) if wait["mean"] is not None else None
        row = counts.get(element_id)
        arrivals = int(row.arrivals or 0) if row else 0
        completions = int(row.completions or 0) if row else 0
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
            "open": int(row.open or 0) if row else 0,
            "arrivals": arrivals,
            "completions": completions,
            "rework": int(row.rework or 0) if row else 0,
            "verdict": verdict(wait_share, arrivals, completions),
        })
    activities.sort(key=lambda a: (-(a["share"] or 0.0), a["element_id"]))
    completed = int(inst.get("completed") or 0)
    first = _utc(inst.get("first_started_at"))
    window_start = since or first or until
    window_days = max((until - window_start).total_seconds() / 86400.0, 1.0)

    per_day = [{"day": r.period, "completed": int(r.n)} for r in raw.throughput if r.kind == "day"]
    per_week = [{"week": r.period, "completed": int(r.n)} for r in raw.throughput if r.kind == "week"]
    groups = [{
        "group": g["group"],
        "backlog": int(g["backlog"] or 0),
        "oldest_open_at": iso(_utc(g["oldest_open_at"])),
        "mean_handling": seconds(g["mean_handling"]),
        "completions": int(g["completions"] or 0),
        "completions_per_day": ratio(int(g["completions"] or 0) / window_days),
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
            "started": int(inst.get("started") or 0),
            "completed": completed,
            "open": int(inst.get("open") or 0),
            "oldest_open_started_at": iso(oldest),
            "oldest_open_age": seconds((until - oldest).total_seconds()) if oldest else None,
            "sla_breaches": breaches.get(None, 0),
            "cycle_time": stats.get(("", "cycle"), empty_stats()),
            "throughput": {"per_day": per_day, "per_week": per_week},
        },
        "activities": activities,
        "bottlenecks": [a["element_id"] for a in activities if a["share"] and a["type"] not in CONTAINER_TYPES],
        "groups": groups,
        "variants": variants,
    }
