"""The metrics document (docs/metrics-json.md) flattened into tables, one row per line, for CSV.

Pure. Column names follow the JSON keys; statistics become `<metric>_<stat>`
columns (e.g. `wait_p90`); paths are joined with " > ".
"""
from __future__ import annotations

from typing import Any

from engine.analytics.report import STAT_KEYS

SLA_COLUMNS = [*(f"case_sla_{k}" for k in ("completed", "completed_breached", "breach_rate", "open_breached")),
               *(f"task_sla_{k}" for k in ("breaches", "open_breached"))]
PROCESS_COLUMNS = ["process", "since", "until", "business_time", "started", "completed", "open",
                   "oldest_open_age", "sla_breaches", *(f"cycle_time_{k}" for k in STAT_KEYS), *SLA_COLUMNS]
ACTIVITY_COLUMNS = ["process", "element_id", "name", "type", "count",
                    *(f"{m}_{k}" for m in ("wait", "work", "duration") for k in STAT_KEYS),
                    "share", "wait_share", "sla_breaches", "open", "open_at_start", "arrivals", "completions", "rework",
                    "verdict", "bottleneck_rank"]
GROUP_COLUMNS = ["process", "group", "backlog", "oldest_open_at", "mean_handling", "completions",
                 "completions_per_day"]
VARIANT_COLUMNS = ["process", "rank", "path", "count", "share", "median_cycle_time"]
THROUGHPUT_COLUMNS = ["process", "period", "start", "completed"]

TABLES = {
    "processes": PROCESS_COLUMNS,
    "activities": ACTIVITY_COLUMNS,
    "groups": GROUP_COLUMNS,
    "variants": VARIANT_COLUMNS,
    "throughput": THROUGHPUT_COLUMNS,
}


def sla_row(sla: dict[str, Any]) -> dict[str, Any]:
    """A document's `sla` object as the SLA_COLUMNS (`case_sla_...`, `task_sla_...`)."""
    return {f"{prefix}_sla_{k}": v for prefix, kind in (("case", "cases"), ("task", "tasks"))
            for k, v in sla[kind].items()}


def tables(documents: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows of every table, for the metrics documents of one or more processes."""
    result: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for doc in documents:
        key = doc["process"]
        inst = doc["instances"]
        result["processes"].append({
            "process": key, "since": doc["window"]["since"], "until": doc["window"]["until"],
            "business_time": doc["business_time"], "started": inst["started"], "completed": inst["completed"],
            "open": inst["open"], "oldest_open_age": inst["oldest_open_age"], "sla_breaches": inst["sla_breaches"],
            **{f"cycle_time_{k}": inst["cycle_time"][k] for k in STAT_KEYS},
            **sla_row(doc["sla"])})
        ranks = {element_id: i + 1 for i, element_id in enumerate(doc["bottlenecks"])}
        for a in doc["activities"]:
            row = {"process": key, **{k: a[k] for k in ("element_id", "name", "type", "count", "share",
                                                         "wait_share", "sla_breaches", "open", "open_at_start",
                                                         "arrivals", "completions", "rework", "verdict")}}
            for metric in ("wait", "work", "duration"):
                row.update({f"{metric}_{k}": a[metric][k] for k in STAT_KEYS})
            row["bottleneck_rank"] = ranks.get(a["element_id"])
            result["activities"].append(row)
        result["groups"].extend({"process": key, **g} for g in doc["groups"])
        result["variants"].extend({"process": key, "rank": i + 1, "path": " > ".join(v["path"]),
                                   "count": v["count"], "share": v["share"],
                                   "median_cycle_time": v["median_cycle_time"]}
                                  for i, v in enumerate(doc["variants"]))
        for period, rows in (("day", inst["throughput"]["per_day"]), ("week", inst["throughput"]["per_week"])):
            result["throughput"].extend({"process": key, "period": period, "start": r[period],
                                         "completed": r["completed"]} for r in rows)
    return result
