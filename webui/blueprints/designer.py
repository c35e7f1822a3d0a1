"""The designer's workspace: upload BPMN/DMN, see what was deployed, switch versions on and off, start a
test case of a version through its start form."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from engine.errors import DeployError
from engine.services import deployments, instances
from engine.views import deploy_problem_view
from webui.blueprints import engine, int_arg, me, start_page
from webui.labels import label

bp = Blueprint("designer", __name__, url_prefix="/designer")
MAX_FILES = 50


@bp.get("")
def index():
    return render_template("designer/index.html", processes=deployments.designer_overview(engine(), me()),
                           problems=[], warnings=[], deployed=None)


@bp.post("/upload")
def upload():
    processes = deployments.designer_overview(engine(), me())  # refuses those who may not see the workspace
    files = [f for f in request.files.getlist("files") if f.filename][:MAX_FILES]
    problems, deployed = [], None
    if not files:
        problems = [{"file": "", "element": None, "line": None, "message": _("Choose one or more .bpmn or .dmn files.")}]
    else:
        try:
            deployed = deployments.deploy_uploads(engine(), [(f.filename, f.read()) for f in files], user=me())
        except DeployError as exc:
            problems = [deploy_problem_view(p) for p in exc.deploy_problems]
        else:
            flash(_("Deployed: %(what)s", what=", ".join(f"{d['key']} v{d['version']} ({label(d['status'])})"
                                                         for d in deployed["definitions"]) or _("nothing new")),
                  "success")
            if not deployed["warnings"]:
                return redirect(url_for("designer.index"))
            # Shown once, with the upload: the warnings are about the files just deployed.
            return render_template("designer/index.html", processes=deployments.designer_overview(engine(), me()),
                                   problems=[], warnings=deployed["warnings"], deployed=deployed)
    return render_template("designer/index.html", processes=processes, problems=problems, warnings=[],
                           deployed=deployed, uploaded=[f.filename for f in files]), 400


def _version() -> int | None:
    return int_arg("version", low=1)


@bp.get("/definitions/<key>")
def definition(key: str):
    return render_template("designer/definition.html",
                           definition=deployments.definition_detail(engine(), key, _version(), me()))


@bp.get("/definitions/<key>/diagram.bpmn")
def diagram(key: str):
    _name, content = deployments.definition_source(engine(), key, _version(), me())
    return Response(content, mimetype="application/octet-stream", headers={"Content-Disposition": "attachment"})


@bp.get("/definitions/<key>/source")
def source(key: str):
    name, content = deployments.definition_source(engine(), key, _version(), me())
    return Response(content, mimetype="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename=\"{secure_filename(name) or 'process.bpmn'}\""})


@bp.post("/definitions/<key>/<int:version>/active")
def set_active(key: str, version: int):
    active = request.form.get("active") == "on"
    deployments.set_active(engine(), key, version, active, me())
    flash(_("%(key)s v%(version)s is now %(state)s.", key=key, version=version,
            state=_("active") if active else _("inactive")), "success")
    return redirect(url_for("designer.definition", key=key, version=version))


@bp.route("/definitions/<key>/<int:version>/test-case", methods=["GET", "POST"])
def test_case(key: str, version: int):
    """A test case of the version the page shows, through its start form (designers and admins)."""
    process = instances.form_for_test_case(engine(), key, version, me())

    def begin(business_key: str | None, values: dict[str, str]) -> dict:
        return instances.start_test_case(engine(), key, version, me(), business_key=business_key,
                                         form_values=values)

    def after(case: dict) -> str:
        flash(_("Test case %(id)s started.", id=case["id"]), "success")
        return url_for("cases.show", instance_id=case["id"])

    return start_page(process, begin, after, values={"business_key": process["business_key"]})
