"""代报名: bureau staff register a citizen who phoned the hotline, for those without a
smartphone. Only what a phone call can give: a name, a mobile number, the party size and the
session; the citizen's consent to the privacy notice, read out on the phone, ticked by the
staff member. No verification code (the staff member vouches for the number) and none of the
event's questions. Otherwise the very same registration as online (register.register: the same
places, the same waiting list or application), with a short door code (short_codes.py) the
citizen is texted and can say at the door, and an audit entry naming the staff member in the
same transaction."""
from __future__ import annotations

from flask_babel import gettext as _

from ...extensions import db
from ...models import Registration, User
from .. import access
from ..errors import Forbidden, ValidationFailed
from .register import RegistrationRequest, check_party, register

SOURCE = "hotline"


def register_by_phone(actor: User, event_id: int, session_id: object, name: object,
                      phone: object, party_size: object, agreed: bool) -> Registration:
    """The registration made (its short_code set), or the refusals of register.register;
    Forbidden for staff who may not (access.may_register_by_phone), NotFound for an event
    they may not see."""
    event = access.visible_event(actor, event_id)
    if not access.may_register_by_phone(actor, event):
        raise Forbidden(_("Only the event's organisers and its district's bureau may register "
                          "citizens by phone."))
    _clean, errors = check_party(event, name, phone, party_size)
    if agreed is not True:
        errors["consent"] = _("Read the privacy notice to the caller and tick here once they "
                              "agree.")
    if errors:  # every field's message at once: the caller is still on the line
        raise ValidationFailed(errors)
    made = register(RegistrationRequest(
        event_id=event.id, session_id=session_id, name=name, phone=phone,
        party_size=party_size, consent=True, source=SOURCE, vouched_by=actor.id))
    return db.session.get(Registration, made.registration_id)
