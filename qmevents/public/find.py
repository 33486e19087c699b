"""Finding one's tickets again: a citizen who lost the link types their phone number, proves they
hold the phone with a one-time code, and sees every registration made with it.

The first answer is the same whether or not the number ever registered, and a code is only sent
when it did, so this page cannot be used to learn who signed up. The proof is a sign-in kept on
the server for FIND_SESSION_MINUTES (services/signins.py), the session cookie holding only its
token; "forget this phone" ends it sooner (a shared phone), wherever the cookie was copied to.
"""
from __future__ import annotations

from datetime import datetime

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError
from wtforms import StringField

from ..models import ENDED, Registration, RegistrationStatus
from ..ratelimits import limit_code_check, limit_otp
from ..services import otp, signins
from ..services.identity import mask_mobile, normalise_mobile
from ..services.messaging import messages
from ..services.registrations import codes
from ..timeutil import utcnow
from .blueprint import bp

PENDING_PHONE_KEY = "find_phone"  # the number a code was asked for, not yet proven
VERIFIED_KEY = "find_verified"  # the token of the phone's proof (services/signins.py)
CODE_LENGTH = otp.CODE_DIGITS

# How a registration's status looks as a badge (the colours of the whole site).
STATUS_TONE = {
    RegistrationStatus.CONFIRMED: "ok",
    RegistrationStatus.OFFERED: "warn",
    RegistrationStatus.WAITLISTED: "warn",
    RegistrationStatus.APPLIED: "plain",
    RegistrationStatus.DECLINED: "bad",
    RegistrationStatus.NOT_SELECTED: "bad",
    RegistrationStatus.CANCELLED: "plain",
}


class PhoneForm(FlaskForm):
    phone = StringField(_l("Mobile number"))


class CodeForm(FlaskForm):
    code = StringField(_l("Code from the text message"))


# --- step 1: the phone number --------------------------------------------------------------------


@bp.route("/my-tickets", methods=["GET", "POST"])
@limit_otp
def find_tickets():
    form = PhoneForm()
    if request.method == "GET":
        form.phone.data = form.phone.data or session.get(PENDING_PHONE_KEY, "")
        return _private(render_template("public/find_tickets.html", form=form,
                                        verified=mask_mobile(_verified_phone(quiet=True))))
    phone = normalise_mobile(form.phone.data) if form.validate_on_submit() else None
    if phone is None:
        form.phone.errors = [
            _("Enter a mainland mobile number of 11 digits, such as 13812345678.")
        ]
        return _private(render_template("public/find_tickets.html", form=form, verified=None), 400)
    _send_code_if_registered(phone)
    signins.end(session.pop(VERIFIED_KEY, None))  # one phone at a time in a browser
    session[PENDING_PHONE_KEY] = phone
    return redirect(url_for(".verify_tickets_code"), 303)


def _send_code_if_registered(phone: str) -> None:
    """A code only goes to a number that has registered: nobody else is texted by us."""
    if codes.tickets_for_phone(phone):
        messages.one_time_code(phone, otp.issue(phone))


# --- step 2: the code ----------------------------------------------------------------------------


@bp.route("/my-tickets/verify", methods=["GET", "POST"])
@limit_code_check
def verify_tickets_code():
    phone = session.get(PENDING_PHONE_KEY)
    if not phone:
        return redirect(url_for(".find_tickets"), 303)
    form = CodeForm()
    if request.method == "POST" and form.validate_on_submit():
        typed = "".join((form.code.data or "").split())
        if len(typed) != CODE_LENGTH or not typed.isdigit():
            form.code.errors = [_("Enter the %(n)d digits of the code.", n=CODE_LENGTH)]
        elif otp.verify(phone, typed):
            session.pop(PENDING_PHONE_KEY, None)
            session[VERIFIED_KEY] = signins.start_for_phone(phone)
            return redirect(url_for(".my_tickets"), 303)
        else:
            form.code.errors = [_("This code is not right, or it has expired or been used. "
                                  "Check the text message, or ask for a new code.")]
    status = 400 if request.method == "POST" else 200
    return _private(render_template(
        "public/find_verify.html", form=form, masked=mask_mobile(phone), digits=CODE_LENGTH,
        minutes=max(int(current_app.config["OTP_TTL_SECONDS"]) // 60, 1),
    ), status)


# --- step 3: the tickets -------------------------------------------------------------------------


@bp.route("/my-tickets/list")
def my_tickets():
    phone = _verified_phone()
    if phone is None:
        return redirect(url_for(".find_tickets"), 303)
    now = utcnow()
    tickets = upcoming_first(codes.tickets_for_phone(phone), now)
    return _private(render_template(
        "public/my_tickets.html", tickets=tickets, masked=mask_mobile(phone), now=now,
        tone=STATUS_TONE, ended=ENDED, ticket_url=ticket_url,
    ))


@bp.route("/my-tickets/forget", methods=["POST"])
def forget_phone():
    signins.end(session.pop(VERIFIED_KEY, None))
    session.pop(PENDING_PHONE_KEY, None)
    flash(_("This browser no longer shows your tickets."), "success")
    return redirect(url_for(".find_tickets"), 303)


def upcoming_first(tickets: list[Registration], now: datetime) -> list[Registration]:
    """Sessions still to come first, the soonest on top (the ticket needed next); then the
    ones that are over, the latest on top."""
    coming = sorted((t for t in tickets if t.session.ends_at > now),
                    key=lambda t: (t.session.starts_at, -t.id))
    over = sorted((t for t in tickets if t.session.ends_at <= now),
                  key=lambda t: (t.session.starts_at, t.id), reverse=True)
    return coming + over


def ticket_url(code: str) -> str:
    """The ticket page; `/t/<code>` until the ticket endpoint is registered."""
    try:
        return url_for("public.ticket", code=code)
    except BuildError:
        return f"/t/{code}"


# --- the proof in the session --------------------------------------------------------------------


def _verified_phone(quiet: bool = False) -> str | None:
    """The phone proven in this browser whose proof is still live, or None (and forgotten)."""
    token = session.get(VERIFIED_KEY)
    if token is None:
        return None
    phone = signins.phone_for(token)
    if phone is not None:
        return phone
    session.pop(VERIFIED_KEY, None)
    if not quiet:
        flash(_("For your privacy the list closes after a while. Enter your number again."),
              "warning")
    return None


def _private(body: str, status: int = 200):
    """Personal pages are never kept by a browser or proxy cache (shared phones, WeChat)."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response
