"""Signing in and out, the language switch and the user's own profile."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from engine.errors import InvalidData, PermissionDenied
from engine.services import users
from webui.engine_access import current_engine
from webui.blueprints import me
from webui.errors import status_of
from webui.i18n import LANGUAGES
from webui.sign_in import SignedInUser

bp = Blueprint("auth", __name__)


class SignInForm(FlaskForm):
    name = StringField(_l("User name"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only paths on this site: an absolute URL in `next` would send the user elsewhere after sign-in."""
    if not target or urlsplit(target).netloc or urlsplit(target).scheme or not target.startswith("/") \
            or target.startswith("//"):
        return url_for("tasks.inbox")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("tasks.inbox"))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        try:
            signed_in = users.sign_in(current_engine(), form.name.data, form.password.data)
        except PermissionDenied:
            error = _("This account is locked for 15 minutes after too many failed sign-ins.")
        else:
            if signed_in is None:  # unknown user, wrong password or disabled account: one message for all
                error = _("The user name or password is wrong.")
            else:
                session.clear()
                session.permanent = True
                login_user(SignedInUser.signed_in(signed_in.user, signed_in.token))
                return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200  # a refused sign-in, the lock-out too, is 401: the page says why
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End this session on the server too, so a copy of the cookie stops working."""
    users.sign_out(current_engine(), current_user.get_id())
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/profile/sign-out-everywhere")
def sign_out_everywhere() -> ResponseReturnValue:
    users.sign_out_everywhere(current_engine(), me())
    logout_user()
    session.clear()
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language() -> ResponseReturnValue:
    chosen = request.form.get("locale")
    if chosen in LANGUAGES:
        session["locale"] = chosen
    return redirect(_safe_next(request.form.get("next")))


class ProfileForm(FlaskForm):
    # The service checks both (`users.set_profile`), so that a refused value is said beside its field.
    locale = SelectField(_l("Language"), choices=[("", _l("Browser default"))] + list(LANGUAGES.items()),
                         validate_choice=False)
    timezone = StringField(_l("Time zone"), render_kw={"maxlength": users.TIMEZONE_LENGTH})


@bp.route("/profile", methods=["GET", "POST"])
def profile() -> ResponseReturnValue:
    form = ProfileForm(data={"locale": current_user.locale or "", "timezone": current_user.timezone or ""})
    problems: dict[str, str] = {}
    status = 200
    if form.validate_on_submit():
        try:
            users.set_profile(current_engine(), me(), form.locale.data or None, (form.timezone.data or "").strip() or None)
        except InvalidData as exc:
            problems = {p.field: p.message for p in exc.field_problems}  # said through the `say` filter
            status = status_of(exc)
        else:
            session.pop("locale", None)
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, problems=problems), status
