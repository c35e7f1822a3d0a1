"""Administration: users (create, disable, reset password, roles, groups) and groups. Admins only."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from engine.errors import Conflict, InvalidData
from engine.policy.roles import Role
from engine.records.users import UserRecord
from engine.services import users
from webui.engine_access import current_engine
from webui.blueprints import me
from webui.errors import status_of
from webui.messages import say

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(problems: dict[str, str] | None = None, values: dict[str, Any] | None = None,
          status: int = 200) -> ResponseReturnValue:
    return render_template("admin/index.html", admin=users.administration(current_engine(), me()), problems=problems or {},
                           values=values or {}), status


def _groups() -> list[str]:
    """The groups ticked on a user form (existing groups, one checkbox each)."""
    return [g.strip() for g in request.form.getlist("groups") if g.strip()]


@bp.get("")
def index() -> ResponseReturnValue:
    return _page()


def _new_user_page(problems: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                   status: int = 200) -> ResponseReturnValue:
    return render_template("admin/new_user.html", admin=users.administration(current_engine(), me()),
                           problems=problems or {}, values=values or {"roles": [Role.STAFF], "groups": []}), status


@bp.get("/users/new")
def new_user() -> ResponseReturnValue:
    return _new_user_page()


@bp.post("/users")
def add_user() -> ResponseReturnValue:
    """Add the user and go back to the list; a refusal shows the form again, each problem beside its
    field, with what was typed kept (but the password)."""
    name, email = request.form.get("name", "").strip(), request.form.get("email", "").strip()
    groups, roles = _groups(), request.form.getlist("roles")
    values = {"name": name, "email": email, "groups": groups, "roles": roles}
    try:
        users.add_user(current_engine(), name, request.form.get("password", ""), groups, roles, email or None, user=me())
    except InvalidData as exc:
        return _new_user_page({p.field: p.message for p in exc.field_problems}, values, status_of(exc))
    except Conflict as exc:
        return _new_user_page({"name": say(exc)}, values, status_of(exc))
    flash(_("User %(name)s added.", name=name), "success")
    return redirect(url_for("admin.index"))


@bp.route("/users/<name>", methods=["GET", "POST"])
def edit_user(name: str) -> ResponseReturnValue:
    """The user's form; a refused change shows it again with each problem beside its field and what was
    chosen kept (but the password)."""
    found = users.get_user(current_engine(), name)
    values: UserRecord | dict[str, Any] = found
    problems: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        email, groups, roles = request.form.get("email", "").strip(), _groups(), request.form.getlist("roles")
        disabled = request.form.get("disabled") == "on"
        values = {"email": email, "groups": groups, "roles": roles, "disabled": disabled}
        password = request.form.get("password", "")
        try:
            users.update_user(current_engine(), name, me(), roles=roles, groups=groups, disabled=disabled, email=email,
                              password=password or None, from_session=current_user.get_id())
        except InvalidData as exc:
            problems, status = {p.field: p.message for p in exc.field_problems}, status_of(exc)
        else:
            flash(_("User %(name)s saved.", name=name), "success")
            return redirect(url_for("admin.edit_user", name=name))
    return render_template("admin/user.html", user=found, values=values, admin=users.administration(current_engine(), me()),
                           problems=problems), status


def _new_group_page(problems: dict[str, str] | None = None, values: dict[str, str] | None = None,
                    status: int = 200) -> ResponseReturnValue:
    users.administration(current_engine(), me())  # admins only, like every page here
    return render_template("admin/new_group.html", problems=problems or {}, values=values or {},
                           back=_back()), status


def _back() -> str | None:
    """Where the group form returns: the new-user form it was opened from, else the administration page."""
    wanted = request.values.get("back")
    return wanted if wanted == "new_user" else None


@bp.get("/groups/new")
def new_group() -> ResponseReturnValue:
    return _new_group_page()


@bp.post("/groups")
def add_group() -> ResponseReturnValue:
    """Add a group with its display names; a refusal shows the form again, each problem beside its field."""
    values = {"group": request.form.get("name", ""), "title": request.form.get("title", ""),
              "title_zh": request.form.get("title_zh", "")}
    try:
        users.add_group(current_engine(), values["group"], user=me(), title=values["title"], title_zh=values["title_zh"])
    except InvalidData as exc:
        problems = {"group" if p.field == "name" else p.field: p.message for p in exc.field_problems}
        return _new_group_page(problems, values, status_of(exc))
    except Conflict as exc:
        return _new_group_page({"group": say(exc)}, values, status_of(exc))
    flash(_("Group %(name)s added.", name=values["group"].strip()), "success")
    return redirect(url_for("admin.new_user") if _back() else url_for("admin.index", _anchor="groups"))
