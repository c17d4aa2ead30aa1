"""Log in, log out and the UI language switch."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from engine.store.models import User

from ..extensions import LOCALES, db, state
from ..identity import SignedInUser

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

# Compared against when the username is unknown, so both paths cost one hash check.
_DUMMY_HASH = "scrypt:32768:8:1$0000000000000000$" + "0" * 128


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=120)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


def _home_for(user: SignedInUser) -> str:
    return url_for("leads.index")


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        address = request.remote_addr or "?"
        throttles = state().user_throttle, state().address_throttle
        wait = max(throttles[0].retry_after(username), throttles[1].retry_after(address))
        if wait:
            log.warning("login throttled for user %r from %s", username, address)
            flash(gettext("Too many failed attempts. Try again in %(s)s seconds.", s=wait), "error")
            return render_template("login.html", form=form), 429
        user = db().scalar(select(User).where(func.lower(User.username) == username))
        valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, form.password.data)
        if user is not None and valid and user.active:
            throttles[0].succeeded(username)
            session.clear()
            login_user(SignedInUser.load(db(), user.id))
            log.info("user %r logged in from %s", username, address)
            return redirect(_safe_next() or _home_for(current_user))
        throttles[0].failed(username)
        throttles[1].failed(address)
        log.warning("failed login for user %r from %s", username, address)
        flash(gettext("Wrong username or password."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form), status


def _safe_next() -> str | None:
    target = request.args.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else None


@bp.route("/logout", methods=["POST"])
@login_required
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():  # type: ignore[no-untyped-def]
    """Switch the UI language; remembered on the user when signed in."""
    lang = request.form.get("lang", "")
    if lang in LOCALES:
        session["lang"] = lang
        if current_user.is_authenticated:
            db().get(User, current_user.id).locale = lang
            db().commit()
    return redirect(_safe_next() or url_for("auth.root"))


@bp.route("/")
def root():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    return redirect(url_for("auth.login"))
