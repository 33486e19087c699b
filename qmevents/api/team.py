"""An event's door team over the API: its door staff (GET/POST /events/<id>/staff,
DELETE /events/<id>/staff/<user_id>), and a scanner app's pairing as a door device
(POST /devices/pair: the pairing QR's secret for a bearer token limited to that event's door)."""
from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _

from ..errors import render_error
from ..models import Role, User
from ..services import access, accounts, devices, invitations, staffing
from ..services.errors import ValidationFailed
from . import schemas
from .auth import require_token, token_user
from .blueprint import bp, json_object, text_field


def _staff_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "active": user.active}


def _editable(event_id: int):
    return access.editable_event(token_user(), event_id)


@bp.get("/events/<int:event_id>/staff")
@require_token(Role.ORGANISER, Role.ADMIN)
def list_staff(event_id: int):
    event = _editable(event_id)
    return jsonify(items=[_staff_json(u) for u in staffing.staff_of(event.id)])


@bp.post("/events/<int:event_id>/staff")
@require_token(Role.ORGANISER, Role.ADMIN)
def add_staff(event_id: int):
    """{"email"}: an existing door staff account joins the event's door. With "invite": true an
    address without an account gets a new one and a one-time sign-in link (also sent by e-mail,
    and by SMS to "phone"), returned as sign_in_url."""
    event = _editable(event_id)
    data = json_object()
    errors: dict[str, str] = {}
    email = text_field(data, "email", errors, required=True)
    phone = text_field(data, "phone", errors)
    invite = data.get("invite", False)
    if not isinstance(invite, bool):
        errors["invite"] = _("Must be true or false.")
    if errors:
        raise ValidationFailed(errors)
    actor = token_user()
    if invite:
        invitation = invitations.invite_staff(event, email, actor, phone)
        body = _staff_json(invitation.user)
        if invitation.shown:  # an account in use gets its link at its own e-mail only
            body.update(sign_in_url=invitation.url,
                        sign_in_url_expires_at=schemas.iso(invitation.expires_at))
    else:
        body = _staff_json(staffing.assign(event.id, email, actor))
    response = jsonify(body)
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/events/<int:event_id>/staff/<int:user_id>")
@require_token(Role.ORGANISER, Role.ADMIN)
def remove_staff(event_id: int, user_id: int):
    """The account stops scanning at this event from its next request, cookie or token."""
    event = _editable(event_id)
    if not staffing.unassign_user(event.id, user_id, token_user()):
        return render_error(404, _("This account is not on the event's door staff."), "not_found")
    return "", 204


@bp.post("/devices/pair")
def pair_device():
    """{"secret"}: the secret of a pairing QR (the last part of its /door/pair/ address), once,
    for a bearer token of the device: it scans and reads figures at its one event only."""
    errors: dict[str, str] = {}
    secret = text_field(json_object(), "secret", errors, required=True)
    if errors:
        raise ValidationFailed(errors)
    device = devices.pair(secret)
    if device is None:
        return render_error(410, _("This pairing code is unknown, used or expired. Ask for a new "
                                   "one."), "pairing_expired")
    token, row = accounts.issue_token(device.user)
    response = jsonify(token=token, expires_at=schemas.iso(row.expires_at), device=device.name,
                       event_id=device.event_id)
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response
