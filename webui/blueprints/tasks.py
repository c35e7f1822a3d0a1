"""The staff inbox and the task page: claim, unclaim, assign and complete through the task's form."""
from __future__ import annotations

from typing import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import Conflict, InvalidData, PermissionDenied
from engine.services import deployments, tasks
from engine.statuses import SLA_STATUSES
from webui.engine_access import current_engine
from webui.blueprints import int_arg, me, page_number
from webui.errors import status_of
from webui.labels import label
from webui.messages import say

bp = Blueprint("tasks", __name__)


@bp.get("/")
def home():
    return redirect(url_for("tasks.inbox"))


@bp.get("/tasks")
def inbox():
    """Both lists on one page: the tasks I hold and those waiting to be claimed; `view` says which list
    `page` pages."""
    view = request.args.get("view", "mine")
    view = view if view in tasks.INBOX_VIEWS else "mine"
    sla = request.args.get("sla") or None
    sla = sla if sla in SLA_STATUSES else None
    process = request.args.get("process") or None
    priority = int_arg("priority")
    found = tasks.inbox(current_engine(), me(), view, process=process, priority=priority, sla_status=sla,
                        page=page_number())
    return render_template("tasks/inbox.html", inbox=found, sla=sla, process=process, priority=priority,
                           filtered=_filter_kind(sla, process, priority),
                           processes=deployments.list_definitions(current_engine(), latest_only=True))


def _filter_kind(sla: str | None, process: str | None, priority: int | None) -> str | None:
    """What the empty lists say they were filtered by: nothing (None), only an SLA status, or 'filtered'."""
    if process is not None or priority is not None:
        return "filtered"
    return sla


def _task_page(task_id: int, values: Mapping[str, str] | None = None, problems: dict | None = None,
               message: str | None = None, status: int = 200):
    """The task page; after a refused action, with what was typed (`values`), the refused fields and why."""
    detail = tasks.task_detail(current_engine(), task_id, me())
    return render_template("tasks/task.html", detail=detail, values=values or {}, problems=problems or {},
                           message=message), status


@bp.get("/tasks/<int:task_id>")
def show(task_id: int):
    return _task_page(task_id)


def _act(task_id: int, action, done: str):
    """Run a claim/unclaim/assign action; a refusal is shown on the task page, nothing changed."""
    try:
        action()
    except (Conflict, PermissionDenied, InvalidData) as exc:
        return _task_page(task_id, message=say(exc), status=status_of(exc))
    flash(done, "success")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/tasks/<int:task_id>/claim")
def claim(task_id: int):
    return _act(task_id, lambda: tasks.claim(current_engine(), task_id, me()), _("You claimed the task."))


@bp.post("/tasks/<int:task_id>/unclaim")
def unclaim(task_id: int):
    return _act(task_id, lambda: tasks.unclaim(current_engine(), task_id, me()), _("The task is open to its group again."))


@bp.post("/tasks/<int:task_id>/assign")
def assign(task_id: int):
    to = request.form.get("to", "")
    return _act(task_id, lambda: tasks.assign(current_engine(), task_id, me(), to), _("The task is assigned to %(name)s.",
                                                                               name=to))


@bp.post("/tasks/<int:task_id>/complete")
def complete(task_id: int):
    """Complete the task with its submitted form; the user goes on to their next task in the case (or
    their inbox). A refusal shows the page again with what was typed kept."""
    submitted = request.form.to_dict()
    try:
        result = tasks.complete(current_engine(), task_id, me(), form=submitted)
    except InvalidData as exc:
        return _task_page(task_id, submitted, {p.field: p.message for p in exc.field_problems},
                          _("Some fields need your attention."), status_of(exc))
    except (Conflict, PermissionDenied) as exc:
        return _task_page(task_id, submitted, message=say(exc), status=status_of(exc))
    flash(_("Task completed. The case is %(status)s.", status=label(result.instance.status)), "success")
    next_id = result.next_task_id
    return redirect(url_for("tasks.show", task_id=next_id) if next_id else url_for("tasks.inbox"))
