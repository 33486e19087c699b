"""Sign-in for organisers, staff and the city's admins."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import render_error
from ..extensions import db, limiter, login_manager
from ..models import User
from ..services import accounts
from .forms import LoginForm

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _email_key() -> str:
    return "login:" + accounts.normalise_email(request.form.get("email", ""))


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site, so a crafted link cannot send people elsewhere after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: User) -> str:
    return url_for("organiser.events")


def _here() -> str | None:
    """Where to continue after signing in: the page asked for, when it is a page (a GET)."""
    if request.method not in ("GET", "HEAD"):
        return None
    query = request.query_string.decode("utf-8", "replace")
    return request.path + ("?" + query if query else "")


@login_manager.unauthorized_handler
def sign_in_first():
    """A back-office page asked for without signing in: 401 with the sign-in form on the page,
    which posts to /login and then continues to the page that was asked for. The API answers
    its 401 in JSON; nothing about the page itself is shown."""
    if request.path.startswith("/api/"):
        return render_error(401)
    form = LoginForm(formdata=None)
    form.next.data = _safe_next(_here()) or ""
    return render_template("auth/login.html", form=form), 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_email_key)
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong e-mail or password."))
        else:
            session.clear()  # a fresh session on sign-in: no fixation
            login_user(user)
            return redirect(_safe_next(form.next.data) or home_for(user))
    status = 200 if request.method == "GET" or not form.errors else 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("public.index"))

