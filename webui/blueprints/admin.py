"""Administration: users (create, disable, reset password, roles, groups) and groups. Admins only."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.errors import Conflict, InvalidData
from engine.services import users
from webui.blueprints import engine, me

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(problems: dict | None = None, values: dict | None = None, status: int = 200):
    return render_template("admin/index.html", admin=users.administration(engine(), me()), problems=problems or {},
                           values=values or {}), status


def _groups() -> list[str]:
    return [g.strip() for g in request.form.get("groups", "").split(",") if g.strip()]


@bp.get("")
def index():
    return _page()


@bp.post("/users")
def add_user():
    values = {"name": request.form.get("name", "").strip(), "email": request.form.get("email", "").strip(),
              "groups": request.form.get("groups", ""), "roles": request.form.getlist("roles")}
    try:
        users.add_user(engine(), values["name"], request.form.get("password", ""), _groups(), values["roles"],
                       values["email"] or None, user=me())
    except InvalidData as exc:
        return _page({p.field: p.message for p in exc.field_problems}, values, 400)
    except Conflict as exc:
        return _page({"name": str(exc)}, values, 409)
    flash(_("User %(name)s added.", name=values["name"]), "success")
    return redirect(url_for("admin.index"))


@bp.route("/users/<name>", methods=["GET", "POST"])
def edit_user(name: str):
    problems = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        try:
            users.update_user(engine(), name, me(), roles=request.form.getlist("roles"), groups=_groups(),
                              disabled=request.form.get("disabled") == "on",
                              email=request.form.get("email", "").strip(), password=password or None,
                              from_session=current_user.get_id())
        except InvalidData as exc:
            problems = {p.field: p.message for p in exc.field_problems}
        else:
            flash(_("User %(name)s saved.", name=name), "success")
            return redirect(url_for("admin.edit_user", name=name))
    admin = users.administration(engine(), me())
    return render_template("admin/user.html", user=users.get_user(engine(), name), roles=admin["roles"],
                           problems=problems), 400 if problems else 200


@bp.post("/groups")
def add_group():
    try:
        users.add_group(engine(), request.form.get("name", ""), user=me())
    except (InvalidData, Conflict) as exc:
        return _page({"group": "; ".join(exc.problems())}, {"group": request.form.get("name", "")}, 400)
    flash(_("Group added."), "success")
    return redirect(url_for("admin.index") + "#groups")
