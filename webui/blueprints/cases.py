"""Cases: search, the case page with its diagram, history and comments, retrying an incident, starting a case."""
from __future__ import annotations

import json
from typing import Mapping

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from engine.errors import Conflict, InvalidData, PermissionDenied
from engine.policy.roles import SUPERVISORS
from engine.records.instances import CaseSummary
from engine.services import comments, deployments, instances, tasks
from engine.services.instances import StartForm
from engine.statuses import INSTANCE_STATUSES, InstanceStatus
from webui.engine_access import current_engine
from webui.blueprints import me, page_number, start_page
from webui.errors import status_of
from webui.messages import say

bp = Blueprint("cases", __name__)


@bp.get("/cases")
def search() -> ResponseReturnValue:
    raw = request.args.get("status")
    status = InstanceStatus(raw) if raw in INSTANCE_STATUSES else None
    key, process = request.args.get("q") or None, request.args.get("process") or None
    found = instances.search(current_engine(), me(), business_key=key, process=process, status=status,
                             page=page_number())
    return render_template("cases/search.html", found=found, statuses=INSTANCE_STATUSES,
                           processes=deployments.list_definitions(current_engine(), latest_only=True),
                           filtered=bool(status or key or process),
                           empty_sentence=_no_case(status, bool(key or process)))


def _no_case(status: InstanceStatus | None, other_filters: bool) -> str:
    """Why the search found nothing, in words that match the filters and what the user may see:
    managers and admins every case, others the cases they started or worked on."""
    if current_user.has_role(*SUPERVISORS):
        if other_filters:
            return _("No case matches these filters.")
        return {None: _("No case has been started yet."), InstanceStatus.RUNNING: _("No case is running."),
                InstanceStatus.COMPLETED: _("No case has completed."),
                InstanceStatus.INCIDENT: _("No case is in incident."),
                InstanceStatus.CANCELLED: _("No case was cancelled.")}[status]
    if other_filters:
        return _("None of your cases matches these filters. You see the cases you started or worked on.")
    return {None: _("You have not started or worked on a case yet. Cases you start or work on appear here."),
            InstanceStatus.RUNNING: _("None of your cases is running."),
            InstanceStatus.COMPLETED: _("None of your cases has completed."),
            InstanceStatus.INCIDENT: _("None of your cases is in incident."),
            InstanceStatus.CANCELLED: _("None of your cases was cancelled.")}[status]


def _case_page(instance_id: int, message: str | None = None, retry_data: str = "",
               status: int = 200) -> ResponseReturnValue:
    page = instances.case_overview(current_engine(), instance_id, me())
    return render_template("cases/case.html", page=page, case=page.case, message=message,
                           retry_data=retry_data), status


@bp.get("/cases/<int:instance_id>")
def show(instance_id: int) -> ResponseReturnValue:
    return _case_page(instance_id)


@bp.get("/cases/<int:instance_id>/diagram.bpmn")
def diagram(instance_id: int) -> ResponseReturnValue:
    # Served as data for the viewer script, never as a page: the browser must not interpret it.
    return Response(instances.case_diagram(current_engine(), instance_id, me()), mimetype="application/octet-stream",
                    headers={"Content-Disposition": "attachment"})


@bp.post("/cases/<int:instance_id>/comments")
def comment(instance_id: int) -> ResponseReturnValue:
    try:
        comments.add_comment(current_engine(), instance_id, me(), request.form.get("body", ""))
    except InvalidData as exc:
        return _case_page(instance_id, message=say(exc), status=status_of(exc))
    return redirect(url_for("cases.show", instance_id=instance_id) + "#comments")


@bp.post("/cases/<int:instance_id>/retry")
def retry(instance_id: int) -> ResponseReturnValue:
    raw = request.form.get("variables", "").strip()
    try:
        data = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        return _case_page(instance_id, _("The corrected variables are not valid JSON: %(problem)s", problem=exc.msg),
                          raw, 400)
    except RecursionError:  # the parser's own limit, far deeper than the service's (instances.retry)
        return _case_page(instance_id, _("The corrected variables are nested too deeply."), raw, 400)
    try:
        result = instances.retry(current_engine(), instance_id, data, user=me())
    except (InvalidData, Conflict, PermissionDenied) as exc:
        return _case_page(instance_id, say(exc), raw, status_of(exc))
    if result.status == InstanceStatus.INCIDENT:
        flash(_("The case is still in incident: %(message)s", message=result.incident_message), "error")
    else:
        flash(_("The case runs again."), "success")
    return redirect(url_for("cases.show", instance_id=instance_id))


@bp.get("/start")
def start_list() -> ResponseReturnValue:
    return render_template("cases/start_list.html", startable=instances.startable(current_engine(), me()))


def _startable(key: str) -> StartForm:
    for process in instances.startable(current_engine(), me()):
        if process.key == key:
            return process
    raise PermissionDenied(_("You may not start this process."))


@bp.route("/start/<key>", methods=["GET", "POST"])
def start(key: str) -> ResponseReturnValue:
    def begin(business_key: str | None, form: Mapping[str, str]) -> CaseSummary:
        return instances.start(current_engine(), key, business_key=business_key, user=me(), form=form)

    def after(case: CaseSummary) -> str:
        flash(_("Case %(id)s started.", id=case.id), "success")
        task_id = tasks.next_task_for(current_engine(), case.id, me())
        return url_for("tasks.show", task_id=task_id) if task_id else url_for("cases.show", instance_id=case.id)

    return start_page(_startable(key), begin, after)
