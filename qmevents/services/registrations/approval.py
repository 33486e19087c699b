"""The organiser decides who comes: admitting or declining applications (approval mode, like a
预登记 followed by an invitation) and inviting people directly by phone number (any mode).

Places are taken with places.claim_places in the same transaction as the status change, and
each status change is itself conditional (… WHERE status = 'applied'), so two organisers admitting
overlapping batches at the same instant count every party once and never oversell.

A batch is all or nothing. Capacity belongs to a session (场次), so the check is per session: when
the selected parties of any one session do not fit in what is left of it, nobody in the batch is
admitted, and the refusal says how many places are left there. An application already decided
(admitted or declined by someone else a moment ago, or cancelled) is left as it is and reported
as unchanged, so pressing "Admit" twice never counts anyone twice.

Who may act is decided here, for the page and the API alike: the event's organisers and admins.
Every change writes an audit entry in its transaction; the citizens are told after the commit.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ... import links
from ...extensions import db
from ...ids import is_row_id
from ...models import (
    AuditEntry,
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationMode,
    RegistrationStatus,
    User,
)
from ...numbers import whole_number
from ...timeutil import utcnow
from .. import access, audit
from ..errors import (
    DuplicateRegistration,
    InvalidTransition,
    RegistrationClosed,
    SessionFull,
    ValidationFailed,
)
from ..identity import mask_mobile
from ..messaging import messages
from . import codes, places
from .register import Registered, check_party

log = logging.getLogger(__name__)

MAX_BATCH = 200  # applications decided in one go: a page of them, with room to spare
MAX_MESSAGE = 200  # characters of the organiser's note, sent by SMS
ADMITTED, DECLINED, INVITED = "admitted", "declined", "invited"  # audit actions


class NotEnoughPlaces(SessionFull):
    """The selected parties of one session need more places than it has left."""

    def __init__(self, message: str, places_left: int, session_id: int, needed: int):
        super().__init__(message, places_left=places_left)
        self.session_id = session_id
        self.needed = needed


@dataclass
class AdmitResult:
    admitted: list[int] = field(default_factory=list)  # registration ids now confirmed
    people: int = 0  # places taken by them
    unchanged: list[int] = field(default_factory=list)  # no longer applications: left alone


@dataclass
class DeclineResult:
    declined: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


# --- who may act, and what they sent ----------------------------------------------------------


def _ids(raw: object) -> list[int]:
    """Registration ids as a form or a JSON body sends them, sorted: rows are always changed in
    the same order, so two overlapping batches wait for each other instead of deadlocking."""
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        raise ValidationFailed({"registration_ids": _("Give a list of registration ids.")})
    ids: set[int] = set()
    for value in raw:
        if isinstance(value, str):
            value = whole_number(value)
        if not is_row_id(value):
            raise ValidationFailed({"registration_ids": _("Give a list of registration ids.")})
        ids.add(value)
    if not ids:
        raise ValidationFailed({"registration_ids": _("Select at least one applicant.")})
    if len(ids) > MAX_BATCH:
        raise ValidationFailed({"registration_ids": _(
            "At most %(n)d applicants at a time.", n=MAX_BATCH)})
    return sorted(ids)


def _message(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValidationFailed({"message": _("Must be a string.")})
    text = " ".join(raw.split())  # one line: it goes into a text message
    if len(text) > MAX_MESSAGE:
        raise ValidationFailed({"message": _("At most %(n)d characters.", n=MAX_MESSAGE)})
    return text or None


def _applications(event: Event, ids: list[int]) -> dict[int, Registration]:
    """The event's registrations with these ids; an id of another event is a mistake to name,
    never a registration to touch."""
    found = {r.id: r for r in db.session.scalars(
        select(Registration).where(Registration.id.in_(ids), Registration.event_id == event.id))}
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ValidationFailed({"registration_ids": _(
            "Not registrations of this event: %(ids)s.", ids=", ".join(map(str, unknown)))})
    return found


def _decisions_allowed(event: Event) -> None:
    if event.status == EventStatus.CANCELLED:
        raise RegistrationClosed(_("The event is cancelled: nobody can be admitted or declined."))
    if event.registration_mode != RegistrationMode.APPROVAL:
        raise InvalidTransition(_(
            "Applications are admitted or declined one by one only for events by application and "
            "approval; a lottery decides by its draw."))


def _decide(ids: list[int], to: RegistrationStatus) -> list[int]:
    """Move each still-applied registration to `to`; the ids that moved. The WHERE clause decides
    between two organisers: the second finds the status changed and moves nothing."""
    moved = []
    for registration_id in ids:
        changed = db.session.execute(
            update(Registration)
            .where(Registration.id == registration_id,
                   Registration.status == RegistrationStatus.APPLIED)
            .values(status=to, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed == 1:
            moved.append(registration_id)
    return moved


# --- admitting and declining ------------------------------------------------------------------


def admit(event_id: int, registration_ids: object, actor: User,
          message: object = None) -> AdmitResult:
    """Confirm the selected applications and take their places, all of them or none."""
    event, ids, note, found = _batch(event_id, registration_ids, actor, message)
    admitted = _decide(ids, RegistrationStatus.CONFIRMED)
    needed: dict[int, int] = defaultdict(int)
    for registration_id in admitted:
        needed[found[registration_id].session_id] += found[registration_id].party_size
    for session_id in sorted(needed):
        if not places.claim_places(session_id, needed[session_id]):
            _refuse_batch(session_id, needed[session_id])
    for registration_id in admitted:
        r = found[registration_id]
        audit.record(ADMITTED, actor_id=actor.id, event_id=event.id, registration_id=r.id,
                     session_id=r.session_id, party_size=r.party_size, message=note)
    db.session.commit()
    _tell(lambda r: messages.admitted(r, links.ticket_url(r.code), note), admitted)
    return AdmitResult(admitted=admitted, people=sum(needed.values()),
                       unchanged=[i for i in ids if i not in admitted])


def _batch(event_id: int, registration_ids: object, actor: User,
           message: object) -> tuple[Event, list[int], str | None, dict[int, Registration]]:
    """What admitting and declining check first: the event (the actor may decide about it, and
    decisions are open), the ids asked for, the note to the applicants, the applications found."""
    event = access.editable_event(actor, event_id)
    ids, note = _ids(registration_ids), _message(message)
    _decisions_allowed(event)
    return event, ids, note, _applications(event, ids)


def _refuse_batch(session_id: int, needed: int) -> None:
    """Roll the whole batch back and say how many places the session has left."""
    db.session.rollback()
    session = db.session.get(EventSession, session_id, populate_existing=True)
    left = session.places_left
    when = " ".join(filter(None, [format_datetime(session.starts_at, "short"), session.label]))
    if left:
        text = _("Only %(left)d places are left in the session of %(when)s, and the selected "
                 "parties are %(needed)d people. Nobody was admitted: select fewer.",
                 left=left, when=when, needed=needed)
    else:
        text = _("The session of %(when)s is full: no place is left for the %(needed)d people "
                 "selected. Nobody was admitted.", when=when, needed=needed)
    raise NotEnoughPlaces(text, places_left=left, session_id=session_id, needed=needed)


def decline(event_id: int, registration_ids: object, actor: User,
            message: object = None) -> DeclineResult:
    """Decline the selected applications; each applicant gets a polite message."""
    event, ids, note, found = _batch(event_id, registration_ids, actor, message)
    declined = _decide(ids, RegistrationStatus.DECLINED)
    for registration_id in declined:
        r = found[registration_id]
        audit.record(DECLINED, actor_id=actor.id, event_id=event.id, registration_id=r.id,
                     session_id=r.session_id, party_size=r.party_size, message=note)
    db.session.commit()
    _tell(lambda r: messages.declined(r, note), declined)
    return DeclineResult(declined=declined, unchanged=[i for i in ids if i not in declined])


# --- inviting ---------------------------------------------------------------------------------


def invite(event_id: int, session_id: object, name: object, phone: object, party_size: object,
           actor: User) -> Registered:
    """A confirmed ticket for someone the organiser names, without applying or competing: it
    takes its places like any registration, and is refused when they are not left."""
    event = access.editable_event(actor, event_id)
    session = _session_of(event, session_id)
    clean = _invitee(event, name, phone, party_size)
    if event.status == EventStatus.DRAFT:
        raise RegistrationClosed(_("Publish the event before inviting anyone."))
    if event.status == EventStatus.CANCELLED:
        raise RegistrationClosed(_("The event is cancelled: nobody can be invited."))
    if session.starts_at <= utcnow():
        raise RegistrationClosed(_("This session has already started."))

    if not places.claim_places(session.id, clean["party_size"]):
        db.session.rollback()
        left = db.session.get(EventSession, session.id, populate_existing=True).places_left
        raise SessionFull(
            _("Only %(n)d places are left in this session: fewer than the party.", n=left)
            if left else _("This session is full."), places_left=left)
    registration = Registration(
        code=codes.new_code(), event_id=event.id, session_id=session.id,
        name=clean["name"], phone=clean["phone"], party_size=clean["party_size"],
        status=RegistrationStatus.CONFIRMED, source="invite",
        consent_at=None,  # the organiser typed the details; the citizen ticked no notice
    )
    db.session.add(registration)
    try:
        db.session.flush()
        audit.record(INVITED, actor_id=actor.id, event_id=event.id,
                     registration_id=registration.id, session_id=session.id,
                     party_size=registration.party_size)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()  # the places taken above are given back with it
        if "phone" in str(exc.orig):
            raise DuplicateRegistration(
                _("This phone number already has a registration for this session.")) from None
        raise
    _tell(lambda r: messages.invited(r, links.ticket_url(r.code)), [registration.id])
    return Registered(code=registration.code, status=registration.status,
                                         registration_id=registration.id)


def _session_of(event: Event, session_id: object) -> EventSession:
    if isinstance(session_id, str):
        session_id = whole_number(session_id)
    session = next((s for s in event.sessions if s.id == session_id), None)
    if session is None:
        raise ValidationFailed({"session_id": _("Choose one of this event's sessions.")})
    return session


def _invitee(event: Event, name: object, phone: object, party_size: object) -> dict:
    """Name, phone and party size checked exactly as registering checks them (the event's own
    questions and the privacy consent are the citizen's to answer)."""
    clean, errors = check_party(event, name, phone, party_size)
    if errors:
        raise ValidationFailed(errors)
    return clean


# --- telling the citizens ---------------------------------------------------------------------


def _tell(message: Callable[[Registration], object], registration_ids: list[int]) -> None:
    """After the commit: one message per registration. notify never raises; this also guards the
    link and the loading, so a message that cannot be composed never undoes a decision."""
    for registration_id in registration_ids:
        try:
            message(db.session.get(Registration, registration_id))
        except Exception:
            db.session.rollback()
            log.exception("could not tell the holder of registration %s", registration_id)


# --- what the organiser sees ------------------------------------------------------------------


@dataclass
class SessionDemand:
    """A session's places left against the applications still waiting for a decision."""

    session: EventSession
    applied_parties: int
    applied_people: int


def demand(event: Event) -> list[SessionDemand]:
    counted = {
        session_id: (int(n), int(people or 0))
        for session_id, n, people in db.session.execute(
            select(Registration.session_id, func.count(Registration.id),
                   func.sum(Registration.party_size))
            .where(Registration.event_id == event.id,
                   Registration.status == RegistrationStatus.APPLIED)
            .group_by(Registration.session_id))
    }
    return [SessionDemand(s, *counted.get(s.id, (0, 0))) for s in event.sessions]


@dataclass
class LogRow:
    at: object
    action: str
    actor: str | None  # the e-mail; None when the system acted by itself
    registration: str | None  # name and masked phone
    detail: dict


def audit_log(event_id: int, limit: int = 50, offset: int = 0) -> tuple[list[LogRow], int]:
    """The event's audit log, newest first, and how many entries it has (the caller checks that
    the viewer may see the event)."""
    total = db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.event_id == event_id)) or 0
    rows = db.session.execute(
        select(AuditEntry, Registration.name, Registration.phone)
        .outerjoin(Registration, Registration.id == AuditEntry.registration_id)
        .where(AuditEntry.event_id == event_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit).offset(offset)
    ).all()
    return [
        LogRow(at=entry.at, action=entry.action,
               actor=entry.actor.email if entry.actor else None,
               registration=" ".join(filter(None, [name, mask_mobile(phone)])) or None,
               detail={k: v for k, v in (entry.detail or {}).items() if v is not None})
        for entry, name, phone in rows
    ], int(total)
