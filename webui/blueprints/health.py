"""The health page, for load balancers and monitoring (no login: it reveals nothing), and the warning
managers and admins see on every page when no worker runs while work waits."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.errors import BankflowError
from engine.policy.roles import SUPERVISORS
from engine.services import health
from engine.statuses import WorkerStatus
from engine.json_shapes import health_view, worker_status_view
from webui.engine_access import current_engine

bp = Blueprint("health", __name__)


@bp.get("/health")
def show() -> ResponseReturnValue:
    report = health.check(current_engine())
    return jsonify(health_view(report)), 200 if report.status == "ok" else 503


@bp.app_context_processor
def worker_overdue() -> dict[str, Any]:
    """For managers and admins, on every page: the worker status when no worker has run while timers,
    service tasks or SLA checks wait (`worker_overdue`, see health.worker_status); else nothing."""
    if not current_user.is_authenticated or not current_user.has_role(*SUPERVISORS):
        return {}
    try:
        state = health.worker_status(current_engine())
    except BankflowError:  # the page itself says what is wrong with the database
        return {}
    return {"worker_overdue": worker_status_view(state) if state.status == WorkerStatus.OVERDUE else None}
