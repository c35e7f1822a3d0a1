"""Front-end packages installed by `npm ci` (package.json), served from node_modules: no CDN, no copies."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

bp = Blueprint("assets", __name__)
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
# Only the built distributions of the packages the pages use, and axe-core (its build is the package's top
# folder), which the browser tests load into every page from this origin to check its accessibility.
PACKAGES = {"bpmn-js": "bpmn-js/dist", "chart.js": "chart.js/dist", "axe-core": "axe-core"}


@bp.get("/assets/<package>/<path:name>")
def file(package: str, name: str):
    if package not in PACKAGES:
        abort(404)
    return send_from_directory(NODE_MODULES / PACKAGES[package], name, max_age=3600)
