"""A citizen registers a party for one session (场次): the form, and the refusals with reasons.

Every rule is services.registrations.register's: whether the session is open (`availability`), what
a valid name, phone, party or answer is, whether places are left. This page only shows the form,
hands what was typed to `register`, and puts the answer where a person looks for it.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from .. import labels
from ..errors import render_error
from ..models import Event, EventSession, RegistrationMode, RegistrationStatus
from ..ratelimits import limit_otp, limit_registration
from ..services import listings
from ..services.errors import DuplicateRegistration, NotFound, RegistrationRefused, ValidationFailed
from ..services.messaging import outbox
from ..services.registrations import phone_codes, series
from ..services.registrations.register import (
    Availability,
    RegistrationRequest,
    availability,
    refusal_reason,
)
from ..services.registrations.register import register as register_party
from .blueprint import bp
from .forms import RegistrationForm

# Where people who already registered find their tickets, until public.find_tickets exists.
FIND_TICKETS_FALLBACK = "/my-tickets"

_ACTION = {
    RegistrationMode.APPROVAL: _l("Apply"),
    RegistrationMode.LOTTERY: _l("Enter the lottery"),
}


@bp.route("/events/<int:event_id>/sessions/<int:session_id>/register", methods=["GET", "POST"])
@limit_registration
def register(event_id: int, session_id: int):
    """GET: the form, or why the session takes no registrations. POST: register, then the ticket."""
    event, session, form, refused = _open_form(event_id, session_id)
    if refused is not None:  # no such session, or it takes no registrations now
        return refused
    if not form.is_submitted():
        return _page(event, session, form)
    if not form.validate():  # only the CSRF token has validators, and the app answers that
        return _page(event, session, form, status=400)

    try:
        asked = RegistrationRequest(
            event_id=event.id, session_id=session.id, name=form.name.data,
            phone=form.phone.data, party_size=form.party_size.data, answers=form.answers(),
            consent=bool(form.consent.data), source="web", phone_code=form.phone_code.data,
        )
        if _series_asked(event):  # 系列通票: the sessions ticked, in one registration
            registered = series.register_series(asked, request.form.getlist("sessions"))
        else:
            registered = register_party(asked)
    except ValidationFailed as failed:
        form.add_errors(failed.errors)
        return _page(event, session, form, status=400)
    except DuplicateRegistration as refused:
        return _page(event, session, form, refusal=refused.message, duplicate=True, status=409)
    except RegistrationRefused as refused:
        return _page(event, session, form, refusal=refused.message, status=409)
    except NotFound:
        return render_error(404, _("This session does not exist or is no longer shown."))

    flash(_registered_message(registered.status), "success")
    return redirect(url_for("public.ticket", code=registered.code), 303)


@bp.post("/events/<int:event_id>/sessions/<int:session_id>/phone-code")
@limit_otp
def send_phone_code(event_id: int, session_id: int):
    """The form's "Get the code" button (获取验证码): text the code to the phone typed, then the
    same form again with everything typed kept, so the citizen types the code and registers."""
    event, session, form, refused = _open_form(event_id, session_id)
    if refused is not None:
        return refused
    if not form.validate() or not event.verify_phone:
        return _page(event, session, form, status=400)
    try:
        sent = phone_codes.send(form.phone.data)
    except ValidationFailed as failed:
        form.add_errors(failed.errors)
        return _page(event, session, form, status=400)
    return _page(event, session, form, code_sent=CodeSent(sent.masked, sent.expires_in // 60))


def _open_form(event_id: int, session_id: int) -> tuple:
    """(event, session, form, None) when the session takes registrations now; else the last is
    the answer to give: a 404 for a session citizens cannot see, or the page with the reason
    why not (409 when something was sent)."""
    found = _event_and_session(event_id, session_id)
    if found is None:
        return None, None, None, render_error(
            404, _("This session does not exist or is no longer shown."))
    event, session = found
    form = RegistrationForm.for_event(event)
    state = availability(event, session)
    if state != Availability.OPEN:
        return event, session, form, _page(
            event, session, form, refusal=refusal_reason(state),
            status=409 if form.is_submitted() else 200)
    return event, session, form, None


@dataclass(frozen=True)
class CodeSent:
    masked: str
    minutes: int


def _event_and_session(event_id: int, session_id: int) -> tuple[Event, EventSession] | None:
    """The event as citizens may see it (drafts for their organisers only) and one of its own
    sessions; anything else is None, shown as a 404."""
    viewer = current_user if current_user.is_authenticated else None
    try:
        event = listings.public_event(event_id, viewer=viewer)
    except NotFound:
        return None
    session = next((s for s in event.sessions if s.id == session_id), None)
    return (event, session) if session is not None else None


def _series_asked(event: Event) -> bool:
    """The form of a series pass (?series=1 on an event that offers one)."""
    return request.args.get("series") == "1" and series.offered(event)


def _series_choices(event: Event) -> list[tuple[EventSession, bool]] | None:
    """The sessions a pass may hold, each ticked or not: as sent, else all of them."""
    if not _series_asked(event):
        return None
    sent = request.form.getlist("sessions") if request.method == "POST" else \
        request.args.getlist("sessions")
    return [(s, not sent or str(s.id) in sent) for s in series.open_sessions(event)]


def _page(event: Event, session: EventSession, form: RegistrationForm, *,
          refusal: str | None = None, duplicate: bool = False, status: int = 200,
          code_sent: CodeSent | None = None):
    open_now = availability(event, session) == Availability.OPEN
    return render_template(
        "public/register.html", event=event, session=session, form=form, refusal=refusal,
        find_tickets=find_tickets_url() if duplicate else None, show_form=open_now,
        days=int(current_app.config.get("PERSONAL_DATA_DAYS", 30)), code_sent=code_sent,
        # The demo's outbox sends nothing: say where its codes can be read.
        outbox_demo=outbox.backend_name() == outbox.OutboxBackend.name,
        series_choices=_series_choices(event),
    ), status


def _registered_message(status: RegistrationStatus) -> str:
    if status == RegistrationStatus.CONFIRMED:
        return _("You are registered.")
    return _("Registration received: %(status)s", status=labels.REGISTRATION_STATUS[status])


def find_tickets_url() -> str:
    """The find-my-tickets page; its fixed address while that page is not there yet."""
    try:
        return url_for("public.find_tickets")
    except BuildError:
        return FIND_TICKETS_FALLBACK


# --- for templates: the event page and this form ask the same service -----------------------


@bp.app_template_global()
def session_availability(event: Event, session: EventSession) -> Availability:
    """Whether `session` takes registrations now, or why not (services.registrations.register's
    rule)."""
    return availability(event, session)


bp.add_app_template_global(refusal_reason, "refusal_reason")


@bp.app_template_global()
def register_label(event: Event, session: EventSession) -> str:
    """The button's words: what pressing it does in this event's mode."""
    if event.registration_mode in _ACTION:
        return str(_ACTION[event.registration_mode])
    if event.registration_mode == RegistrationMode.WAITLIST and session.places_left <= 0:
        return _("Join the waiting list")
    return _("Register")
