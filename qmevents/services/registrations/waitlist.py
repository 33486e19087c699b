"""The waiting list (候补): when places free up, the next parties in line whose party fits are
promoted at once, and told.

Order: the order of registering (created_at, then id), or, in a session that has been drawn, the
lottery's ranking (services.registrations.lottery.waitlist_order). A party that does not fit the
places left is passed over for now, and a smaller one behind it may go first: no place stays empty
while someone who fits is waiting.

Concurrency lives in the database. A promotion first holds the session's row (an UPDATE: the row
lock on PostgreSQL, the write lock on SQLite), reads the places left under it, then moves one
party by a conditional UPDATE (… WHERE status = 'waitlisted') and takes its places by the
conditional claim, in one transaction. Two promoters (two cancellations in two workers) therefore
take turns, and a registration is promoted at most once. A cancellation promotes inside its own
transaction, so nobody registering at that instant slips in ahead of those already waiting.

A promotion confirms at once, or, with WAITLIST_OFFER_HOURS set, offers the place until a
deadline (OFFERED holds the places); an offer not confirmed by then is cancelled and the place
passes on (`expire_offers`, run by `flask --app wsgi waitlist expire`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import attributes, joinedload

from ... import links
from ...extensions import db
from ...models import (
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationMode,
    RegistrationStatus,
)
from ...timeutil import utcnow
from .. import audit
from ..errors import NotFound, RegistrationClosed, ValidationFailed
from ..messaging import messages, outbox
from . import codes, lottery, places

log = logging.getLogger(__name__)

WAITING = RegistrationStatus.WAITLISTED
MAX_CONTENDED = 50  # candidates taken by someone else in one run before we give up (logged)


@dataclass
class Promotion:
    """A party moved off the waiting list, and its message, stored in the same transaction and
    sent by `announce` after the commit."""

    registration: Registration
    message: outbox.Staged | None


# --- the deadline to confirm ------------------------------------------------------------------


def offer_deadline(now: datetime, offer_until: datetime | None = None) -> datetime | None:
    """Until when a promoted party may confirm: `offer_until` if given, else now plus
    WAITLIST_OFFER_HOURS; None means confirmed at once. A deadline not in the future is refused."""
    if offer_until is None:
        hours = current_app.config.get("WAITLIST_OFFER_HOURS")
        if hours is None:
            return None
        if isinstance(hours, bool) or not isinstance(hours, int | float):
            raise ValidationFailed({"offer_expires_at": _(
                "The time to confirm a place is a number of hours.")})
        offer_until = now + timedelta(hours=hours)
    if offer_until <= now:
        raise ValidationFailed({"offer_expires_at": _(
            "The deadline to confirm a place must be in the future.")})
    return offer_until


def _configured_deadline(now: datetime) -> datetime | None:
    """For promotions the system makes by itself (a cancellation, an expiry, more capacity): a
    wrong setting is logged and the party confirmed at once, never a failed cancellation."""
    try:
        return offer_deadline(now)
    except ValidationFailed as wrong:
        log.error("WAITLIST_OFFER_HOURS is wrong (%s): promoting without a deadline", wrong)
        return None


# --- promoting --------------------------------------------------------------------------------


def promote(session_id: int, offer_until: datetime | None = None) -> list[Registration]:
    """Give a session's free places to the waiting list, one transaction per promoted party;
    each is told after its commit. `offer_until` (or the configured window) makes the promotions
    offers to confirm by then; a deadline in the past is refused before anything changes."""
    now = utcnow()
    starts_at = db.session.scalar(
        select(EventSession.starts_at).where(EventSession.id == session_id))
    if starts_at is None:
        raise NotFound(_("No such session."))
    if offer_until is None:
        deadline = _configured_deadline(now)
    else:
        deadline = offer_deadline(now, offer_until)
        if deadline > starts_at:
            raise ValidationFailed({"offer_expires_at": _(
                "The deadline to confirm a place must be before the session starts.")})
    promoted: list[Registration] = []
    while True:
        batch = _promote_here(session_id, now, deadline, limit=1)
        if not batch:
            db.session.rollback()  # lets go of the session row
            return promoted
        db.session.commit()
        announce(batch)
        promoted += [p.registration for p in batch]


def promote_in_transaction(session_id: int, now: datetime | None = None) -> list[Promotion]:
    """Promote whoever fits, in order, inside the caller's transaction (a cancellation that has
    just released places); the caller commits, then calls `announce`."""
    now = now or utcnow()
    return _promote_here(session_id, now, _configured_deadline(now))


def _promote_here(session_id: int, now: datetime, deadline: datetime | None,
                  limit: int | None = None) -> list[Promotion]:
    target = _promotable(session_id, now)
    if target is None:
        return []
    if deadline is not None:
        deadline = min(deadline, target.starts_at)  # an offer never outlives the session
    _hold(session_id)
    drawn = _drawn_order(session_id, target.registration_mode)
    promotions: list[Promotion] = []
    contended = 0
    while limit is None or len(promotions) < limit:
        candidate = _next_in_line(session_id, drawn)
        if candidate is None:
            break
        # A caller registered by phone (代报名) has no link to open in time: their place is
        # theirs at once, as their text says (messages.BY_PHONE_PLACE).
        if _move(candidate, None if candidate.short_code else deadline, now):
            promotions.append(Promotion(candidate, _stage(messages.draft_promoted, candidate)))
            continue
        contended += 1
        if contended >= MAX_CONTENDED:
            log.warning("session %s: stopped promoting after %d contended candidates",
                        session_id, contended)
            break
    return promotions


def announce(promotions: list[Promotion]) -> None:
    """After the commit: send the promoted their messages."""
    for promotion in promotions:
        outbox.dispatch(promotion.message)


def _promotable(session_id: int, now: datetime):
    """The session's start and its event's mode when promoting makes sense (the event is on,
    the session ahead); None otherwise."""
    row = db.session.execute(
        select(EventSession.starts_at, Event.status, Event.registration_mode)
        .join(Event, Event.id == EventSession.event_id).where(EventSession.id == session_id)
    ).first()
    if row is None or row.status != EventStatus.PUBLISHED or row.starts_at <= now:
        return None
    return row


def _drawn_order(session_id: int, mode: RegistrationMode) -> list[int]:
    """After a lottery's draw, its ranking is the waiting list's order ([] otherwise)."""
    return lottery.waitlist_order(session_id) if mode == RegistrationMode.LOTTERY else []


def _hold(session_id: int) -> None:
    """Hold the session's row until the commit: whoever else frees, takes or waits for places in
    this session waits for us, and then sees what we did."""
    db.session.execute(
        update(EventSession).where(EventSession.id == session_id)
        .values(places_taken=EventSession.places_taken)
        .execution_options(synchronize_session=False)
    )


def _next_in_line(session_id: int, drawn: list[int]) -> Registration | None:
    """The first waiting party, in order, that fits the places left now."""
    left = db.session.scalar(
        select(EventSession.capacity - EventSession.places_taken)
        .where(EventSession.id == session_id))
    if not left or left <= 0:
        return None
    fitting = (Registration.session_id == session_id, Registration.status == WAITING,
               Registration.party_size <= left)
    if drawn:
        fits = set(db.session.scalars(select(Registration.id).where(*fitting)))
        first = next((i for i in drawn if i in fits), None)
        if first is not None:
            return _load(first)
    return db.session.scalar(
        select(Registration).where(*fitting)
        .order_by(Registration.created_at, Registration.id).limit(1)
        .options(joinedload(Registration.event), joinedload(Registration.session))
    )


def _load(registration_id: int) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(Registration.id == registration_id)
        .options(joinedload(Registration.event), joinedload(Registration.session))
    )


def _move(candidate: Registration, deadline: datetime | None, now: datetime) -> bool:
    """Take the candidate's places and move it off the list, both or neither. False when its
    places no longer fit or someone else moved it first (a cancellation, another promoter)."""
    if not places.claim_places(candidate.session_id, candidate.party_size):
        return False
    status = RegistrationStatus.CONFIRMED if deadline is None else RegistrationStatus.OFFERED
    moved = db.session.execute(
        update(Registration)
        .where(Registration.id == candidate.id, Registration.status == WAITING)
        .values(status=status, offer_expires_at=deadline, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        # Undone in this same transaction: the caller's other writes (a cancellation) stand.
        places.release_places(candidate.session_id, candidate.party_size)
        return False
    attributes.set_committed_value(candidate, "status", status)
    attributes.set_committed_value(candidate, "offer_expires_at", deadline)
    audit.record("promoted", actor_id=None, event_id=candidate.event_id,
                 registration_id=candidate.id, session_id=candidate.session_id,
                 party_size=candidate.party_size, status=status.value,
                 offer_expires_at=deadline.isoformat() if deadline else None)
    return True


def _stage(draft, registration: Registration) -> outbox.Staged | None:
    """A message about `registration`, added to the open transaction; None if it could not be
    composed (logged by notify: a message never undoes a promotion)."""
    message = draft(registration, links.ticket_url(registration.code))
    if message is None:
        return None
    return outbox.stage(*message.fields(), registration.id, **message.provider_fields())


# --- the citizen confirms; offers run out -----------------------------------------------------


def confirm_offer(code: str) -> Registration:
    """The citizen takes the offered place before its deadline. After it the place has passed
    on (or passes on now), and the citizen is told so."""
    registration = codes.ticket(code)
    if registration.status == RegistrationStatus.CONFIRMED:
        return registration  # a second tap on the button
    if registration.status != RegistrationStatus.OFFERED:
        raise RegistrationClosed(_("There is no place on offer for this ticket."))
    now = utcnow()
    confirmed = db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id,
               Registration.status == RegistrationStatus.OFFERED,
               or_(Registration.offer_expires_at.is_(None), Registration.offer_expires_at > now))
        .values(status=RegistrationStatus.CONFIRMED, offer_expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if confirmed != 1:
        db.session.rollback()
        db.session.refresh(registration)
        if registration.status == RegistrationStatus.CONFIRMED:
            return registration
        _expire(registration.id, now)
        raise RegistrationClosed(_(
            "The time to confirm this place has passed: it has gone to the next person on the "
            "waiting list."))
    audit.record("offer_confirmed", actor_id=None, event_id=registration.event_id,
                 registration_id=registration.id, session_id=registration.session_id,
                 party_size=registration.party_size)
    db.session.refresh(registration)
    message = _stage(messages.draft_registration_confirmed, registration)
    db.session.commit()
    outbox.dispatch(message)
    return registration


def expire_offers(now: datetime | None = None) -> int:
    """Cancel the offers whose deadline has passed and give their places to the next in line.
    One transaction per offer. Returns how many expired."""
    now = now or utcnow()
    due = list(db.session.scalars(
        select(Registration.id)
        .where(Registration.status == RegistrationStatus.OFFERED,
               Registration.offer_expires_at <= now)
        .order_by(Registration.offer_expires_at, Registration.id)
    ))
    db.session.rollback()
    return sum(1 for registration_id in due if _expire(registration_id, now))


def _expire(registration_id: int, now: datetime) -> bool:
    """One offer past its deadline: cancelled, its places released and passed on, all in one
    transaction. False when it was confirmed (or cancelled) in the meantime."""
    registration = _load(registration_id)
    if registration is None:
        return False
    expired = db.session.execute(
        update(Registration)
        .where(Registration.id == registration_id,
               Registration.status == RegistrationStatus.OFFERED,
               Registration.offer_expires_at <= now)
        .values(status=RegistrationStatus.CANCELLED, cancelled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if expired != 1:
        db.session.rollback()
        return False
    places.release_places(registration.session_id, registration.party_size)
    attributes.set_committed_value(registration, "status", RegistrationStatus.CANCELLED)
    audit.record("offer_expired", actor_id=None, event_id=registration.event_id,
                 registration_id=registration_id, session_id=registration.session_id,
                 party_size=registration.party_size,
                 offer_expires_at=registration.offer_expires_at.isoformat())
    message = _stage(messages.draft_offer_expired, registration)
    promotions = promote_in_transaction(registration.session_id, now=now)
    db.session.commit()
    outbox.dispatch(message)
    announce(promotions)
    return True


# --- where a party stands ---------------------------------------------------------------------


def position(registration: Registration) -> int | None:
    """Its number on the waiting list (1 is next), or None when it is not waiting."""
    if registration.status != WAITING:
        return None
    drawn = _drawn_order(registration.session_id, registration.event.registration_mode)
    if registration.id in drawn:
        return drawn.index(registration.id) + 1
    ahead = [Registration.session_id == registration.session_id, Registration.status == WAITING,
             or_(Registration.created_at < registration.created_at,
                 and_(Registration.created_at == registration.created_at,
                      Registration.id < registration.id))]
    if drawn:  # joined after the draw (the mode was changed): behind everyone drawn
        ahead.append(Registration.id.not_in(drawn))
    count = db.session.scalar(select(func.count()).select_from(Registration).where(*ahead))
    return len(drawn) + count + 1
