"""`process_metrics` statistic by statistic against numpy over the exported event log.

The history is built with known times on the test clock (conftest.py); every figure
of the metrics document is recomputed here from the XES export alone, with plain
Python and numpy (linear percentiles), and must agree to the millisecond, on SQLite
and on PostgreSQL.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import select

from engine.errors import NotFound
from engine.services import exports, instances, metrics
from engine.store.tables import TASK
from engine.sla.business_calendar import default_calendars

HUMAN = {"register", "review", "confirm"}
GROUPS = {"register": ["clerks"], "review": ["reviewers"], "confirm": ["customers"]}
TOLERANCE = 1e-3  # seconds


def stats(values) -> dict:
    if not len(values):
        return {"count": 0, "mean": None, "median": None, "p90": None, "p95": None, "max": None}
    x = np.asarray(values, dtype=float)
    p50, p90, p95 = np.percentile(x, [50, 90, 95])
    return {"count": len(x), "mean": x.mean(), "median": p50, "p90": p90, "p95": p95, "max": x.max()}


def assert_stats(actual: dict, expected: dict, what: str) -> None:
    assert actual["count"] == expected["count"], what
    for key in ("mean", "median", "p90", "p95", "max"):
        if expected[key] is None:
            assert actual[key] is None, (what, key)
        else:
            assert actual[key] == pytest.approx(expected[key], abs=TOLERANCE), (what, key, actual, expected)


def rows_from_log(traces):
    """One record per executed flow node, rebuilt from its lifecycle events."""
    cases, rows = {}, []
    for trace in traces:
        case_id = int(trace["attributes"]["concept:name"])
        events = trace["events"]
        cases[case_id] = {"status": trace["attributes"]["status"], "first": events[0]["time:timestamp"],
                          "last": events[-1]["time:timestamp"]}
        current: dict[str, dict] = {}
        for position, e in enumerate(events):
            element, transition, at = e["element_id"], e["lifecycle:transition"], e["time:timestamp"]
            human = e["element_type"] == "userTask"
            opens = transition == "schedule" if human else transition == "start"
            if opens:
                current[element] = {"case": case_id, "element": element, "human": human, "started": at,
                                    "claimed": None, "ended": None, "completed": False, "position": position}
                rows.append(current[element])
            elif transition == "start":
                current[element]["claimed"] = at
            elif transition == "complete":
                current[element].update(ended=at, completed=True)
            elif transition == "ate_abort":
                current[element]["ended"] = at
    return cases, rows


def expected_metrics(traces, since, until, breaches):
    cases, rows = rows_from_log(traces)

    def inside(t):
        return t is not None and t < until and (since is None or t >= since)

    done = {c for c, v in cases.items() if v["status"] == "completed" and inside(v["last"])}
    cycle = {c: (cases[c]["last"] - cases[c]["first"]).total_seconds() for c in done}
    per = defaultdict(lambda: defaultdict(list))
    share = Counter()
    counts = defaultdict(Counter)
    passes = defaultdict(Counter)
    for r in rows:
        element = r["element"]
        if r["completed"]:
            duration = (r["ended"] - r["started"]).total_seconds()
            if inside(r["ended"]):
                per[element]["duration"].append(duration)
                if r["human"]:
                    claimed = r["claimed"] or r["ended"]
                    per[element]["wait"].append((claimed - r["started"]).total_seconds())
                    per[element]["work"].append((r["ended"] - claimed).total_seconds())
            if r["case"] in done:
                share[element] += duration
        counts[element]["arrivals"] += inside(r["started"])
        counts[element]["completions"] += r["completed"] and inside(r["ended"])
        counts[element]["open"] += r["started"] < until and (r["ended"] is None or r["ended"] >= until)
        counts[element]["open_at_start"] += since is not None and r["started"] < since and (
            r["ended"] is None or r["ended"] >= since)
        if inside(r["started"]):
            passes[element][r["case"]] += 1
    paths = defaultdict(list)
    for r in sorted(rows, key=lambda r: (r["case"], r["position"])):
        if r["case"] in done:
            paths[r["case"]].append(r["element"])
    variants = defaultdict(list)
    for case, path in paths.items():
        variants[tuple(path)].append(cycle[case])
    total_cycle = sum(cycle.values())
    activities = {}
    for element in set(counts) | set(per):
        wait, work, duration = (stats(per[element][m]) for m in ("wait", "work", "duration"))
        activities[element] = {
            "wait": wait, "work": work, "duration": duration,
            "share": share[element] / total_cycle if total_cycle else None,
            "wait_share": (sum(per[element]["wait"]) / sum(per[element]["duration"])
                           if element in HUMAN and sum(per[element]["duration"]) else None),
            **counts[element],
            "rework": sum(1 for n in passes[element].values() if n > 1),
            "sla_breaches": breaches.get(element, 0),
        }
    is_open = [c for c, v in cases.items() if v["first"] < until and (v["status"] != "completed"
                                                                       or v["last"] >= until)]
    groups = {}
    window_start = since or min(v["first"] for v in cases.values())
    days = max((until - window_start).total_seconds() / 86400, 1.0)
    for element, (group,) in GROUPS.items():
        mine = [r for r in rows if r["element"] == element]
        backlog = [r for r in mine if r["started"] < until and (r["ended"] is None or r["ended"] >= until)]
        work = per[element]["work"]
        groups[group] = {"backlog": len(backlog),
                         "oldest_open_at": min((r["started"] for r in backlog), default=None),
                         "mean_handling": float(np.mean(work)) if work else None,
                         "completions": len(per[element]["duration"]),
                         "completions_per_day": len(per[element]["duration"]) / days}
    return {
        "started": sum(inside(v["first"]) for v in cases.values()),
        "completed": len(done), "open": len(is_open),
        "oldest_open_age": (until - min(cases[c]["first"] for c in is_open)).total_seconds() if is_open else None,
        "cycle_time": stats(list(cycle.values())),
        "per_day": Counter(cases[c]["last"].date().isoformat() for c in done),
        "per_week": Counter((cases[c]["last"].date() - timedelta(days=cases[c]["last"].weekday())).isoformat()
                            for c in done),
        "activities": activities, "groups": groups,
        "variants": {path: (len(times), len(times) / len(done), float(np.median(times)))
                     for path, times in variants.items()},
    }


def breaches_from_history(ctx, case_ids):
    found = Counter()
    for case_id in case_ids:
        for e in instances.get_instance(ctx, case_id).history:
            if e.type == "sla_breached":
                found[e.element_id] += 1
    return found


def check(actual, expected):
    inst = actual["instances"]
    assert (inst["started"], inst["completed"], inst["open"]) == (expected["started"], expected["completed"],
                                                                   expected["open"])
    assert inst["oldest_open_age"] == pytest.approx(expected["oldest_open_age"], abs=TOLERANCE)
    assert_stats(inst["cycle_time"], expected["cycle_time"], "cycle time")
    assert {r["day"]: r["completed"] for r in inst["throughput"]["per_day"]} == dict(expected["per_day"])
    assert {r["week"]: r["completed"] for r in inst["throughput"]["per_week"]} == dict(expected["per_week"])
    by_id = {a["element_id"]: a for a in actual["activities"]}
    assert set(by_id) == set(expected["activities"])
    for element, want in expected["activities"].items():
        got = by_id[element]
        for metric in ("wait", "work") if element in HUMAN else ():
            assert_stats(got[metric], want[metric], f"{element} {metric}")
        assert_stats(got["duration"], want["duration"], f"{element} duration")
        assert got["count"] == want["duration"]["count"]
        for key in ("arrivals", "completions", "open", "open_at_start", "rework", "sla_breaches"):
            assert got[key] == want[key], (element, key)
        for key in ("share", "wait_share"):
            assert (got[key] is None) == (want[key] is None), (element, key)
            if want[key] is not None:
                assert got[key] == pytest.approx(want[key], abs=1e-5), (element, key)
        wait_share = want["wait_share"]
        growth = want["arrivals"] - want["completions"]
        grew = growth >= max(3, want["arrivals"] / 10) and want["open"] > want["open_at_start"]
        assert got["verdict"] == ("queue" if wait_share is not None and wait_share > 0.5 else
                                  "capacity" if grew else "work")
    shares = {e: w["share"] for e, w in expected["activities"].items() if w["share"]}
    assert actual["bottlenecks"] == sorted(shares, key=lambda e: (-shares[e], e))
    groups = {g["group"]: g for g in actual["groups"]}
    for group, want in expected["groups"].items():
        got = groups.get(group, {"backlog": 0, "oldest_open_at": None, "mean_handling": None, "completions": 0,
                                 "completions_per_day": 0.0})
        assert got["backlog"] == want["backlog"] and got["completions"] == want["completions"], group
        oldest = want["oldest_open_at"]
        assert got["oldest_open_at"] == (oldest.isoformat().replace("+00:00", "Z") if oldest else None)
        assert (got["mean_handling"] is None) == (want["mean_handling"] is None)
        if want["mean_handling"] is not None:
            assert got["mean_handling"] == pytest.approx(want["mean_handling"], abs=TOLERANCE)
        assert got["completions_per_day"] == pytest.approx(want["completions_per_day"], abs=1e-5)
    variants = {tuple(v["path"]): (v["count"], v["share"], v["median_cycle_time"]) for v in actual["variants"]}
    assert set(variants) == set(expected["variants"])
    for path, (count, share, median) in expected["variants"].items():
        assert variants[path][0] == count
        assert variants[path][1] == pytest.approx(share, abs=1e-5)
        assert variants[path][2] == pytest.approx(median, abs=TOLERANCE)
    counts = [v["count"] for v in actual["variants"]]
    assert counts == sorted(counts, reverse=True)


def check_sla(ctx, actual, breaches_in_window, until):
    """The task SLA figures from the breach events and the task rows, counted in Python."""
    with ctx.database.engine.connect() as conn:
        rows = conn.execute(select(TASK.c.created_at, TASK.c.completed_at, TASK.c.status, TASK.c.due_at)).all()

    def aware(t):
        return t if t is None or t.tzinfo else t.replace(tzinfo=timezone.utc)

    still_open = [r for r in rows if aware(r.created_at) < until and (
        r.status in ("open", "claimed") or (r.status == "completed" and aware(r.completed_at) >= until))]
    open_late = sum(1 for r in still_open if r.due_at is not None and aware(r.due_at) <= until)
    assert actual["sla"]["tasks"] == {"breaches": sum(n for e, n in breaches_in_window.items() if e is not None),
                                      "open_breached": open_late}
    assert actual["instances"]["sla_breaches"] == breaches_in_window.get(None, 0)


def test_every_statistic_matches_numpy_over_the_exported_log(claims, build_history, unclaimed, read_xes, tmp_path):
    end = build_history(cases=14)
    unclaimed(claims, "register")  # one task "completed without a claim": its whole duration is wait
    path = tmp_path / "log.xes"
    exported = exports.export_xes(claims, path, key="claim_review")
    traces = read_xes(path)
    assert exported.traces == len(traces) == 14
    breaches = [(e.element_id, e.at)
                for t in traces for e in instances.get_instance(claims, int(t["attributes"]["concept:name"])).history
                if e.type == "sla_breached"]
    assert breaches, "the history has SLA breaches to count"
    for since, until in ((None, end), (end - timedelta(days=5), end - timedelta(days=1))):
        actual = metrics.process_metrics(claims, "claim_review", since=since, until=until)
        in_window = Counter(element for element, at in breaches if at < until and (since is None or at >= since))
        expected = expected_metrics(traces, since, until, in_window)
        assert expected["completed"] >= 3 and expected["open"] >= 1
        assert any(a["rework"] for a in expected["activities"].values())
        check(actual, expected)
        check_sla(claims, actual, in_window, until)
        assert actual["window"] == {"since": since and since.isoformat().replace("+00:00", "Z"),
                                    "until": until.isoformat().replace("+00:00", "Z")}


def test_business_time_measures_human_tasks_on_their_sla_calendar(claims, build_history, read_xes, tmp_path):
    end = build_history(cases=7)
    path = tmp_path / "log.xes"
    exports.export_xes(claims, path)
    cases, rows = rows_from_log(read_xes(path))
    office = default_calendars()["head_office"]  # register has no slaCalendar: the default calendar
    actual = metrics.process_metrics(claims, "claim_review", business_time=True, until=end)
    by_id = {a["element_id"]: a for a in actual["activities"]}
    register = [r for r in rows if r["element"] == "register" and r["completed"]]
    for metric, (start, stop) in {"wait": ("started", "claimed"), "work": ("claimed", "ended"),
                                  "duration": ("started", "ended")}.items():
        values = [office.between(r[start] or r["ended"], r[stop] or r["ended"]).total_seconds() for r in register]
        assert_stats(by_id["register"][metric], stats(values), f"register business {metric}")
    review = [r for r in rows if r["element"] == "review" and r["completed"]]  # slaCalendar 24x7: elapsed
    assert_stats(by_id["review"]["duration"],
                 stats([(r["ended"] - r["started"]).total_seconds() for r in review]), "review 24x7")
    done = [c for c, v in cases.items() if v["status"] == "completed"]
    assert_stats(actual["instances"]["cycle_time"],
                 stats([office.between(cases[c]["first"], cases[c]["last"]).total_seconds() for c in done]),
                 "business cycle time")
    elapsed = metrics.process_metrics(claims, "claim_review", until=end)
    assert actual["instances"]["cycle_time"]["mean"] < elapsed["instances"]["cycle_time"]["mean"]


def test_the_statements_behind_metrics_do_not_grow_with_history(claims, build_history, statement_counter):
    costs = []
    for cases in (2, 7):
        build_history(cases=cases, seed=cases)
        for business in (False, True):
            with statement_counter(claims) as statements:
                metrics.process_metrics(claims, "claim_review", business_time=business)
            costs.append((cases, business, len(statements)))
    plain = {n for _, business, n in costs if not business}
    business = {n for _, b, n in costs if b}
    assert len(plain) == 1 and len(business) == 1, costs
    assert plain.pop() <= 12 and business.pop() <= 17, costs


def test_group_and_version_filters_and_unknown_processes(claims, build_history):
    end = build_history(cases=6)
    reviewers = metrics.process_metrics(claims, "claim_review", group="reviewers", until=end)
    assert {a["element_id"] for a in reviewers["activities"]} <= {"review", "decision", "end_rejected"}
    assert [g["group"] for g in reviewers["groups"]] == ["reviewers"]
    assert reviewers["instances"] == metrics.process_metrics(claims, "claim_review", until=end)["instances"]
    assert metrics.process_metrics(claims, "claim_review", version=1, until=end)["instances"]["started"] == 6
    with pytest.raises(NotFound, match="no version 2"):
        metrics.process_metrics(claims, "claim_review", version=2)
    with pytest.raises(NotFound, match="not deployed"):
        metrics.process_metrics(claims, "nope")
    [only] = metrics.all_process_metrics(claims, until=end)
    assert only["process"] == "claim_review"


def test_a_process_without_cases_has_empty_figures(claims):
    empty = metrics.process_metrics(claims, "claim_review", until=datetime(2026, 3, 1, tzinfo=timezone.utc))
    assert empty["instances"]["started"] == 0 and empty["instances"]["cycle_time"]["count"] == 0
    assert empty["activities"] == [] and empty["variants"] == [] and empty["bottlenecks"] == []
