"""The operations dashboard: processes at a glance, one process's heatmap, charts and drill-down,
the SLA board, and the exports of every table (managers and admins; the services decide)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import Conflict, InvalidData, NotFound, PermissionDenied
from engine.records.dashboard import DayFlow, HistogramBar, ProcessPage, WeekPoint
from engine.services import dashboard, tasks, users
from webui.engine_access import current_engine
from webui.blueprints import int_arg, me
from webui.formatting import local_time
from webui.messages import say
from webui.model_words import model_text
from webui.words import group_name

bp = Blueprint("dashboard", __name__)
WINDOWS = (7, 30, 90)
DEFAULT_DAYS = 30


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def window() -> dict[str, Any]:
    """The chosen window: last 7/30/90 days (`days`), or `from`..`to` (whole UTC days, `to` included)."""
    now = current_engine().clock.now()
    start, end = _day("from"), _day("to")
    if start or end:
        since = datetime.combine(start, time(), timezone.utc) if start else None
        until = min(now, datetime.combine(end + timedelta(days=1), time(), timezone.utc)) if end else now
        if since is not None and since >= until:
            since = None
        return {"since": since, "until": until, "days": None, "from": start and start.isoformat(),
                "to": end and end.isoformat()}
    days = int_arg("days", DEFAULT_DAYS)
    days = days if days in WINDOWS else DEFAULT_DAYS
    return {"since": now - timedelta(days=days), "until": now, "days": days, "from": None, "to": None}


def _version() -> int | None:
    return int_arg("version", low=1)


def _query(**extra: Any) -> dict[str, Any]:
    """The page's query arguments (window, version, business time, measure), with `extra` changed."""
    keep = {k: v for k, v in request.args.items() if k in ("days", "from", "to", "version", "bt", "measure")}
    keep.update({k: v for k, v in extra.items()})
    return {k: v for k, v in keep.items() if v not in (None, "")}


@bp.app_template_filter("duration")
def duration(seconds: float | None) -> str:
    """Seconds as a short duration: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return _("%(n)s s", n=f"{seconds:.0f}")
    if seconds < 3600:
        return _("%(n)s min", n=f"{seconds / 60:.0f}")
    if seconds < 86400:
        return _("%(n)s h", n=f"{seconds / 3600:.1f}")
    return _("%(n)s d", n=f"{seconds / 86400:.1f}")


@bp.app_template_filter("percent")
def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _csv(text: str, name: str) -> Response:
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/dashboard")
def index() -> str:
    chosen = window()
    found = dashboard.overview(current_engine(), me(), since=chosen["since"], until=chosen["until"], version=_version())
    return render_template("dashboard/index.html", found=found, chosen=chosen, windows=WINDOWS, query=_query)


@bp.get("/dashboard/processes.csv")
def index_csv() -> Response:
    chosen = window()
    return _csv(dashboard.overview_csv(current_engine(), me(), since=chosen["since"], until=chosen["until"],
                                       version=_version()), "processes.csv")


def _filters() -> dict[str, Any]:
    chosen = window()
    return {"since": chosen["since"], "until": chosen["until"], "version": _version(),
            "business_time": request.args.get("bt") == "1"}


@bp.get("/dashboard/<key>")
def process(key: str) -> str:
    chosen = window()
    element = request.args.get("element") or None
    page = dashboard.process_page(current_engine(), me(), key, element=element, **_filters())
    measure = request.args.get("measure")
    measure = measure if measure in dashboard.MEASURES else "share"
    return render_template("dashboard/process.html", page=page, doc=page.metrics, chosen=chosen,
                           windows=WINDOWS, query=_query, measure=measure, measures=dashboard.MEASURES,
                           charts=charts(page), figures=diagram_figures(page), verdict_word=verdict_word,
                           measure_names=measure_names(), histogram_rows=histogram_rows, trend_rows=trend_rows,
                           flow_rows=flow_rows, group_rows=group_rows)


@bp.get("/dashboard/<key>/diagram.bpmn")
def diagram(key: str) -> Response:
    return Response(dashboard.diagram(current_engine(), me(), key, _version()), mimetype="application/octet-stream",
                    headers={"Content-Disposition": "attachment"})


@bp.get("/dashboard/<key>/<table>.csv")
def process_csv(key: str, table: str) -> Response:
    element = request.args.get("element") or None
    if table == "slowest" and element is None:
        raise NotFound(_("Choose an activity first."))
    text = dashboard.process_csv(current_engine(), me(), key, table, element=element, **_filters())
    return _csv(text, f"{key}-{table}.csv")


@bp.get("/dashboard/<key>/log.xes")
def process_xes(key: str) -> Response:
    text = dashboard.process_xes(current_engine(), me(), key, since=window()["since"])
    return Response(text, mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{key}.xes"'})


def _board_filters() -> dict[str, Any]:
    return {"key": request.args.get("process") or None, "group": request.args.get("group") or None}


@bp.get("/dashboard/sla")
def sla_page() -> str:
    board = dashboard.sla_board(current_engine(), me(), **_board_filters())
    return render_template("dashboard/sla.html", board=board, groups=users.list_groups(current_engine()))


def _board_filters_query() -> dict[str, Any]:
    return {k: v for k, v in request.args.items() if k in ("process", "group") and v}


@bp.get("/dashboard/sla.csv")
def sla_csv() -> Response:
    return _csv(dashboard.sla_csv(current_engine(), me(), **_board_filters()), "sla.csv")


@bp.post("/dashboard/sla/<int:task_id>/assign")
def reassign(task_id: int):
    """Hand the task to the chosen candidate; either way back to the board with its filters, saying
    what happened (a refusal in the engine's words, in the user's language)."""
    to = request.form.get("to", "").strip()
    try:
        task = tasks.assign(current_engine(), task_id, me(), to)
    except (InvalidData, Conflict, PermissionDenied, NotFound) as exc:
        flash(_("Task %(id)s was not reassigned: %(reason)s", id=task_id, reason=say(exc)), "error")
    else:
        flash(_("“%(task)s” (case %(case)s) is now with %(name)s.", task=model_text(task.name),
                case=task.instance_id, name=to), "success")
    return redirect(url_for("dashboard.sla_page", **_board_filters_query()))


@bp.app_template_filter("due_words")
def due_words(due_at: str | None) -> str:
    """How far a due time is from now, roughly: "overdue by 2 h" once it has passed, else "due in 3 h"."""
    if not due_at:
        return ""
    left = (datetime.fromisoformat(due_at.replace("Z", "+00:00")) - current_engine().clock.now()).total_seconds()
    if left <= 0:
        return _("overdue by %(time)s", time=rough_duration(-left))
    return _("due in %(time)s", time=rough_duration(left))


def rough_duration(seconds: float) -> str:
    """A duration in whole units, as a glance needs it: 45 min, 2 h (under two days), 3 d."""
    if seconds < 3600:
        return _("%(n)s min", n=max(1, round(seconds / 60)))
    if seconds < 2 * 86400:
        return _("%(n)s h", n=round(seconds / 3600))
    return _("%(n)s d", n=round(seconds / 86400))


def measure_names() -> dict[str, str]:
    return {"duration": _("Median duration"), "share": _("Share of cycle time"), "wait_share": _("Wait share"),
            "open": _("Open count")}


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def charts(page: ProcessPage) -> dict[str, dict[str, Any]]:
    """What dashboard.js draws with chart.js: one spec per chart (the tables beside them say the same)."""
    return {
        "histogram": {"type": "bar", "labels": [f"{duration(b.from_seconds)}–{duration(b.to_seconds)}"
                                                for b in page.histogram],
                      "datasets": [{"label": _("Cases"), "data": [b.count for b in page.histogram]}],
                      "y": _("Cases")},
        "trend": {"type": "line", "labels": [w.week for w in page.trend],
                  "datasets": [{"label": _("Median (hours)"), "data": [_hours(w.median) for w in page.trend]},
                               {"label": _("p90 (hours)"), "data": [_hours(w.p90) for w in page.trend]}],
                  "y": _("Hours")},
        "flow": {"type": "bar", "labels": [d.day for d in page.flow],
                 "datasets": [{"label": _("Arrivals"), "data": [d.arrivals for d in page.flow]},
                              {"label": _("Completions"), "data": [d.completions for d in page.flow]}],
                 "y": _("Cases")},
        "groups": {"type": "bar", "labels": [group_name(g.group) for g in page.groups],
                   "datasets": [{"label": _("Open tasks"), "data": [g.backlog for g in page.groups]}],
                   "y": _("Open tasks"), "horizontal": True},
    }


def diagram_figures(page: ProcessPage) -> dict[str, Any]:
    """Per drawn activity: its name, heat per measure, whether the customer does it and the figures
    shown for it (a customer's step has no wait or work figures: nobody at the bank waits on it)."""
    activities = {a["element_id"]: a for a in page.metrics["activities"]}
    result = {}
    for element_id, measures in page.heat.items():
        a = activities[element_id]
        by_customer = a["verdict"] == "customer"
        staff = [] if by_customer else [[_("Wait share"), percent(a["wait_share"])],
                                        [_("Median wait"), duration(a["wait"]["median"])],
                                        [_("Median work"), duration(a["work"]["median"])]]
        result[element_id] = {
            "name": model_text(a["name"]), "heat": {m: v.heat for m, v in measures.items()}, "customer": by_customer,
            "figures": [[_("Median duration"), duration(a["duration"]["median"])],
                        [_("Share of cycle time"), percent(a["share"])],
                        *staff,
                        [_("Open"), str(a["open"])],
                        [_("Verdict"), verdict_word(a["verdict"])]],
            "values": {m: v.value for m, v in measures.items()},
        }
    return result


def verdict_word(verdict: str) -> str:
    """A verdict of the metrics document (docs/metrics-json.md) in the user's language."""
    return {"queue": _("queue"), "capacity": _("capacity"), "work": _("work"),
            "customer": _("done by the customer")}.get(verdict, verdict)


def histogram_rows(bins: tuple[HistogramBar, ...]) -> list[list[Any]]:
    return [[duration(b.from_seconds), duration(b.to_seconds), b.count] for b in bins]


def trend_rows(weeks: tuple[WeekPoint, ...]) -> list[list[Any]]:
    return [[w.week, w.count, duration(w.median), duration(w.p90)] for w in weeks]


def flow_rows(days: tuple[DayFlow, ...]) -> list[list[Any]]:
    return [[d.day, d.arrivals, d.completions] for d in days]


def group_rows(groups: list[dict[str, Any]]) -> list[list[Any]]:
    """The figures per group; a customer group (its tasks are the customer's) is named as such."""
    return [[_("%(group)s (the customer)", group=group_name(g["group"])) if g["customer"] else group_name(g["group"]),
             g["backlog"], local_time(g["oldest_open_at"]) or "–", duration(g["mean_handling"]),
             g["completions_per_day"]] for g in groups]
