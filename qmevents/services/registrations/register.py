"""Registering a party for a session (cancelling is cancellation.py).

Places are taken by places.claim_places, the conditional UPDATE that never oversells, in the same
transaction that writes the registration.

Whether a session takes registrations at all is `availability()`: register() refuses with its
reason and the event page shows the same reason, so the rule is written once.

A place is final only for a phone that proved it is held by the registrant, when the event
verifies phones (Event.verify_phone, the default): the code sent to it (otp.issue, purpose
REGISTER) is used in the same transaction that claims the places. A wrong or expired code is a
ValidationFailed on `phone_code` and nothing is held; a registration refused for another reason
(full, duplicate) leaves the code unused. Nobody can book out a session with made-up numbers, or
make the official sender text a number they do not hold, beyond the code itself.

After the commit the citizen is told (messaging.outbox, which never raises). The ticket link in
that message comes from `links.ticket_url`, which uses PUBLIC_URL or Flask's `url_for`: the one
place this module leans on the web layer, and it works in a plain app context too.
"""
from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, false, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload

from ... import links
from ...extensions import db
from ...ids import is_row_id
from ...models import (
    HOLDS_PLACES,
    Answer,
    Event,
    EventSession,
    EventStatus,
    OneTimeCodePurpose,
    Registration,
    RegistrationMode,
    RegistrationStatus,
)
from ...numbers import ascii_digits, whole_number
from ...timeutil import utcnow
from .. import audit, otp
from ..errors import (
    DuplicateRegistration,
    NotFound,
    RegistrationClosed,
    SessionFull,
    ValidationFailed,
)
from ..identity import name_refusal, normalise_mobile, normalise_name
from ..messaging import messages, outbox
from . import places, questions, waitlist
from .codes import new_code
from .short_codes import new_short_code

log = logging.getLogger(__name__)

_PHONE_CODE = re.compile("[0-9]{" + str(otp.CODE_DIGITS) + "}", re.ASCII)


@dataclass
class RegistrationRequest:
    event_id: int
    session_id: object  # as received: validated here
    name: object
    phone: object
    party_size: object
    answers: dict = field(default_factory=dict)  # {question id (int or str): value}
    consent: bool = False
    source: str = "web"
    # The code sent to `phone` (POST /api/v1/phone-codes, the form's 获取验证码), when the event
    # verifies phones (Event.verify_phone): proof that the registrant holds the phone.
    phone_code: object = None
    # 代报名 (services/registrations/hotline.py): the staff member who took the citizen's call
    # vouches for the phone, so no code is asked, and the event's questions are not (the
    # citizen answers nothing by phone); the registration gets a short door code.
    vouched_by: int | None = None


@dataclass
class Registered:
    code: str
    status: RegistrationStatus
    registration_id: int


# --- validation -----------------------------------------------------------------------------


def check_party(event: Event, name: object, phone: object,
                party_size: object) -> tuple[dict, dict[str, str]]:
    """Who is coming: the name, the mobile number and the party size, checked for `event`, as
    clean values and {field: message}. Registering and the organiser's invitations share it."""
    errors: dict[str, str] = {}
    clean: dict = {}

    typed = name.strip() if isinstance(name, str) else ""
    name = normalise_name(typed)
    if not typed:
        errors["name"] = _("Enter the name of the person registering.")
    elif name is None:  # it goes into the official sender's messages: identity.normalise_name
        errors["name"] = name_refusal()
    clean["name"] = name or typed

    phone = normalise_mobile(phone) if isinstance(phone, str) else None
    if phone is None:
        errors["phone"] = _("Enter a mainland mobile number of 11 digits, such as 13812345678.")
    clean["phone"] = phone

    size = _as_int(party_size)
    if size is None or not 1 <= size <= event.max_party_size:
        errors["party_size"] = _(
            "A party is 1 to %(max)d people for this event.", max=event.max_party_size
        )
    clean["party_size"] = size
    return clean, errors


def validate_request(req: RegistrationRequest, event: Event) -> tuple[dict, dict[str, str]]:
    """Clean values and {field: message}. Field names are the API's."""
    clean, errors = check_party(event, req.name, req.phone, req.party_size)
    if not req.consent:
        errors["consent"] = _("Please agree to the privacy notice to register.")
    clean["phone_code"] = None
    clean["vouched_by"] = req.vouched_by
    if event.verify_phone and req.vouched_by is None:
        code = ascii_digits(req.phone_code.strip()) if isinstance(req.phone_code, str) else ""
        if not _PHONE_CODE.fullmatch(code):
            errors["phone_code"] = _("Enter the %(n)d-digit code sent to your phone by text "
                                     "message.", n=otp.CODE_DIGITS)
        clean["phone_code"] = code

    clean["answers"] = questions.validate_answers(
        req.answers, event.questions if req.vouched_by is None else [], errors)
    return clean, errors


def _as_int(value) -> int | None:
    """A whole number given as an int or typed as text ("3", "３"); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return whole_number(value, max_digits=6)


# --- whether a session takes registrations -------------------------------------------------


class Availability(enum.StrEnum):
    """Whether a session takes registrations now, or the one reason why not."""

    OPEN = "open"
    FULL = "full"  # first come, first served, and no place left
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"
    STARTED = "started"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_NOT_PUBLISHED = "event_not_published"


def availability(event: Event, session: EventSession, now: datetime | None = None) -> Availability:
    """The rule, in the order a citizen would want to hear the reasons. A waiting list, an
    application or a lottery still takes registrations when the places are gone."""
    now = now or utcnow()
    if event.status == EventStatus.CANCELLED:
        return Availability.EVENT_CANCELLED
    if event.status != EventStatus.PUBLISHED:
        return Availability.EVENT_NOT_PUBLISHED
    if session.starts_at <= now:
        return Availability.STARTED
    if session.registration_opens_at and now < session.registration_opens_at:
        return Availability.NOT_YET_OPEN
    if now >= session.closes_at:
        return Availability.CLOSED
    if event.registration_mode == RegistrationMode.FCFS and session.places_left <= 0:
        return Availability.FULL
    return Availability.OPEN


def refusal_reason(state: Availability) -> str:
    """What to tell a citizen when a session does not take registrations ("" when it does)."""
    reasons = {
        Availability.FULL: _("This session is full."),
        Availability.NOT_YET_OPEN: _("Registration for this session has not opened yet."),
        Availability.CLOSED: _("Registration for this session has closed."),
        Availability.STARTED: _("This session has already started."),
        Availability.EVENT_CANCELLED: _("This event has been cancelled."),
        Availability.EVENT_NOT_PUBLISHED: _("This event is not open for registration."),
    }
    return reasons.get(state, "")


def _refuse_unless_open(event: Event, session: EventSession, now: datetime) -> None:
    state = availability(event, session, now)
    if state == Availability.FULL:
        raise SessionFull(refusal_reason(state), places_left=0)
    if state != Availability.OPEN:
        raise RegistrationClosed(refusal_reason(state))


# --- registering ----------------------------------------------------------------------------


def register(req: RegistrationRequest) -> Registered:
    """Take places for a party, or refuse with a reason. One transaction."""
    event, session = event_and_session(req.event_id, _as_int(req.session_id))
    if event is None or event.status == EventStatus.DRAFT:
        raise NotFound(_("No such event."))
    if session is None:
        raise ValidationFailed({"session_id": _("Choose one of this event's sessions.")})

    clean, errors = validate_request(req, event)
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    _refuse_unless_open(event, session, now)

    code = new_code()
    status = _first_status(event)
    written = _write_once(event, session, clean, code, status, req.source, now)
    if written is None and event.registration_mode == RegistrationMode.WAITLIST:
        status = RegistrationStatus.WAITLISTED
        written = _write_once(event, session, clean, code, status, req.source, now)
    if written is None:
        _refuse_full(session.id)
    registration_id, message = written
    outbox.dispatch(message)
    return Registered(code=code, status=status, registration_id=registration_id)


def _first_status(event: Event) -> RegistrationStatus:
    """First-come modes try for places at once; the others record an application."""
    if event.registration_mode in (RegistrationMode.APPROVAL, RegistrationMode.LOTTERY):
        return RegistrationStatus.APPLIED
    return RegistrationStatus.CONFIRMED


class _ShortCodeTaken(Exception):
    """The event has this short door code already (one in a million): draw another."""


def _write_once(event: Event, session: EventSession, clean: dict, code: str,
                status: RegistrationStatus, source: str, now: datetime):
    """_write, with a new short door code for a registration by phone, drawn again in the rare
    case the event has it already (the unique constraint decides)."""
    for _attempt in range(5):
        if clean["vouched_by"] is not None:
            clean["short_code"] = new_short_code()
        try:
            return _write(event, session, clean, code, status, source, now)
        except _ShortCodeTaken:
            continue
    raise RegistrationClosed(_("Please try again."))


def _write(event: Event, session: EventSession, clean: dict, code: str,
           status: RegistrationStatus, source: str, now: datetime):
    """The registration, its answers, its message and its places, in one short transaction:
    everything is prepared before the first write, and the hot session row is updated last, so
    its lock (PostgreSQL) and the write lock (SQLite) are held for as little time as possible.
    Returns (registration id, staged message or None), or None when the places were gone."""
    row = dict(code=code, event_id=event.id, session_id=session.id, name=clean["name"],
               phone=clean["phone"], party_size=clean["party_size"], status=status,
               source=source, consent_at=now, created_at=now, updated_at=now)
    if clean.get("short_code"):
        row["short_code"] = clean["short_code"]
    draft = _draft(messages.draft_registration_confirmed,
                   Registration(event=event, session=session, **row))
    if clean["phone_code"] is not None and not otp.use(
            clean["phone"], clean["phone_code"], OneTimeCodePurpose.REGISTER):
        db.session.rollback()
        otp.count_wrong(clean["phone"], OneTimeCodePurpose.REGISTER)
        raise ValidationFailed({"phone_code": _(
            "This code is not right, or it has expired or been used. Check the text message, "
            "or ask for a new code.")})
    try:
        registration_id = db.session.execute(_INSERT_REGISTRATION, row).inserted_primary_key[0]
    except IntegrityError as exc:
        db.session.rollback()
        if "short_code" in str(exc.orig):
            raise _ShortCodeTaken() from None
        if "phone" in str(exc.orig):
            raise DuplicateRegistration(
                _("This phone number already has a registration for this session.")
            ) from None
        raise
    if clean["vouched_by"] is not None:
        audit.record("registered_by_phone", actor_id=clean["vouched_by"], event_id=event.id,
                     registration_id=registration_id, session_id=session.id,
                     party_size=clean["party_size"])
    if clean["answers"]:
        db.session.execute(_INSERT_ANSWER, [
            {"registration_id": registration_id, "question_id": qid, "value": value}
            for qid, value in clean["answers"].items()
        ])
    message = (outbox.stage(*draft.fields(), registration_id, **draft.provider_fields())
               if draft else None)
    if status in HOLDS_PLACES and not places.claim_places(session.id, clean["party_size"]):
        db.session.rollback()
        return None
    promotions = []
    if status == RegistrationStatus.WAITLISTED:
        # Places a cancellation freed since our claim failed did not see this party waiting.
        promotions = waitlist.promote_in_transaction(session.id, now)
    db.session.commit()
    waitlist.announce(promotions)
    return registration_id, message


def _refuse_full(session_id: int) -> None:
    left = db.session.scalar(
        select(EventSession.capacity - EventSession.places_taken)
        .where(EventSession.id == session_id)
    )
    if left:
        raise SessionFull(
            _("Only %(n)d places are left in this session: fewer than your party.", n=left),
            places_left=left,
        )
    raise SessionFull(_("This session is full."), places_left=0)


def event_and_session(event_id,
                       session_id: int | None) -> tuple[Event | None, EventSession | None]:
    """The event with its questions, and the session when it is one of the event's: one query,
    since every registration in a surge asks for them."""
    if not is_row_id(event_id):
        return None, None
    if not is_row_id(session_id):
        session_id = None
    row = db.session.execute(
        select(Event, EventSession)
        .outerjoin(EventSession, and_(EventSession.event_id == Event.id,
                                 EventSession.id == session_id if session_id else false()))
        .where(Event.id == event_id)
        # Only what registering reads: not the organisation and district joined by default.
        .options(joinedload(Event.questions), lazyload(Event.organisation),
                 lazyload(Event.district))
    ).unique().first()
    return (row[0], row[1]) if row else (None, None)


# Built once: a registration surge runs these thousands of times a minute.
_INSERT_REGISTRATION = insert(Registration.__table__)
_INSERT_ANSWER = insert(Answer.__table__)
def _draft(compose, registration: Registration):
    """The text of a message about a registration (a transient copy: nothing is loaded or
    flushed); None if it could not be composed, which never turns a registration into an error."""
    try:
        return compose(registration, links.ticket_url(registration.code))
    except Exception:
        # Never the code: a ticket's code opens it and is kept out of every log (a copy not yet
        # stored has no id; its event and session say which).
        log.exception("could not compose a message for a registration of event %s, session %s",
                      registration.event_id, registration.session_id)
        return None


