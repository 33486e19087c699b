"""代报名 on the hotline: bureau staff register a citizen who phoned, then read them the short
door code (services/registrations/hotline.py decides who may and what is taken)."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField

from ..extensions import db
from ..ids import is_row_id
from ..models import Registration
from ..services import access
from ..services.errors import Forbidden, RegistrationRefused, ValidationFailed
from ..services.identity import mask_mobile
from ..services.registrations import hotline
from ..services.registrations.short_codes import spelled
from .blueprint import bp, visible_event


class HotlineForm(FlaskForm):
    session_id = StringField(_l("Session"))  # radios of the event's sessions, in the template
    name = StringField(_l("Name"))
    phone = StringField(_l("Mobile number"))
    party_size = StringField(_l("People in the party"), default="1")
    consent = BooleanField(_l("I read the privacy notice to the caller and they agreed"))

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            target = self[name] if name in self else self.name
            target.errors = [*target.errors, message]


@bp.route("/events/<int:event_id>/hotline", methods=["GET", "POST"])
@login_required
def hotline_register(event_id: int):
    """GET: the form (or, after registering, the door code to read out); POST: register."""
    event = visible_event(event_id)
    if not access.may_register_by_phone(current_user, event):
        abort(403)
    form = HotlineForm()
    if request.method == "GET":
        done = _made(event.id, request.args.get("done", ""))
        first = next((s.id for s in event.sessions if s.places_left), None)
        form.session_id.data = request.args.get("session_id") or first
        return render_template("organiser/hotline.html", event=event, form=form, refusal=None,
                               done=done, spelled=spelled, mask_mobile=mask_mobile)
    try:
        made = hotline.register_by_phone(
            current_user._get_current_object(), event.id, form.session_id.data, form.name.data,
            form.phone.data, form.party_size.data, bool(form.consent.data))
    except ValidationFailed as exc:
        form.add_errors(exc.errors)
        return _page(event, form, None, 400)
    except Forbidden:
        abort(403)
    except RegistrationRefused as exc:
        return _page(event, form, exc.message, 409)
    return redirect(url_for(".hotline_register", event_id=event.id, done=made.id), 303)


def _page(event, form, refusal, status):
    return render_template("organiser/hotline.html", event=event, form=form, refusal=refusal,
                           done=None, spelled=spelled, mask_mobile=mask_mobile), status


def _made(event_id: int, raw: str) -> Registration | None:
    """The registration just made by phone, to read its door code out: of this event only."""
    if not raw.isdecimal() or not is_row_id(int(raw)):
        return None
    found = db.session.get(Registration, int(raw))
    if found is None or found.event_id != event_id or found.source != hotline.SOURCE:
        return None
    return found
