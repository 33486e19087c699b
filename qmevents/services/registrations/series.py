"""系列通票: one registration for several sessions of a lecture series (Qingpu's nine talks),
one ticket valid at each, attendance counted per session.

The pass is an ordinary registration for its first chosen session, holding the code the citizen
gets; every further chosen session gets a member registration (its own internal code, never
shown or sent) whose `pass_id` is the pass's id. So places, admissions, reports and exports stay
per session, as they are for every ticket, and:

- registering claims every chosen session's places in ONE transaction, in the sessions' id order
  (the order every other transaction takes them): all or nothing, never oversold;
- at the door, the pass's code admits at the member of the session being admitted
  (member_for below, asked by services/door/checkin.py only when the code's own session is not
  the one at the door);
- cancelling the pass cancels its members (services/registrations/cancellation.py).

Only for first come, first served events: a waiting list, an application or a lottery decide per
session, which a pass would jump.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...filters import localtime
from ...models import (
    Answer,
    EventSession,
    OneTimeCodePurpose,
    Registration,
    RegistrationMode,
    RegistrationStatus,
)
from ...timeutil import utcnow
from .. import otp
from ..errors import (
    DuplicateRegistration,
    NotFound,
    RegistrationClosed,
    SessionFull,
    ValidationFailed,
)
from ..messaging import messages, outbox
from . import places
from .codes import new_code
from .register import (
    Availability,
    Registered,
    RegistrationRequest,
    availability,
    event_and_session,
    refusal_reason,
    validate_request,
)

MIN_SESSIONS = 2


def offered(event) -> bool:
    """Whether citizens may take a series pass for this event now."""
    return bool(event.series_pass) and event.registration_mode == RegistrationMode.FCFS


def open_sessions(event) -> list[EventSession]:
    """The sessions a pass may include now: those taking registrations."""
    now = utcnow()
    return [s for s in event.sessions if availability(event, s, now) == Availability.OPEN]


def register_series(req: RegistrationRequest, session_ids: list) -> Registered:
    """A pass for the chosen sessions (at least two of the event's, each taking registrations
    now), or a refusal: SessionFull naming the session without room for the party (then nothing
    is taken), RegistrationClosed, DuplicateRegistration, ValidationFailed."""
    event, _first = event_and_session(req.event_id, None)
    if event is None or not offered(event):
        raise NotFound(_("This event has no series pass."))
    chosen = _chosen(event, session_ids)
    req.session_id = chosen[0].id
    clean, errors = validate_request(req, event)
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    for session in chosen:
        state = availability(event, session, now)
        if state not in (Availability.OPEN, Availability.FULL):
            raise RegistrationClosed(f"{localtime(session.starts_at, 'full')}：{refusal_reason(state)}")
    if clean["phone_code"] is not None and not otp.use(
            clean["phone"], clean["phone_code"], OneTimeCodePurpose.REGISTER):
        db.session.rollback()
        otp.count_wrong(clean["phone"], OneTimeCodePurpose.REGISTER)
        raise ValidationFailed({"phone_code": _(
            "This code is not right, or it has expired or been used. Check the text message, "
            "or ask for a new code.")})
    code = new_code()
    people = clean["party_size"]
    common = dict(event_id=event.id, name=clean["name"], phone=clean["phone"],
                  party_size=people, status=RegistrationStatus.CONFIRMED, source=req.source,
                  consent_at=now, created_at=now, updated_at=now)
    holder = Registration(code=code, session_id=chosen[0].id, **common)
    db.session.add(holder)
    try:
        db.session.flush()
        members = [Registration(code=new_code(), session_id=s.id, pass_id=holder.id, **common)
                   for s in chosen[1:]]
        db.session.add_all(members)
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        if "phone" in str(exc.orig):
            raise DuplicateRegistration(_(
                "This phone number already has a registration for one of these sessions.")
            ) from None
        raise
    for registration in (holder, *members):
        for question_id, value in clean["answers"].items():
            db.session.add(Answer(registration_id=registration.id, question_id=question_id,
                                  value=value))
    for session in sorted(chosen, key=lambda s: s.id):  # every transaction's order
        if not places.claim_places(session.id, people):
            db.session.rollback()
            raise SessionFull(_("%(when)s has no room for %(n)d people any more: nothing was "
                                "booked. Choose the sessions again.",
                                when=localtime(session.starts_at, "full"), n=people),
                              places_left=0)
    db.session.flush()
    message = messages.stage_series_confirmed(holder, len(chosen))
    db.session.commit()
    outbox.dispatch(message)
    return Registered(code=code, status=RegistrationStatus.CONFIRMED,
                      registration_id=holder.id)


def _chosen(event, session_ids: list) -> list[EventSession]:
    known = {s.id: s for s in event.sessions}
    wanted = []
    for raw in session_ids if isinstance(session_ids, list) else []:
        value = raw if isinstance(raw, int) and not isinstance(raw, bool) else (
            int(raw) if isinstance(raw, str) and raw.isascii() and raw.isdigit()
            and len(raw) < 10 else None)
        if value not in known:
            raise ValidationFailed({"sessions": _("Choose sessions of this event.")})
        if known[value] not in wanted:
            wanted.append(known[value])
    if len(wanted) < MIN_SESSIONS:
        raise ValidationFailed({"sessions": _("A series pass is for at least %(n)d sessions.",
                                              n=MIN_SESSIONS)})
    return sorted(wanted, key=lambda s: (s.starts_at, s.id))


# --- the pass, read -------------------------------------------------------------------------


def members_of(holder: Registration) -> list[Registration]:
    """The pass's registrations, its own first, in the sessions' order; [] for a ticket that
    is no pass."""
    found = list(db.session.scalars(
        select(Registration).join(EventSession, EventSession.id == Registration.session_id)
        .where(or_(Registration.id == holder.id, Registration.pass_id == holder.id))
        .order_by(EventSession.starts_at, Registration.id)))
    return found if len(found) > 1 else []


def member_for(connection, registration_id: int, session_id: int | None) -> int | None:
    """The id of the pass's registration for `session_id` (the door's); for no session, the
    one of the session going on or next. None when `registration_id` is no pass, or does not
    cover that session."""
    reg, sess = Registration.__table__, EventSession.__table__
    query = (select(reg.c.id).select_from(reg.join(sess, sess.c.id == reg.c.session_id))
             .where(or_(reg.c.id == registration_id, reg.c.pass_id == registration_id)))
    if session_id is not None:
        query = query.where(sess.c.id == session_id)
    else:
        query = query.where(sess.c.ends_at > utcnow()).order_by(sess.c.starts_at)
    return connection.execute(query.limit(1)).scalar()


def cancel_members(holder: Registration, by_holder: bool, to_come_only: bool = False) -> list[int]:
    """Inside the pass's cancellation: its members cancelled and their places freed (people of a
    member already let in keep theirs); with `to_come_only`, those of sessions not begun yet.
    The sessions whose places came free, for the waiting list."""
    freed_sessions = []
    to_come = [Registration.session_id.in_(select(EventSession.id).where(
        EventSession.event_id == holder.event_id, EventSession.starts_at > utcnow()))]
    members = db.session.execute(
        update(Registration)
        .where(Registration.pass_id == holder.id,
               Registration.status == RegistrationStatus.CONFIRMED,
               *([Registration.admitted_people == 0] if by_holder else []),
               *(to_come if to_come_only else []))
        .values(status=RegistrationStatus.CANCELLED, cancelled_at=utcnow(), updated_at=utcnow())
        .returning(Registration.session_id, Registration.party_size,
                   Registration.admitted_people)
        .execution_options(synchronize_session=False)).all()
    for session_id, party, inside in sorted(members):
        if party - inside > 0:
            places.release_places(session_id, party - inside)
            freed_sessions.append(session_id)
    return freed_sessions


def passes_of_event(event_id: int) -> dict[int, int]:
    """{a pass's registration id: its sessions} of the event's series passes (any status): the
    registrant list and the report say which rows are one family's pass, not as many families."""
    found = db.session.execute(
        select(Registration.pass_id, func.count(Registration.id))
        .where(Registration.event_id == event_id, Registration.pass_id.is_not(None))
        .group_by(Registration.pass_id)).all()
    return {holder: members + 1 for holder, members in found}


def is_member(registration: Registration) -> bool:
    return registration.pass_id is not None

