"""Cancelling a registration: by its holder (the ticket page, with the ticket's code) or by the
event's organiser (the registrants page), and what that frees.

Places and attendance stay exact:
- A ticket whose people have come in cannot be cancelled by its holder: their places are in
  use. The UPDATE that cancels requires `admitted_people = 0`, and a scan's UPDATE requires the
  ticket confirmed, so of a cancellation and a scan at the same instant exactly one wins.
- The organiser may still cancel it. The people who came in stay counted as attendance
  (services.reporting.reports) and keep their places; only the rest of the party's places are
  freed. The UPDATE returns the count of people in that it saw, so a scan racing the organiser
  cannot make it free a place that is in use: EventSession.places_taken is the people holding
  places plus the people of cancelled tickets who came in.
- Freed places go to the waiting list in the same transaction (services.registrations.waitlist),
  so nobody who registers at that instant slips in ahead of those already waiting.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import update

from ...extensions import db
from ...ids import is_row_id
from ...models import ENDED, HOLDS_PLACES, Registration, RegistrationStatus, User
from ...timeutil import utcnow
from .. import audit
from ..errors import NotFound, RegistrationClosed
from ..messaging import messages
from ..messaging.messages import tell
from . import series, waitlist
from .codes import ticket
from .places import release_places

_ATTEMPTS = 3


class AdmittedCannotCancel(RegistrationClosed):
    """The holder may not cancel a ticket whose people have come in."""

    code = "admitted"


def cancel(code: str) -> Registration:
    """The holder cancels; the places are free for others at once. One transaction. Refused
    (RegistrationClosed) for a ticket no longer active, or whose people have come in. A series
    pass whose party came to its first session: the sessions still to come are cancelled
    (cancel_rest_of_pass)."""
    registration = ticket(code)
    if (registration.admitted_people and registration.status == RegistrationStatus.CONFIRMED
            and series.members_of(registration)):
        return cancel_rest_of_pass(registration)
    return _withdraw(registration, actor=None)


def cancel_rest_of_pass(holder: Registration) -> Registration:
    """系列通票 attended at its first session: the holder gives up its sessions to come that
    nobody of the party came to (their places free at once, one transaction); the sessions
    past stay on the ticket as they were (attended, or missed). Refused (AdmittedCannotCancel) when there is none left to give up. No text: the
    ticket page says what happened."""
    freed = series.cancel_members(holder, by_holder=True, to_come_only=True)
    if not freed:
        db.session.rollback()
        raise AdmittedCannotCancel(_(
            "People of this ticket have come in already, so it can no longer be cancelled "
            "here. Ask the organiser if something is wrong."))
    promotions = []
    for session_id in freed:
        promotions += waitlist.promote_in_transaction(session_id)
    db.session.commit()
    waitlist.announce(promotions)
    return holder


def cancel_by_organiser(event_id: int, registration_id: int, actor: User) -> Registration:
    """The event's organiser cancels a registration (the caller checked they may edit the
    event): people already let in stay counted and keep their places. Audited; the citizen is
    told. NotFound for a registration of another event."""
    registration = db.session.get(Registration, registration_id) if is_row_id(
        registration_id) else None
    if registration is None or registration.event_id != event_id:
        raise NotFound(_("No such registration."))
    return _withdraw(registration, actor=actor)


def _withdraw(registration: Registration, actor: User | None) -> Registration:
    """Cancel, free what the registration held and nobody uses, then tell the citizen. `actor`
    None: the holder, who may not cancel once anyone of the party is in."""
    by_holder = actor is None
    for _attempt in range(_ATTEMPTS):
        if registration.status in ENDED:
            raise RegistrationClosed(_("This registration is no longer active."))
        if by_holder and registration.admitted_people:
            raise AdmittedCannotCancel(_(
                "People of this ticket have come in already, so it can no longer be cancelled "
                "here. Ask the organiser if something is wrong."))
        held = registration.status in HOLDS_PLACES
        # Conditional on the status read above: two cancellations free the places once.
        guard = [Registration.id == registration.id, Registration.status == registration.status]
        if by_holder:
            guard.append(Registration.admitted_people == 0)
        # The party and its session as they are when cancelled, not as read: a change of the
        # ticket (services/registrations/amend.py) may have moved or shrunk it since.
        cancelled = db.session.execute(
            update(Registration).where(*guard)
            .values(status=RegistrationStatus.CANCELLED, cancelled_at=utcnow(),
                    updated_at=utcnow())
            .returning(Registration.admitted_people, Registration.party_size,
                       Registration.session_id)
            .execution_options(synchronize_session=False)
        ).first()
        if cancelled is not None:
            inside, party_size, session_id = cancelled
            break
        # Changed meanwhile (another cancellation, a promotion, a scan): read it again and
        # decide on what it is now.
        db.session.rollback()
        db.session.refresh(registration)
    else:
        raise RegistrationClosed(_("This registration is no longer active."))
    promotions = []
    freed = party_size - inside if held else 0
    if freed > 0:
        release_places(session_id, freed)
        promotions = waitlist.promote_in_transaction(session_id)
    # A series pass: its members (the further sessions) go with it, in this transaction.
    for session_id in series.cancel_members(registration, by_holder):
        promotions += waitlist.promote_in_transaction(session_id)
    if actor is not None:
        audit.record("registration_cancelled", actor_id=actor.id,
                     event_id=registration.event_id, registration_id=registration.id,
                     people=registration.party_size, inside=inside, freed=freed)
    db.session.commit()
    db.session.refresh(registration)
    tell(messages.registration_cancelled if by_holder else messages.cancelled_by_organiser,
         registration)
    waitlist.announce(promotions)
    return registration
