"""Administration: users (create, disable, reset password, roles, groups) and groups. Admins only."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.errors import Conflict, InvalidData
from engine.services import users
from webui.blueprints import engine, me
from webui.messages import say

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(problems: dict | None = None, values: dict | None = None, status: int = 200):
    return render_template("admin/index.html", admin=users.administration(engine(), me()), problems=problems or {},
                           values=values or {}), status


def _groups() -> list[str]:
    """The groups ticked on a user form (existing groups, one checkbox each)."""
    return [g.strip() for g in request.form.getlist("groups") if g.strip()]


@bp.get("")
def index():
    return _page()


def _new_user_page(problems: dict | None = None, values: dict | None = None, status: int = 200):
    return render_template("admin/new_user.html", admin=users.administration(engine(), me()),
                           problems=problems or {}, values=values or {"roles": ["staff"], "groups": []}), status


@bp.get("/users/new")
def new_user():
    return _new_user_page()


@bp.post("/users")
def add_user():
    """Add the user and go back to the list; a refusal shows the form again, each problem beside its
    field, with what was typed kept (but the password)."""
    values = {"name": request.form.get("name", "").strip(), "email": request.form.get("email", "").strip(),
              "groups": _groups(), "roles": request.form.getlist("roles")}
    try:
        users.add_user(engine(), values["name"], request.form.get("password", ""), values["groups"],
                       values["roles"], values["email"] or None, user=me())
    except InvalidData as exc:
        return _new_user_page({p.field: p.message for p in exc.field_problems}, values, 400)
    except Conflict as exc:
        return _new_user_page({"name": say(exc)}, values, 409)
    flash(_("User %(name)s added.", name=values["name"]), "success")
    return redirect(url_for("admin.index"))


@bp.route("/users/<name>", methods=["GET", "POST"])
def edit_user(name: str):
    """The user's form; a refused change shows it again with each problem beside its field and what was
    chosen kept (but the password)."""
    found = users.get_user(engine(), name)
    values, problems = found, {}
    if request.method == "POST":
        values = {"email": request.form.get("email", "").strip(), "groups": _groups(),
                  "roles": request.form.getlist("roles"), "disabled": request.form.get("disabled") == "on"}
        password = request.form.get("password", "")
        try:
            users.update_user(engine(), name, me(), roles=values["roles"], groups=values["groups"],
                              disabled=values["disabled"], email=values["email"], password=password or None,
                              from_session=current_user.get_id())
        except InvalidData as exc:
            problems = {p.field: p.message for p in exc.field_problems}
        else:
            flash(_("User %(name)s saved.", name=name), "success")
            return redirect(url_for("admin.edit_user", name=name))
    return render_template("admin/user.html", user=found, values=values, admin=users.administration(engine(), me()),
                           problems=problems), 400 if problems else 200


def _new_group_page(problems: dict | None = None, values: dict | None = None, status: int = 200):
    users.administration(engine(), me())  # admins only, like every page here
    return render_template("admin/new_group.html", problems=problems or {}, values=values or {},
                           back=_back()), status


def _back() -> str | None:
    """Where the group form returns: the new-user form it was opened from, else the administration page."""
    wanted = request.values.get("back")
    return wanted if wanted == "new_user" else None


@bp.get("/groups/new")
def new_group():
    return _new_group_page()


@bp.post("/groups")
def add_group():
    """Add a group with its display names; a refusal shows the form again, each problem beside its field."""
    values = {"group": request.form.get("name", ""), "title": request.form.get("title", ""),
              "title_zh": request.form.get("title_zh", "")}
    try:
        users.add_group(engine(), values["group"], user=me(), title=values["title"], title_zh=values["title_zh"])
    except InvalidData as exc:
        problems = {"group" if p.field == "name" else p.field: p.message for p in exc.field_problems}
        return _new_group_page(problems, values, 400)
    except Conflict as exc:
        return _new_group_page({"group": say(exc)}, values, 409)
    flash(_("Group %(name)s added.", name=values["group"].strip()), "success")
    return redirect(url_for("admin.new_user") if _back() else url_for("admin.index", _anchor="groups"))
