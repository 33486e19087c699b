"""The organiser's decisions through the API: list an event's applications, admit or decline
several at once, invite someone by phone number.

Bearer tokens of organisers and admins; door staff get a 403 by role, and an event of another
organisation is a 404 like an unknown one. Every rule (who may act, places, all-or-nothing
batches, validation) is services.registrations.approval's, the same functions the back-office pages
call.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from .. import links
from ..errors import render_error
from ..models import Role
from ..ratelimits import limit_number_search
from ..services import access
from ..services.errors import RegistrationRefused, SessionFull, ValidationFailed
from ..services.registrations import approval
from ..services.registrations import registrants as registrant_rules
from . import schemas
from .auth import require_token, token_user
from .blueprint import MAX_PAGE, MAX_PER_PAGE, bp, json_object
from .schemas import registration_request

DEFAULT_PER_PAGE = 50


def applicant_json(row: registrant_rules.RegistrantRow) -> dict[str, Any]:
    return {
        "registration_id": row.registration_id,
        "session_id": row.session_id,
        "name": row.name,
        "phone_masked": row.phone,
        "party_size": row.party_size,
        "status": row.status.value,
        "applied_at": schemas.iso(row.registered_at),
        "answers": [{"question": a.question, "value": a.value} for a in row.answers],
    }


def _no_store(response, status: int = 200):
    """Answers about people stay out of every cache."""
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _full(refused: SessionFull):
    """409 `full` with the number of places left: what to tell the organiser."""
    body = {"error": refused.code, "message": refused.message,
            "places_left": refused.places_left}
    if isinstance(refused, approval.NotEnoughPlaces):
        body.update(session_id=refused.session_id, needed=refused.needed)
    return _no_store(jsonify(body), 409)


def _session_query() -> int | None:
    raw = request.args.get("session_id", "").strip()
    if not raw:
        return None
    if not raw.isdecimal() or len(raw) > 9:
        raise ValidationFailed({"session_id": _("Must be a whole number.")})
    return int(raw)


@bp.get("/events/<int:event_id>/applicants")
@require_token(Role.ORGANISER, Role.ADMIN)
@limit_number_search
def list_applicants(event_id: int):
    """One page of the applications waiting for a decision, and each session's places left."""
    event = access.editable_event(token_user(), event_id)
    errors: dict[str, str] = {}
    page = schemas.parse_positive(request.args.get("page"), "page", 1, MAX_PAGE, errors)
    per_page = schemas.parse_positive(request.args.get("per_page"), "per_page",
                                      DEFAULT_PER_PAGE, MAX_PER_PAGE, errors)
    if errors:
        raise ValidationFailed(errors)
    found = registrant_rules.registrants(
        event.id, session_id=_session_query(), status="applied", search=request.args.get("q"),
        limit=per_page, offset=(page - 1) * per_page)
    sessions = [{"id": d.session.id, "places_left": d.session.places_left,
                 "applied_parties": d.applied_parties, "applied_people": d.applied_people}
                for d in approval.demand(event)]
    return _no_store(jsonify(applicants=[applicant_json(r) for r in found.rows], page=page,
                             per_page=per_page, total=found.matching, sessions=sessions))


def _decision_body(event_id: int) -> dict[str, Any]:
    access.editable_event(token_user(), event_id)  # 404 and 403 before a 422 about the body
    return json_object()


@bp.post("/events/<int:event_id>/applicants/admit")
@require_token(Role.ORGANISER, Role.ADMIN)
def admit_applicants(event_id: int):
    """Admit all the listed applications or none: 409 `full` says how many places are left."""
    data = _decision_body(event_id)
    try:
        result = approval.admit(event_id, data.get("registration_ids"), token_user(),
                                data.get("message"))
    except SessionFull as full:
        return _full(full)
    except RegistrationRefused as refused:
        return render_error(409, refused.message, refused.code)
    return _no_store(jsonify(admitted=result.admitted, people=result.people,
                             unchanged=result.unchanged))


@bp.post("/events/<int:event_id>/applicants/decline")
@require_token(Role.ORGANISER, Role.ADMIN)
def decline_applicants(event_id: int):
    """Decline the listed applications; each applicant is told politely by text message."""
    data = _decision_body(event_id)
    try:
        result = approval.decline(event_id, data.get("registration_ids"), token_user(),
                                  data.get("message"))
    except RegistrationRefused as refused:
        return render_error(409, refused.message, refused.code)
    return _no_store(jsonify(declined=result.declined, unchanged=result.unchanged))


@bp.post("/events/<int:event_id>/invitations")
@require_token(Role.ORGANISER, Role.ADMIN)
def create_invitation(event_id: int):
    """A confirmed ticket for someone named by the organiser; it takes places like any other."""
    data = _decision_body(event_id)
    req, errors = registration_request(event_id, data)  # the same JSON types as registering
    errors.pop("consent", None)
    errors.pop("answers", None)
    if errors:
        raise ValidationFailed(errors)
    try:
        invited = approval.invite(event_id, req.session_id, req.name, req.phone,
                                  req.party_size, token_user())
    except SessionFull as full:
        return _full(full)
    except RegistrationRefused as refused:
        return render_error(409, refused.message, refused.code)
    ticket_url = links.ticket_url(invited.code)
    response = jsonify(code=invited.code, status=invited.status.value, ticket_url=ticket_url)
    response.headers["Location"] = ticket_url
    return _no_store(response, 201)
