"""A citizen changes a registration without losing the place: fewer people (the places freed
at once, for the waiting list first), or another session of the same event that has room.

A move is one transaction that claims the new session's places and frees the old ones: never
both, never neither. The ticket's row is changed first by a conditional UPDATE (still confirmed,
still in the session it was read in, nobody let in yet), so two changes of one ticket sent at
once are decided one after the other; then the sessions' rows, always the lower id first, so two
families swapping sessions at the same moment cannot deadlock. The code stays: the QR a family
saved keeps working, and the door follows the ticket to its new session. The holder's text
(the session's time, the party; a caller by phone gets the door code again) is stored in the
same transaction.

Only where places are first come, first served (with or without a waiting list): in a lottery
or an application the organiser decided who has which session, and a change would jump that.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...ids import is_row_id
from ...models import (
    EventSession,
    EventStatus,
    Registration,
    RegistrationMode,
    RegistrationStatus,
)
from ...timeutil import utcnow
from .. import audit
from ..errors import (
    DuplicateRegistration,
    NotFound,
    RegistrationClosed,
    SessionFull,
    ValidationFailed,
)
from ..messaging import messages, outbox
from . import places, series, waitlist
from .codes import ticket
from .register import Availability, availability, refusal_reason

CHANGEABLE_MODES = (RegistrationMode.FCFS, RegistrationMode.WAITLIST)


def refusal(registration: Registration) -> str | None:
    """Why this ticket cannot be changed now (in words), or None when it can."""
    event = registration.event
    if registration.status != RegistrationStatus.CONFIRMED:
        return _("Only a confirmed registration can be changed.")
    if event.status == EventStatus.CANCELLED:
        return refusal_reason(Availability.EVENT_CANCELLED)
    if event.status != EventStatus.PUBLISHED:
        return refusal_reason(Availability.EVENT_NOT_PUBLISHED)
    if event.registration_mode not in CHANGEABLE_MODES:
        return _("Places of this event are given by the organiser or by lottery: to change "
                 "your registration, cancel it or ask the organiser.")
    if registration.session.starts_at <= utcnow():
        return _("This session has started: the registration can no longer be changed.")
    if registration.pass_id is not None or series.members_of(registration):
        return _("A series pass is changed as a whole: cancel it and register again for the "
                 "sessions you want, while places are left.")
    return None


def other_sessions(registration: Registration) -> list[tuple[EventSession, Availability]]:
    """The event's other sessions still to come, each with whether it takes this party now."""
    now = utcnow()
    return [(s, _fits(availability(registration.event, s, now), s, registration.party_size))
            for s in registration.event.sessions
            if s.id != registration.session_id and s.starts_at > now]


def _fits(state: Availability, session: EventSession, people: int) -> Availability:
    if state == Availability.OPEN and session.places_left < people:
        return Availability.FULL
    return state


def change_party_size(code: str, people: int) -> Registration:
    """Fewer people: the freed places go to the waiting list at once. Never more (that would be
    a new registration's place), never fewer than those already let in, never none."""
    registration = ticket(code)
    _refuse_unless_changeable(registration)
    old = registration.party_size
    low = max(registration.admitted_people or 0, 1)
    if not isinstance(people, int) or isinstance(people, bool) or not low <= people < old:
        raise ValidationFailed({"people": _(
            "Choose from %(low)d to %(high)d people.", low=low, high=old - 1)
            if low < old else _("This party cannot become smaller.")})
    changed = db.session.execute(
        update(Registration)
        # As read: the places go back to the session read here, which a move sent at the same
        # moment may have changed (then this one is told to look again).
        .where(Registration.id == registration.id,
               Registration.status == RegistrationStatus.CONFIRMED,
               Registration.session_id == registration.session_id,
               Registration.party_size == old, Registration.admitted_people <= people)
        .values(party_size=people, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        db.session.rollback()
        raise RegistrationClosed(_("This registration changed meanwhile. Look at it again."))
    places.release_places(registration.session_id, old - people)
    promotions = waitlist.promote_in_transaction(registration.session_id)
    audit.record("registration_changed", event_id=registration.event_id,
                 registration_id=registration.id, by="holder", people_from=old,
                 people_to=people)
    told = _stage_text(registration)
    db.session.commit()
    outbox.dispatch(told)
    waitlist.announce(promotions)
    return registration


def move_to_session(code: str, session_id: object) -> Registration:
    """The whole party to another session of the same event that takes it now: SessionFull
    when it has no room for all of them, RegistrationClosed when it does not take
    registrations, DuplicateRegistration when this phone is registered there already."""
    registration = ticket(code)
    _refuse_unless_changeable(registration)
    if registration.admitted_people:
        raise RegistrationClosed(_("People of this ticket have come in already: it can no "
                                   "longer move to another session."))
    target = (db.session.get(EventSession, session_id)
              if isinstance(session_id, int) and is_row_id(session_id) else None)
    if target is None or target.event_id != registration.event_id:
        raise NotFound(_("Choose one of this event's sessions."))
    if target.id == registration.session_id:
        raise ValidationFailed({"session_id": _("Your registration is for this session "
                                                "already.")})
    state = availability(registration.event, target)
    if state not in (Availability.OPEN, Availability.FULL):
        raise RegistrationClosed(refusal_reason(state))
    old, people = registration.session_id, registration.party_size
    try:
        moved = db.session.execute(
            update(Registration)
            .where(Registration.id == registration.id,
                   Registration.status == RegistrationStatus.CONFIRMED,
                   Registration.session_id == old, Registration.party_size == people,
                   Registration.admitted_people == 0)
            .values(session_id=target.id, updated_at=utcnow(), reminder_sent_at=None)
            .execution_options(synchronize_session=False)).rowcount
    except IntegrityError:  # the phone holds a registration of that session already
        db.session.rollback()
        raise DuplicateRegistration(_(
            "This phone number already has a registration for this session.")) from None
    if moved != 1:
        db.session.rollback()
        raise RegistrationClosed(_("This registration changed meanwhile. Look at it again."))
    # The sessions' rows in id order, whatever the direction of the move.
    if target.id < old:
        fitted = places.claim_places(target.id, people)
        places.release_places(old, people)
    else:
        places.release_places(old, people)
        fitted = places.claim_places(target.id, people)
    if not fitted:
        db.session.rollback()  # the ticket stays where it was, with its places
        raise SessionFull(_("That session has no room for %(n)d people any more.", n=people),
                          places_left=0)
    promotions = waitlist.promote_in_transaction(old)
    audit.record("registration_changed", event_id=registration.event_id,
                 registration_id=registration.id, by="holder", session_from=old,
                 session_to=target.id)
    told = _stage_text(registration)
    db.session.commit()
    outbox.dispatch(told)
    waitlist.announce(promotions)
    return registration


def _stage_text(registration: Registration) -> outbox.Staged | None:
    """The holder's text, in the change's transaction: the change and its message commit
    together or not at all. Read back first, so it says the session and party as changed."""
    db.session.refresh(registration)
    return messages.stage_registration_changed(registration)


def _refuse_unless_changeable(registration: Registration) -> None:
    reason = refusal(registration)
    if reason is not None:
        raise RegistrationClosed(reason)
