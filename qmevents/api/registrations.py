"""POST /api/v1/events/<event_id>/registrations: a citizens' app registers a party for a session;
POST /api/v1/phone-codes: the code that proves the phone first, where the event asks for it.

No token: the apps of citizens call it, so it is rate-limited instead. The view only checks JSON
types (a string where a string belongs); every rule about places, windows, duplicates and answers
is services.registrations.register.register's, the same function the public page calls. Places are
taken there by a conditional UPDATE, so the count holds across gunicorn workers and servers.
"""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from .. import links
from ..errors import render_error
from ..extensions import db
from ..ids import is_row_id
from ..models import Event, EventStatus
from ..ratelimits import limit_otp, limit_registration
from ..services.errors import NotFound, RegistrationRefused, ValidationFailed
from ..services.registrations import phone_codes, series
from ..services.registrations.register import register
from .blueprint import bp, json_object
from .schemas import registration_request


@bp.post("/events/<int:event_id>/registrations")
@limit_registration
def create_registration(event_id: int):
    """201 with the ticket; 409 `full`/`closed`/`duplicate`; 422 per field; 404 for an event that
    is unknown or not published (or, for `session_ids`, offers no series pass)."""
    data = json_object()
    req, errors = registration_request(event_id, data)
    if errors:
        _refuse_unknown_event(event_id)  # 404 before 422, as for a valid body
        raise ValidationFailed(errors)
    session_ids = data.get("session_ids")
    try:
        if session_ids is None:
            registered = register(req)
        else:  # a series pass: every chosen session or none (services/registrations/series.py)
            registered = series.register_series(req, session_ids)
    except ValidationFailed as failed:
        if "sessions" in failed.errors:  # the form's field is this body's `session_ids`
            failed.errors["session_ids"] = failed.errors.pop("sessions")
        raise
    except RegistrationRefused as refused:
        return render_error(409, refused.message, refused.code)
    ticket_url = links.ticket_url(registered.code)  # the service has sent it by SMS too
    response = jsonify(code=registered.code, status=registered.status.value,
                       ticket_url=ticket_url)
    response.status_code = 201
    response.headers["Location"] = ticket_url
    response.headers["Cache-Control"] = "no-store"  # the code is the ticket
    return response


@bp.post("/phone-codes")
@limit_otp
def send_phone_code():
    """202 and a code by SMS to the phone, whatever the number (nothing says whether it is
    known); 422 for a number that is not a mainland mobile; 429 past the limits."""
    data = json_object()
    phone = data.get("phone")
    if not isinstance(phone, str):
        raise ValidationFailed({"phone": _("This field is required: a mainland mobile number.")})
    sent = phone_codes.send(phone)
    response = jsonify(expires_in=sent.expires_in, message=_(
        "A code has been sent to %(phone)s by text message.", phone=sent.masked))
    response.status_code = 202
    return response




def _refuse_unknown_event(event_id: int) -> None:
    event = db.session.get(Event, event_id) if is_row_id(event_id) else None
    if event is None or event.status == EventStatus.DRAFT:
        raise NotFound(_("No such event."))
