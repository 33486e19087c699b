"""Who works an event's door, from the event page: door staff (an existing staff account, or a
new one invited by a one-time sign-in link shown as a QR and sent), and phones paired as door
devices by a QR (services/staffing.py, invitations.py, devices.py). And the organisation's own
members: colleagues invited the same way, removed, never the last organiser."""
from __future__ import annotations

import base64

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField

from ..models import Event, User
from ..services import access, devices, invitations, staffing, tickets
from ..services.accounts import normalise_email
from ..services.errors import Forbidden, NotFound, ValidationFailed
from .blueprint import bp, editable_event


class PersonForm(FlaskForm):
    """Who to add or invite (door staff, a colleague). Only parsed here: services.invitations
    checks the values, and its messages go back next to the fields."""

    email = EmailField(_l("E-mail"), render_kw={"maxlength": 254, "autocomplete": "off"})
    phone = StringField(_l("Mobile (optional)"), render_kw={
        "type": "tel", "inputmode": "tel", "maxlength": 20, "autocomplete": "off"})

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            target = self._fields.get(name, self.email)
            target.errors = [*target.errors, message]


class DeviceForm(FlaskForm):
    name = StringField(_l("Device name"), render_kw={
        "maxlength": devices.MAX_NAME, "autocomplete": "off", "placeholder": "东门 2 号机"})

    def add_errors(self, errors: dict[str, str]) -> None:
        for message in errors.values():
            self.name.errors = [*self.name.errors, message]


def _actor() -> User:
    return current_user._get_current_object()


def qr_image(url: str) -> str:
    """The QR of `url` as an image address the page can show (img-src data: is allowed)."""
    return "data:image/svg+xml;base64," + base64.b64encode(tickets.qr_svg(url).encode()).decode()


def _team_page(event: Event, status: int = 200, staff_errors: dict | None = None,
               device_errors: dict | None = None, **shown):
    """The page, with what was typed and the service's messages next to their fields."""
    # What was typed stays only next to its messages; after a success the form is empty again.
    person = PersonForm() if staff_errors else PersonForm(formdata=None)
    device = DeviceForm() if device_errors else DeviceForm(formdata=None)
    person.add_errors(staff_errors or {})
    device.add_errors(device_errors or {})
    return render_template("organiser/team.html", event=event,
                           staff=staffing.staff_of(event.id), devices=devices.devices_of(event),
                           qr_image=qr_image, person=person, device=device, **shown), status


@bp.get("/events/<int:event_id>/team")
@login_required
def team(event_id: int):
    return _team_page(editable_event(event_id))[0]


@bp.post("/events/<int:event_id>/team/staff")
@login_required
def add_staff(event_id: int):
    """An existing door staff account joins at once; an address without an account is invited
    with a one-time sign-in link, shown here as a QR and sent."""
    event = editable_event(event_id)
    email = request.form.get("email", "")
    try:
        invitation = invitations.add_staff(event, email, _actor(), request.form.get("phone"),
                                           send_link=bool(request.form.get("send_link")))
    except (ValidationFailed, NotFound) as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"email": exc.message}
        return _team_page(event, 400, staff_errors=errors)
    if invitation is None:
        flash(_("%(email)s can scan at this event's door now.", email=normalise_email(email)),
              "success")
        return redirect(url_for(".team", event_id=event.id), 303)
    return _team_page(event, invitation=invitation)


@bp.post("/events/<int:event_id>/team/staff/<int:user_id>/link")
@login_required
def staff_link(event_id: int, user_id: int):
    """A fresh one-time sign-in link for a member of the door staff (a new phone)."""
    event = editable_event(event_id)
    try:
        invitation = invitations.new_staff_link(event, user_id, _actor())
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        return _team_page(event, 409, staff_errors=exc.errors)
    return _team_page(event, invitation=invitation)


@bp.post("/events/<int:event_id>/team/staff/<int:user_id>/remove")
@login_required
def remove_staff(event_id: int, user_id: int):
    event = editable_event(event_id)
    try:
        staffing.unassign_user(event.id, user_id, _actor())
    except NotFound:
        abort(404)
    flash(_("Removed from the door staff: their next scan at this event is refused."), "success")
    return redirect(url_for(".team", event_id=event.id), 303)


@bp.post("/events/<int:event_id>/team/devices")
@login_required
def add_device(event_id: int):
    event = editable_event(event_id)
    try:
        pairing = devices.add(event, request.form.get("name", ""), _actor())
    except ValidationFailed as exc:
        return _team_page(event, 400, device_errors=exc.errors)
    return _team_page(event, pairing=pairing)


@bp.post("/events/<int:event_id>/team/devices/<int:device_id>/pairing")
@login_required
def device_pairing(event_id: int, device_id: int):
    """A new pairing QR for a device that is not paired yet."""
    event = editable_event(event_id)
    try:
        pairing = devices.renew_pairing(event, device_id)
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        return _team_page(event, 409, device_errors=exc.errors)
    return _team_page(event, pairing=pairing)


@bp.post("/events/<int:event_id>/team/devices/<int:device_id>/revoke")
@login_required
def revoke_device(event_id: int, device_id: int):
    event = editable_event(event_id)
    try:
        device = devices.revoke(event, device_id, _actor())
    except NotFound:
        abort(404)
    flash(_("%(name)s is switched off: it can no longer scan.", name=device.name), "success")
    return redirect(url_for(".team", event_id=event.id), 303)


# --- the organisation's members ---------------------------------------------------------------


def _my_organisation() -> int:
    if not access.may_manage_members(current_user):
        abort(403)
    return current_user.organisation_id


def _members_page(status: int = 200, errors: dict | None = None, **shown):
    person = PersonForm() if errors else PersonForm(formdata=None)
    person.add_errors({k: v for k, v in (errors or {}).items() if k != "member"})
    return render_template("organiser/members.html",
                           organisation=current_user.organisation,
                           members=invitations.members(_my_organisation()),
                           qr_image=qr_image, person=person, errors=errors or {}, **shown), status


@bp.get("/organisation/members")
@login_required
def members():
    return _members_page()[0]


@bp.post("/organisation/members")
@login_required
def invite_member():
    _my_organisation()
    try:
        invitation = invitations.invite_member(_actor(), request.form.get("email", ""),
                                               request.form.get("phone"))
    except ValidationFailed as exc:
        return _members_page(400, errors=exc.errors)
    return _members_page(invitation=invitation)


@bp.post("/organisation/members/<int:user_id>/remove")
@login_required
def remove_member(user_id: int):
    _my_organisation()
    try:
        member = invitations.remove_member(_actor(), user_id)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except ValidationFailed as exc:
        return _members_page(409, errors=exc.errors)
    flash(_("%(email)s is removed: signed out everywhere, and can no longer sign in.",
            email=member.email), "success")
    return redirect(url_for(".members"), 303)
