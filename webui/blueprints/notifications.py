"""The user's notifications (SLA escalations) and marking them read."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.services import notifications
from engine.json_shapes import notification_view
from webui.engine_access import current_engine
from webui.blueprints import me, whole_number

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def unread_count() -> dict[str, int]:
    """The header's unread count, on every page of a signed-in user (one counting query)."""
    if not current_user.is_authenticated:
        return {}
    return {"unread_notifications": notifications.unread_count(current_engine(), me())}


@bp.get("/notifications")
def index() -> ResponseReturnValue:
    return render_template("notifications/index.html",
                           items=[notification_view(n) for n in notifications.list_for(current_engine(), me())])


@bp.post("/notifications/read")
def mark_read() -> ResponseReturnValue:
    ids = [whole_number(i, "id", low=0) for i in request.form.getlist("id")]
    notifications.mark_read(current_engine(), me(), ids or None)
    return redirect(url_for("notifications.index"))
