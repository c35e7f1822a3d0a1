"""The designer's workspace: upload BPMN/DMN, see what was deployed, switch versions on and off, start a
test case of a version through its start form."""
from __future__ import annotations

from typing import Mapping

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from engine.errors import DeployError
from engine.records.instances import CaseSummary
from engine.services import deployments, instances
from engine.json_shapes import definition_detail_view, deploy_problem_view, deployment_view, process_versions_view
from webui.engine_access import current_engine
from webui.blueprints import int_arg, me, start_page
from webui.errors import status_of
from webui.labels import label

bp = Blueprint("designer", __name__, url_prefix="/designer")
MAX_FILES = 50


def _overview() -> list[dict[str, object]]:
    """Every process with its versions (refuses those who may not see the workspace)."""
    return [process_versions_view(p) for p in deployments.designer_overview(current_engine(), me())]


@bp.get("")
def index() -> ResponseReturnValue:
    return render_template("designer/index.html", processes=_overview(), problems=[], warnings=[], deployed=None)


@bp.post("/upload")
def upload() -> ResponseReturnValue:
    processes = _overview()
    files = [f for f in request.files.getlist("files") if f.filename][:MAX_FILES]
    if not files:
        problems = [{"file": "", "element": None, "line": None,
                     "message": _("Choose one or more .bpmn or .dmn files.")}]
        return render_template("designer/index.html", processes=processes, problems=problems, warnings=[],
                               deployed=None, uploaded=[]), 400
    try:
        deployed = deployments.deploy_uploads(current_engine(), [(f.filename or "", f.read()) for f in files], user=me())
    except DeployError as exc:
        return render_template("designer/index.html", processes=processes,
                               problems=[deploy_problem_view(p) for p in exc.deploy_problems], warnings=[],
                               deployed=None, uploaded=[f.filename for f in files]), status_of(exc)
    flash(_("Deployed: %(what)s", what=", ".join(f"{d.key} v{d.version} ({label(d.status)})"
                                                 for d in deployed.definitions) or _("nothing new")), "success")
    if not deployed.warnings:
        return redirect(url_for("designer.index"))
    # Shown once, with the upload: the warnings are about the files just deployed.
    shown = deployment_view(deployed)
    return render_template("designer/index.html", processes=_overview(), problems=[], warnings=shown["warnings"],
                           deployed=shown)


def _version() -> int | None:
    return int_arg("version", low=1)


@bp.get("/definitions/<key>")
def definition(key: str) -> ResponseReturnValue:
    return render_template("designer/definition.html",
                           definition=definition_detail_view(deployments.definition_detail(current_engine(), key, _version(),
                                                                                           me())))


@bp.get("/definitions/<key>/diagram.bpmn")
def diagram(key: str) -> ResponseReturnValue:
    _name, content = deployments.definition_source(current_engine(), key, _version(), me())
    return Response(content, mimetype="application/octet-stream", headers={"Content-Disposition": "attachment"})


@bp.get("/definitions/<key>/source")
def source(key: str) -> ResponseReturnValue:
    name, content = deployments.definition_source(current_engine(), key, _version(), me())
    filename = secure_filename(name) or "process.bpmn"
    return Response(content, mimetype="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename=\"{filename}\""})


@bp.post("/definitions/<key>/<int:version>/active")
def set_active(key: str, version: int) -> ResponseReturnValue:
    active = request.form.get("active") == "on"
    deployments.set_active(current_engine(), key, version, active, me())
    flash(_("%(key)s v%(version)s is now %(state)s.", key=key, version=version,
            state=_("active") if active else _("inactive")), "success")
    return redirect(url_for("designer.definition", key=key, version=version))


@bp.route("/definitions/<key>/<int:version>/test-case", methods=["GET", "POST"])
def test_case(key: str, version: int) -> ResponseReturnValue:
    """A test case of the version the page shows, through its start form (designers and admins)."""
    process = instances.form_for_test_case(current_engine(), key, version, me())

    def begin(business_key: str | None, form: Mapping[str, str]) -> CaseSummary:
        return instances.start_test_case(current_engine(), key, version, me(), business_key=business_key, form=form)

    def after(case: CaseSummary) -> str:
        flash(_("Test case %(id)s started.", id=case.id), "success")
        return url_for("cases.show", instance_id=case.id)

    return start_page(process, begin, after, values={"business_key": process.business_key})
