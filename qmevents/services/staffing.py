"""Door staff of an event: who scans at its door. An assignment is a row (StaffAssignment); the
door's rule (services.access.may_scan) reads it on every request, cookie or token alike, so
adding someone lets them in at once and removing them stops their very next scan."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..extensions import db
from ..ids import is_row_id
from ..models import DoorDevice, Event, Role, StaffAssignment, User
from . import audit
from .accounts import normalise_email
from .errors import NotFound, ValidationFailed


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id) if is_row_id(event_id) else None
    if event is None:
        raise NotFound(_("No such event."))
    return event


def _staff_account(email: str) -> User:
    """An existing, active door staff account. Organisers and admins scan their events anyway;
    an assignment never changes anybody's role or organisation."""
    user = db.session.scalar(select(User).filter_by(email=normalise_email(email)))
    if user is None:
        raise NotFound(_("No account has this e-mail address."))
    if user.role != Role.STAFF:
        raise ValidationFailed({"email": _(
            "This account is not a door staff account; organisers already scan their own "
            "events.")})
    if not user.active:
        raise ValidationFailed({"email": _("This account is switched off.")})
    if db.session.scalar(select(DoorDevice.id).where(DoorDevice.user_id == user.id)) is not None:
        raise ValidationFailed({"email": _(
            "This is a paired door device: it works at its own event only. Pair a phone for "
            "this event on its page.")})
    return user


def assign(event_id: int, email: str, actor: User | None = None, *, commit: bool = True) -> User:
    """Let the staff account `email` scan at the event; nothing changes when it already may.
    Audited. NotFound for an unknown event or account. `commit=False`: in the caller's
    transaction."""
    event, user = _event(event_id), _staff_account(email)
    exists = db.session.scalar(select(StaffAssignment.id).filter_by(
        user_id=user.id, event_id=event.id))
    if exists is None:
        db.session.add(StaffAssignment(user_id=user.id, event_id=event.id))
        audit.record("staff_assigned", actor_id=actor.id if actor else None, event_id=event.id,
                     staff=user.email)
    if commit:
        db.session.commit()
    return user


def unassign(event_id: int, email: str, actor: User | None = None) -> bool:
    """Stop the account scanning at the event, from its next request on. Whether it was
    assigned. Audited."""
    user = db.session.scalar(select(User).filter_by(email=normalise_email(email)))
    if user is None:
        raise NotFound(_("No account has this e-mail address."))
    return unassign_user(event_id, user.id, actor)


def unassign_user(event_id: int, user_id: int, actor: User | None = None) -> bool:
    """unassign, by the account's id (the event page and the API)."""
    event = _event(event_id)
    user = db.session.get(User, user_id) if is_row_id(user_id) else None
    if user is None:
        raise NotFound(_("No such door staff member."))
    removed = db.session.execute(delete(StaffAssignment).where(
        StaffAssignment.user_id == user.id, StaffAssignment.event_id == event.id)).rowcount
    if removed:
        audit.record("staff_removed", actor_id=actor.id if actor else None, event_id=event.id,
                     staff=user.email)
    db.session.commit()
    return bool(removed)


def staff_of(event_id: int) -> list[User]:
    """The event's door staff (people, not paired devices: services.devices lists those), by
    e-mail address."""
    event = _event(event_id)
    return list(db.session.scalars(
        select(User).join(StaffAssignment, StaffAssignment.user_id == User.id)
        .where(StaffAssignment.event_id == event.id,
               ~select(DoorDevice.id).where(DoorDevice.user_id == User.id).exists())
        .order_by(User.email)))
