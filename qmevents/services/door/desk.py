"""Everything at the door besides a scan (services/door/checkin.py): walk-ins, service tallies, the
live figures, finding a ticket by name or phone, and undoing a mistaken admission.

Counts stay right with many phones at once: a tally changes only by `UPDATE … SET count = count
+ n` (never read, add, write), a walk-in is one INSERT, and the figures are SQL aggregates.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, delete, func, insert, select, update

from ...extensions import db
from ...ids import is_count, is_row_id
from ...models import (
    HOLDS_PLACES,
    Admission,
    AdmissionKind,
    Event,
    EventSession,
    Registration,
    RegistrationStatus,
    Tally,
    User,
)
from ...timeutil import to_local, utcnow
from .. import access, audit
from ..errors import DomainError, Forbidden, NotFound, ValidationFailed
from ..identity import mask_mobile, name_refusal, normalise_mobile, normalise_name
from ..registrations import waitlist
from ..registrations.places import release_places
from ..registrations.registrants import MAX_SEARCH, name_or_phone_matches
from ..reporting import reports
from . import occupancy
from .checkin import Result, ScanAnswer, TicketView, ticket_view

MAX_WALK_IN = 500  # people in one walk-in count: a school class, a bus of pensioners
MAX_BUMP = 1000


class UndoRefused(DomainError):
    """The admission may not be undone any more: too late, or not the ticket's last."""

    code = "undo_refused"


@dataclass
class TallyFigure:
    id: int
    name: str
    count: int


@dataclass
class CheckpointFigure:
    id: int
    name: str
    people: int  # let in at the entrance (tickets and walk-ins, re-entries not again); visits
    inside_now: int = 0  # people in through it minus people out through it (its area)


@dataclass
class Figures:
    registered_people: int  # of confirmed registrations
    registered_parties: int
    admitted_people: int  # of those, let in at the entrance
    admitted_parties: int  # parties with at least one person in
    walk_in_people: int
    tallies: list[TallyFigure]
    checkpoints: list[CheckpointFigure]
    inside_now: int = 0  # entries + re-entries + walk-ins − exits (services/door/occupancy.py)
    safety_cap: int | None = None  # 最大承载量: the session's, else the event's
    cap_state: str = "ok"  # "ok", "warn" (≥ 90%), "full" (≥ 100%)


# --- who may stand at the door ------------------------------------------------------------------


def door_event(event_id: int, user: User) -> Event:
    """The event when `user` may work its door; NotFound for an unknown one, Forbidden else."""
    event = db.session.get(Event, event_id) if is_row_id(event_id) else None
    if event is None:
        raise NotFound(_("No such event."))
    if not access.may_scan(user, event):
        raise Forbidden(_("You are not on the door staff of this event."))
    return event


def session_at_the_door(event: Event, now: datetime | None = None) -> EventSession | None:
    """The session a door phone works by default: the one under way (from its admission window,
    Event.admission_opens_minutes before the start), else the next to come, else the last one
    held. (A walk-in without a session goes to the one running today nearest to now: see
    `walk_in`.)"""
    if not event.sessions:
        return None
    now = now or utcnow()
    early = timedelta(minutes=event.admission_opens_minutes)
    for session in event.sessions:
        if session.starts_at <= now + early and now < session.ends_at:
            return session
    upcoming = [s for s in event.sessions if s.starts_at > now]
    return upcoming[0] if upcoming else event.sessions[-1]


# --- figures ------------------------------------------------------------------------------------


def attendance(event_id: int, session_id: int | None = None) -> Figures:
    """People and parties registered and let in, walk-ins, tallies and people per checkpoint, for
    the event or one of its sessions: the event report's own queries (services.reporting.reports),
    so the door and the report never disagree. Three aggregate queries, whatever the crowd."""
    _check_session(event_id, session_id)
    totals = reports.Attendance.total_of(
        line.figures for line in reports.session_lines(event_id, session_id))
    inside = occupancy.occupancy(event_id, session_id)
    return Figures(
        registered_people=totals.registered_people, registered_parties=totals.registered_parties,
        admitted_people=totals.admitted_people, admitted_parties=totals.admitted_parties,
        walk_in_people=totals.walk_in_people,
        tallies=[TallyFigure(id=t.id, name=t.name, count=t.count)
                 for t in reports.tally_lines(event_id)],
        checkpoints=[CheckpointFigure(id=c.checkpoint_id, name=c.name, people=c.people,
                                      inside_now=inside.by_checkpoint.get(c.checkpoint_id, 0))
                     for c in reports.checkpoint_lines(event_id, session_id)],
        inside_now=inside.inside_now, safety_cap=inside.safety_cap, cap_state=inside.cap_state,
    )


def _check_session(event_id: int, session_id: int | None) -> None:
    if session_id is None:
        return
    found = is_row_id(session_id) and db.session.scalar(
        select(EventSession.id)
        .where(EventSession.id == session_id, EventSession.event_id == event_id))
    if not found:
        raise ValidationFailed({"session_id": _("Choose one of this event's sessions.")})


# --- walk-ins -----------------------------------------------------------------------------------


def walk_in(event_id: int, session_id: int | None, people: int, staff: User,
            name: str | None = None, phone: str | None = None, *,
            override: bool = False, at: datetime | None = None,
            offline: bool = False) -> ScanAnswer:
    """People without a ticket, let in on the spot: counted anonymously (+1, +N), or with a name
    and a mobile when they give them. No session given: the one running today (Shanghai).
    Under a safety cap, refused (`over_capacity`) when they would pass it, unless `override`
    (audited): services/door/occupancy.py. `at` and `offline`: counted by a device without the
    network, at its clock's `at` (services/door/sync.py); never refused for the cap then."""
    event = door_event(event_id, staff)
    errors: dict[str, str] = {}
    if not is_count(people, MAX_WALK_IN):
        errors["people"] = _("Count 1 to %(n)d people.", n=MAX_WALK_IN)
    typed = name.strip() if isinstance(name, str) else ""
    name = normalise_name(typed) if typed else None
    if typed and name is None:
        errors["name"] = name_refusal()
    mobile = None
    if phone is not None and str(phone).strip():
        mobile = normalise_mobile(str(phone))
        if mobile is None:
            errors["phone"] = _("Enter a mainland mobile number of 11 digits, or leave it out.")
    session_id = _walk_in_session(event, session_id, errors)
    if errors:
        raise ValidationFailed(errors)
    entrance = event.entrance
    row = dict(event_id=event.id, session_id=session_id, checkpoint_id=entrance.id,
               registration_id=None, kind=AdmissionKind.WALK_IN, people=people,
               at=at or utcnow(), by_id=staff.id, name=name, phone=mobile, offline=offline)
    cap = None if offline else occupancy.session_cap(event, session_id)
    over = override and cap is not None and occupancy.over(db.session, cap, people)
    if cap is not None and not override:
        with occupancy.counting(db.session, event.id):
            admission_id = occupancy.record_if(db.session, row, occupancy.room_for(cap, people))
    else:
        admission_id = db.session.execute(
            insert(Admission).values(**row).returning(Admission.id)).scalar_one()
    db.session.commit()
    if admission_id is None:
        inside = occupancy.inside_of_cap(db.session, cap)
        return ScanAnswer(result=Result.OVER_CAPACITY, ticket=None, admitted_people=0,
                          remaining_people=0, previous=None,
                          message=occupancy.full_message(inside, cap), admission_id=None)
    who = f"{name} {mask_mobile(mobile)}".strip()
    message = (_("Walk-in: %(who)s, %(n)d people.", who=who, n=people) if who
               else _("Walk-in: %(n)d people counted.", n=people))
    answer = ScanAnswer(result=Result.ADMITTED, ticket=None, admitted_people=people,
                        remaining_people=0, previous=None, message=message,
                        admission_id=admission_id)
    return occupancy.admitted_under_cap(db.session, answer, cap, over, staff)


def walk_out(event_id: int, session_id: int | None, people: int, staff: User, *,
             checkpoint_id: int | None = None, at: datetime | None = None,
             offline: bool = False) -> ScanAnswer:
    """People without a ticket (or whose ticket nobody scans) leaving: "1 人离场". Counted out
    of "inside now" of their session (given, or the one running today), never below zero: one
    conditional INSERT refuses more people than are inside. At the checkpoint given, else the
    event's first exit, else the entrance."""
    event = door_event(event_id, staff)
    errors: dict[str, str] = {}
    if not is_count(people, MAX_WALK_IN):
        errors["people"] = _("Count 1 to %(n)d people.", n=MAX_WALK_IN)
    checkpoint = occupancy.exit_checkpoint(event, checkpoint_id if is_row_id(checkpoint_id)
                                           else (None if checkpoint_id is None else -1))
    if checkpoint is None:
        errors["checkpoint_id"] = _("Choose one of this event's checkpoints.")
    session_id = _walk_in_session(event, session_id, errors)
    if errors:
        raise ValidationFailed(errors)
    row = occupancy.exit_row(event.id, session_id, checkpoint.id, None, people, staff.id,
                             at or utcnow(), offline)
    with occupancy.counting(db.session, event.id):
        admission_id = occupancy.record_if(
            db.session, row, occupancy.people_inside_at_least(event.id, session_id, people))
    db.session.commit()
    if admission_id is None:
        inside = occupancy.inside_now(db.session, event.id, session_id)
        raise ValidationFailed({"people": _(
            "Only %(n)d people are inside now: nobody more can leave.", n=inside)
            if inside else _("Nobody is inside now: nobody can leave.")})
    return ScanAnswer(result=Result.EXITED, ticket=None, admitted_people=0, remaining_people=0,
                      previous=None, message=_("%(n)d people left.", n=people),
                      admission_id=admission_id, exited_people=people)


def _walk_in_session(event: Event, session_id: int | None, errors: dict) -> int | None:
    """The session given (it must be the event's), or the one running today nearest to now."""
    if session_id is not None:
        if not any(s.id == session_id for s in event.sessions):
            errors["session_id"] = _("Choose one of this event's sessions.")
        return session_id
    now = utcnow()
    today = to_local(now).date()
    running = [s for s in event.sessions
               if to_local(s.starts_at).date() <= today <= to_local(s.ends_at).date()]
    if not running:
        errors["session_id"] = _("No session of this event runs today: choose one.")
        return None
    return min(running, key=lambda s: abs((s.starts_at - now).total_seconds())).id


# --- tallies ------------------------------------------------------------------------------------


def bump_tally(event_id: int, tally_id: int, by: int, staff: User) -> int:
    """Add `by` (negative to correct a mistake) and return the new count, never below 0."""
    return bump(event_id, tally_id, by, staff).count


def bump(event_id: int, tally_id: int, by: int, staff: User) -> TallyFigure:
    """bump_tally, answering the tally's name too. One UPDATE … RETURNING whose arithmetic runs
    in the database: bumps from many phones add up exactly."""
    door_event(event_id, staff)
    if not (isinstance(by, int) and not isinstance(by, bool) and by and abs(by) <= MAX_BUMP):
        raise ValidationFailed({"by": _("Add -%(n)d to %(n)d, not 0.", n=MAX_BUMP)})
    if not is_row_id(tally_id):
        raise NotFound(_("This event counts no such service."))
    new_count = case((Tally.count + by < 0, 0), else_=Tally.count + by)
    row = db.session.execute(
        update(Tally).where(Tally.id == tally_id, Tally.event_id == event_id)
        .values(count=new_count).returning(Tally.id, Tally.name, Tally.count)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        db.session.rollback()
        raise NotFound(_("This event counts no such service."))
    db.session.commit()
    return TallyFigure(id=row.id, name=row.name, count=row.count)


# --- finding a ticket without its code ------------------------------------------------------------


def search(event_id: int, session_id: int | None, query: str, limit: int = 20) -> list[TicketView]:
    """Tickets of the event by part of the name, the phone's last four digits or the whole
    number: for the family whose phone died in the queue. Confirmed first; phones masked; each
    ticket named by its id, never by its code (registrants.name_or_phone_matches says why a
    search reveals no more than the masked number it shows)."""
    _check_session(event_id, session_id)
    text = unicodedata.normalize("NFKC", query or "").strip()
    if len(text) > MAX_SEARCH:
        raise ValidationFailed({"q": _("At most %(n)d characters.", n=MAX_SEARCH)})
    if not text:
        return []
    where = [Registration.event_id == event_id, name_or_phone_matches(text)]
    if session_id is not None:
        where.append(Registration.session_id == session_id)
    rows = db.session.execute(
        select(Registration.id.label("registration_id"), Registration.name, Registration.phone,
               Registration.party_size, Registration.status, Registration.admitted_people,
               Registration.event_id.label("ticket_event_id"), Registration.session_id,
               EventSession.starts_at, Event.title.label("event_title"))
        .join(EventSession, EventSession.id == Registration.session_id)
        .join(Event, Event.id == Registration.event_id)
        .where(*where)
        .order_by(case((Registration.status == RegistrationStatus.CONFIRMED, 0), else_=1),
                  EventSession.starts_at, Registration.name, Registration.id)
        .limit(max(1, min(limit, 100)))
    ).all()
    return [ticket_view(row) for row in rows]


# --- undoing a mistake ----------------------------------------------------------------------------


def undo(admission_id: int, staff: User) -> None:
    """Take back an admission made by mistake: only the ticket's last one, and only within
    DOOR_UNDO_MINUTES. People let in at the entrance are uncounted; the audit log keeps it."""
    admission = db.session.get(Admission, admission_id) if is_row_id(admission_id) else None
    if admission is None:
        raise NotFound(_("No such admission."))
    door_event(admission.event_id, staff)
    minutes = current_app.config["DOOR_UNDO_MINUTES"]
    if utcnow() - admission.at > timedelta(minutes=minutes):
        raise UndoRefused(_("An admission can be undone within %(n)d minutes only.", n=minutes))
    if admission.registration_id is not None and admission.id != db.session.scalar(
            select(func.max(Admission.id))
            .where(Admission.registration_id == admission.registration_id)):
        raise UndoRefused(_("Only the ticket's last admission can be undone."))
    # The DELETE decides between two phones undoing at once; then the count, conditionally.
    removed = db.session.execute(
        delete(Admission).where(Admission.id == admission.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed != 1:
        db.session.rollback()
        raise UndoRefused(_("This admission was undone already."))
    promotions = []
    if admission.kind == AdmissionKind.ENTRY:
        status = db.session.execute(
            update(Registration)
            .where(Registration.id == admission.registration_id,
                   Registration.admitted_people >= admission.people)
            .values(admitted_people=Registration.admitted_people - admission.people)
            .returning(Registration.status)
            .execution_options(synchronize_session=False)
        ).scalar()
        if status is not None and status not in HOLDS_PLACES:
            # Cancelled by the organiser after they came in (services.registrations.cancellation):
            # these people kept their places as long as they were counted inside; not any more.
            release_places(admission.session_id, admission.people)
            promotions = waitlist.promote_in_transaction(admission.session_id)
    audit.record("admission_undone", actor_id=staff.id, event_id=admission.event_id,
                 registration_id=admission.registration_id, admission_id=admission.id,
                 kind=admission.kind.value, people=admission.people,
                 checkpoint_id=admission.checkpoint_id, at=admission.at.isoformat())
    db.session.expunge(admission)
    db.session.commit()
    waitlist.announce(promotions)
