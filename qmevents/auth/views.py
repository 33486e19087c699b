"""Sign-in for organisers, staff and the city's admins, sign-out, and changing one's password.

A sign-in is a row on the server (services/signins.py); the signed session cookie carries only its
random token. Flask-Login keeps whatever identifies the signed-in user in `session["_user_id"]`
and hands it back to the user loader on every request: here that is the sign-in's token, not the
user's id (Flask-Login's "alternative tokens"), so the loader finds the user only while that
sign-in is live and the account active. The token belongs to the sign-in, not to the user, which
is why it is put there by `start_session` rather than by `User.get_id()`. A remember-me cookie is
never set (`login_user` is not asked to remember); one sent anyway carries the same kind of value
and meets the same loader.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..errors import render_error
from ..extensions import login_manager
from ..models import Role, User
from ..requestlog import note_user
from ..services import access, accounts, invitations, signins
from ..services.errors import ValidationFailed
from .blueprint import bp
from .forms import ChangePasswordForm, LoginForm
from .signin import start_session
from .throttle import limit_sign_in


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The user of a live sign-in with this token, active; None signs the browser out (and the
    dead token leaves its cookie, so it is not looked up again)."""
    user = signins.user_for(token)
    if user is None:
        session.pop("_user_id", None)
    note_user(user.id if user else None)
    return user


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
@limit_sign_in
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
            start_session(user, signins.start_for_user(user))
            return redirect(_safe_next(form.next.data) or home_for(user))
    status = 200 if request.method == "GET" or not form.errors else 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Ends this browser's sign-in on the server: a copy of its cookie no longer signs anyone in.
    The account's other sign-ins (door staff share an account across phones) go on."""
    signins.end(session.get("_user_id"))
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limit_sign_in
def change_password():
    """Change one's own password: the current one first, the new one twice. Every other sign-in
    of the account ends; this browser gets a fresh one."""
    if access.is_door_device(current_user):  # a paired phone never signs in by password
        return render_error(403)
    form = ChangePasswordForm()
    first = not accounts.has_password(current_user)
    if first:  # signed in by a one-time link: there is no current password to prove
        del form.current_password
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            token = accounts.change_password(
                user, None if first else form.current_password.data, form.password.data)
        except ValidationFailed as exc:
            for name, message in exc.errors.items():
                form[name].errors = [*form[name].errors, message]
            # A new password refused (too common…) after the right current one guessed nothing:
            # it does not spend the account's sign-in budget (auth/throttle.py).
            g.no_guess = "current_password" not in exc.errors
        else:
            start_session(user, token)
            flash(_("Your password is changed. Other phones and computers signed in with this "
                    "account are signed out."), "success")
            return redirect(home_for(user), 303)
    status = 200 if request.method == "GET" else 400
    return render_template("auth/change_password.html", form=form, first=first,
                           min_length=accounts.MIN_PASSWORD_LENGTH), status


# --- one-time sign-in links (services/invitations.py) --------------------------------------------


@bp.route("/signin/<token>", methods=["GET", "POST"])
@limit_sign_in
def sign_in_link(token: str):
    """A one-time sign-in link. Opening it (GET) only asks to confirm: a mail scanner or a chat
    app's link preview must not use it up; the button (POST) signs this browser in, once."""
    link = invitations.peek(token)
    if link is None:
        return render_template("auth/sign_in_link.html", link=None), 410
    if request.method == "GET":
        return render_template("auth/sign_in_link.html", link=link, token=token)
    link = invitations.consume(token)
    if link is None:
        return render_template("auth/sign_in_link.html", link=None), 410
    user = link.user
    start_session(user, signins.start_for_user(user))
    if not accounts.has_password(user) and user.role != Role.STAFF:
        flash(_("Welcome. Choose a password for your next sign-in."), "info")
        return redirect(url_for(".change_password"), 303)
    flash(_("You are signed in."), "success")
    if link.event_id is not None:
        return redirect(url_for("door.scan", event_id=link.event_id), 303)
    return redirect(home_for(user), 303)

