"""JSON API under /api/v1: bearer tokens and events. Views parse JSON, call one service and answer
JSON; domain errors become statuses here, in one place:
ValidationFailed → 422 `{"errors": {path: message}}`, NotFound → 404, Forbidden → 403,
InvalidTransition → 409, all others `{"error", "message"}` (see qmevents/errors.py)."""
from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.throttle import limit_sign_in
from ..extensions import db
from ..models import Event, Organisation, Role, User
from ..services import access, accounts, events, listings
from ..services.errors import ValidationFailed
from . import openapi, schemas
from .auth import bearer_token, optional_token, require_token, token_user, unauthorised
from .blueprint import MAX_PAGE, MAX_PER_PAGE, bp, json_object

# --- tokens -------------------------------------------------------------------------------------


@bp.post("/token")
@limit_sign_in  # the sign-in page's budgets, per account and per address: one count for both
def issue_token():
    """Exchange an e-mail and password for a bearer token (shown once, stored hashed)."""
    data = json_object()
    errors: dict[str, str] = {}
    for key in ("email", "password"):
        value = data.get(key)
        if not isinstance(value, str) or not value:
            errors[key] = (_("Must be a string.") if value not in (None, "")
                           else _("This field is required."))
    if errors:
        raise ValidationFailed(errors)
    user = accounts.authenticate(data["email"], data["password"])
    if user is None:
        return unauthorised(_("Wrong e-mail or password."), "invalid_credentials")
    token, row = accounts.issue_token(user)
    response = jsonify(token=token, expires_at=schemas.iso(row.expires_at))
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/token")
@require_token()
def revoke_token():
    """Revoke the token this request was sent with."""
    accounts.revoke_token(bearer_token() or "")
    return "", 204


# --- events -------------------------------------------------------------------------------------


@bp.get("/events")
@optional_token
def list_events():
    """Published events with a session to come, soonest first; a token adds the drafts its user
    may edit. Filters as on the public list."""
    args = request.args
    errors: dict[str, str] = {}
    flt = listings.ListingFilter(
        district=args.get("district") or None,
        kind=args.get("kind") or None,
        date_from=schemas.parse_date(args.get("date_from"), "date_from", errors),
        date_to=schemas.parse_date(args.get("date_to"), "date_to", errors),
    )
    page = schemas.parse_positive(args.get("page"), "page", 1, MAX_PAGE, errors)
    per_page = schemas.parse_positive(
        args.get("per_page"), "per_page",
        min(current_app.config["EVENTS_PER_PAGE"], MAX_PER_PAGE), MAX_PER_PAGE, errors,
    )
    if errors:
        raise ValidationFailed({**flt.errors(), **errors})
    listed, total = listings.list_public_events(
        flt, limit=per_page, offset=(page - 1) * per_page, viewer=token_user()
    )
    found = [listing.event for listing in listed]
    _load_sessions_and_checkpoints(found)
    return jsonify(events=[schemas.event_json(e) for e in found],
                   page=page, per_page=per_page, total=total)


def _load_sessions_and_checkpoints(found: list[Event]) -> None:
    """Three queries for the whole page instead of three per event."""
    if found:
        db.session.scalars(
            select(Event)
            .where(Event.id.in_([e.id for e in found]))
            .options(selectinload(Event.sessions), selectinload(Event.checkpoints),
                     selectinload(Event.tallies))
        ).all()


@bp.get("/events/<int:event_id>")
@optional_token
def event(event_id: int):
    """One event: published or cancelled for anyone, a draft for those who may edit it."""
    return jsonify(schemas.event_json(listings.public_event(event_id, viewer=token_user())))


@bp.post("/events")
@require_token(Role.ORGANISER, Role.ADMIN)
def create_event():
    """A new event of the organiser's organisation (an admin names the organisation)."""
    data = json_object()
    draft, errors = schemas.event_draft(data)
    publish = schemas.publish_requested(data, errors)
    organisation_id = _organisation_id(token_user(), data, errors)
    if errors:
        raise ValidationFailed(schemas.without_shadowed(events.validate(draft), errors))
    created = events.create_event(organisation_id, draft, publish=publish)
    response = jsonify(schemas.event_json(created))
    response.status_code = 201
    response.headers["Location"] = url_for("api.event", event_id=created.id)
    return response


def _organisation_id(user: User, data: dict[str, Any], errors: dict[str, str]) -> int | None:
    """An organiser creates for their own organisation; an admin must say which one, by name."""
    name = data.get("organisation")
    if name is not None and not isinstance(name, str):
        errors["organisation"] = _("Must be a string.")
        return None
    name = (name or "").strip()
    if not access.may_choose_organisation(user):
        if name and (user.organisation is None or name != user.organisation.name):
            errors["organisation"] = _("You can only create events for your own organisation.")
        return user.organisation_id
    if not name:
        errors["organisation"] = _("Name the organisation the event belongs to.")
        return None
    organisation = db.session.scalar(select(Organisation).filter_by(name=name))
    if organisation is None:
        errors["organisation"] = _("No organisation has this name.")
        return None
    return organisation.id


# --- the description of all this ---------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())
