"""The health page, for load balancers and monitoring (no login: it reveals nothing)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from engine.services import health
from webui import engine_context

bp = Blueprint("health", __name__)


@bp.get("/health")
def show():
    report = health.check(engine_context(current_app))
    return jsonify(report), 200 if report["status"] == "ok" else 503
