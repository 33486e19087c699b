"""What happened at an event: its attendance report (live during the event, final after it), and
the SQL pieces that define each figure once, for the report, the dashboards
(services/reporting/dashboards.py) and the door's live figures. Every figure is an SQL aggregate; no
loop over registrations.

A registration is one party (一个家庭); its people are `party_size`. "Registered" means confirmed
(holding a place at the end), or let in before an organiser cancelled it (its people who came);
"admitted" counts the people of those parties let in at the entrance; walk-ins are people without
a ticket, and each walk-in admission is one group (a family). A no-show is a registered party or
person of a session that has ended and nobody came: an upcoming session, or one under way, has
registrations, not no-shows.

The exporters (services/exports/) and the campaign digest (services/reporting/digest.py) read these
dataclasses; the pages render them. Callers decide who may see what before asking.

One number, one way: the door's live figures (services.door.desk.attendance) are these same queries.
An event's own report is there whatever its status.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Integer, Select, Subquery, and_, case, func, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ...extensions import db
from ...ids import is_row_id
from ...models import (
    Admission,
    AdmissionKind,
    Checkpoint,
    District,
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Organisation,
    Registration,
    RegistrationStatus,
    Tally,
)
from ...timeutil import utcnow
from ..errors import NotFound
from . import satisfaction as survey_figures
from .satisfaction import Satisfaction


@dataclass
class Attendance:
    """One line of figures: an event's session, the event as a whole, a district, an
    organisation."""

    registered_parties: int = 0  # confirmed registrations (and cancelled ones that came in)
    registered_people: int = 0
    admitted_parties: int = 0  # of those, parties with at least one person let in
    admitted_people: int = 0  # people of those let in at the entrance (re-entries not again)
    walk_in_groups: int = 0  # walk-in admissions
    walk_in_people: int = 0
    # Of sessions that have ended only: who was expected, and who did not come.
    due_people: int = 0  # registered people of ended sessions: the no-show rate's base
    no_show_parties: int = 0  # registered parties of ended sessions with nobody let in
    no_show_people: int = 0  # registered people of ended sessions not let in

    @property
    def no_show_rate(self) -> float | None:
        """Share of the registered people of ended sessions who did not come; None when no
        session has ended with anyone registered."""
        if not self.due_people:
            return None
        return self.no_show_people / self.due_people

    @property
    def families(self) -> int:
        """Parties that came: registered ones admitted plus walk-in groups (the press's 家庭)."""
        return self.admitted_parties + self.walk_in_groups

    @property
    def people(self) -> int:
        """Everyone who came in: admitted people plus walk-ins (the press's 人次)."""
        return self.admitted_people + self.walk_in_people

    @classmethod
    def of(cls, row: Any) -> Attendance:
        """From a row whose columns are named like the fields; None (an outer join) is 0."""
        return cls(**{f.name: int(getattr(row, f.name) or 0) for f in fields(cls)})

    @classmethod
    def total_of(cls, lines: Iterable[Attendance]) -> Attendance:
        """Lines added up (sessions into an event, districts into the city): sums of sums."""
        total = cls()
        for line in lines:
            for f in fields(cls):
                setattr(total, f.name, getattr(total, f.name) + getattr(line, f.name))
        return total


@dataclass
class SessionLine:
    session_id: int
    label: str
    starts_at: datetime  # UTC
    ends_at: datetime
    capacity: int
    figures: Attendance


@dataclass
class CheckpointLine:
    checkpoint_id: int
    name: str
    position: int  # 0 is the entrance
    parties: int  # admissions (entries, walk-ins and, at stations, visits); re-entries not counted
    people: int


@dataclass
class TallyLine:
    name: str  # e.g. 血压测量, 资料发放, 投诉
    count: int
    id: int | None = None  # the event's tally; None when summed by name across events


@dataclass
class ArrivalBin:
    starts_at: datetime  # UTC, on a quarter hour
    people: int  # let in at the entrance in these 15 minutes (tickets and walk-ins)
    # 场内人数 at the end of these 15 minutes: entries, re-entries and walk-ins so far − exits
    inside: int = 0


@dataclass
class EventReport:
    event_id: int
    title: str
    kind: EventKind
    district: str  # the district's Chinese name
    organisation: str
    host: str
    venue: str
    starts_at: datetime | None  # the first session's start (UTC)
    ends_at: datetime | None  # the last session's end
    final: bool  # the last session is over: the figures will not change any more
    generated_at: datetime
    totals: Attendance
    sessions: list[SessionLine]
    checkpoints: list[CheckpointLine]
    tallies: list[TallyLine]
    arrivals: list[ArrivalBin]  # every quarter hour from the first admission to the last, zeros kept
    # 满意度: the survey's answers (services.reporting.satisfaction); comments are asked apart
    satisfaction: Satisfaction = field(default_factory=Satisfaction)
    cancelled: bool = False  # the event was cancelled (its figures are what happened before)
    live: bool = False  # a session is under way now: the door is counting, the page may refresh


# --- SQL pieces: each figure is defined once, for the report, the dashboard and the door ---------

QUARTER_HOUR = 15 * 60  # seconds
DAY = 24 * 3600
SHANGHAI_OFFSET = 8 * 3600  # UTC+8 all year: China has kept no daylight saving since 1991
COUNTED = (AdmissionKind.ENTRY, AdmissionKind.WALK_IN, AdmissionKind.VISIT)  # not re-entries
ARRIVED = (AdmissionKind.ENTRY, AdmissionKind.WALK_IN)  # people coming in at the entrance
# Passes that bring people inside (services/door/occupancy.py: exits take them out again).
INSIDE_KINDS = (AdmissionKind.ENTRY, AdmissionKind.REENTRY, AdmissionKind.WALK_IN)
ATTENDANCE_FIELDS = tuple(f.name for f in fields(Attendance))


class epoch_seconds(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """Whole seconds since 1970 of a UTCDateTime column, which both databases hold as naive
    UTC: buckets of time (quarter hours, Shanghai days) are integer divisions of it."""

    type = Integer()
    name = "epoch_seconds"
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_seconds_sqlite(element, compiler, **kw) -> str:
    # SQLite stores the text 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime reads it as UTC.
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_seconds_postgresql(element, compiler, **kw) -> str:
    # A timestamp without time zone: EXTRACT takes it as UTC, whatever the server's TimeZone.
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


def bucket(at, seconds: int, offset: int = 0):
    """The bucket number of a time: literal constants, so SELECT and GROUP BY match on
    PostgreSQL (two bound parameters would be two different expressions to it)."""
    shifted = epoch_seconds(at)
    if offset:
        shifted = shifted + literal_column(str(offset), Integer)
    return shifted // literal_column(str(seconds), Integer)


def registered_by(key, now: datetime | None = None) -> Select:
    """What "registered", "admitted" and "no-show" mean, summed per `key` (the caller joins
    nothing: the session's end is read here).

    Registered: confirmed registrations (parties holding places), and those an organiser
    cancelled after some of their people came in, counted for the people who came (the holder
    cannot cancel then: services.registrations.register). Admitted: their people let in at the
    entrance. No-show: of sessions that have ended by `now`, registered parties with nobody let in,
    and registered people not let in."""
    ended = EventSession.ends_at <= (now or utcnow())
    confirmed = Registration.status == RegistrationStatus.CONFIRMED
    people = case((confirmed, Registration.party_size), else_=Registration.admitted_people)
    return (
        select(key.label("key"),
               func.count(Registration.id).label("registered_parties"),
               func.sum(people).label("registered_people"),
               func.count(case((Registration.admitted_people > 0, 1))).label("admitted_parties"),
               func.sum(Registration.admitted_people).label("admitted_people"),
               func.sum(case((ended, people), else_=0)).label("due_people"),
               func.count(case((and_(ended, Registration.admitted_people == 0), 1)))
               .label("no_show_parties"),
               func.sum(case((ended, people - Registration.admitted_people), else_=0))
               .label("no_show_people"))
        .join(EventSession, EventSession.id == Registration.session_id)
        .where(or_(confirmed, Registration.admitted_people > 0))
        .group_by(key)
    )


def counted_admissions(*where) -> Subquery:
    """The admissions that count: entries, walk-ins and station visits (a re-entry is the same
    people again). People who came in stay counted when their ticket is cancelled afterwards:
    they came."""
    return (
        select(Admission.event_id, Admission.session_id, Admission.checkpoint_id,
               Admission.registration_id, Admission.kind, Admission.people, Admission.at)
        .where(Admission.kind.in_(COUNTED), *where)
        .subquery()
    )


def walk_ins_by(admissions: Subquery, key) -> Subquery:
    """Walk-ins per `key`: each walk-in admission is one group (a family), with its people."""
    return (
        select(key.label("key"), func.count().label("walk_in_groups"),
               func.sum(admissions.c.people).label("walk_in_people"))
        .where(admissions.c.kind == AdmissionKind.WALK_IN)
        .group_by(key)
        .subquery()
    )


def figure_columns(registered: Subquery, walk_ins: Subquery) -> list:
    """The Attendance fields, in order, from the two subqueries above."""
    return [(registered if name in registered.c else walk_ins).c[name]
            for name in ATTENDANCE_FIELDS]


# --- one event ------------------------------------------------------------------------------------


def session_lines(event_id: int, session_id: int | None = None) -> list[SessionLine]:
    """Each session (or the one asked for) with its registrations and walk-ins: one query."""
    registered = (registered_by(Registration.session_id)
                  .where(Registration.event_id == event_id).subquery())
    admissions = counted_admissions(Admission.event_id == event_id)
    walk_ins = walk_ins_by(admissions, admissions.c.session_id)
    only = [] if session_id is None else [EventSession.id == session_id]
    rows = db.session.execute(
        select(EventSession.id, EventSession.label, EventSession.starts_at, EventSession.ends_at,
               EventSession.capacity, *figure_columns(registered, walk_ins))
        .outerjoin(registered, registered.c.key == EventSession.id)
        .outerjoin(walk_ins, walk_ins.c.key == EventSession.id)
        .where(EventSession.event_id == event_id, *only)
        .order_by(EventSession.starts_at, EventSession.id)
    ).all()
    return [SessionLine(session_id=r.id, label=r.label, starts_at=r.starts_at,
                        ends_at=r.ends_at, capacity=r.capacity, figures=Attendance.of(r))
            for r in rows]


def checkpoint_lines(event_id: int, session_id: int | None = None) -> list[CheckpointLine]:
    """Parties and people at each checkpoint: a party coming in part by part is one party."""
    where = [Admission.event_id == event_id]
    if session_id is not None:
        where.append(Admission.session_id == session_id)
    admissions = counted_admissions(*where)
    parties = (func.count(admissions.c.registration_id.distinct())
               + func.count(case((admissions.c.kind == AdmissionKind.WALK_IN, 1))))
    rows = db.session.execute(
        select(Checkpoint.id, Checkpoint.name, Checkpoint.position, parties.label("parties"),
               func.sum(admissions.c.people).label("people"))
        .outerjoin(admissions, admissions.c.checkpoint_id == Checkpoint.id)
        .where(Checkpoint.event_id == event_id)
        .group_by(Checkpoint.id, Checkpoint.name, Checkpoint.position)
        .order_by(Checkpoint.position)
    ).all()
    return [CheckpointLine(checkpoint_id=r.id, name=r.name, position=r.position,
                           parties=int(r.parties or 0), people=int(r.people or 0)) for r in rows]


def tally_lines(event_id: int) -> list[TallyLine]:
    rows = db.session.execute(
        select(Tally.id, Tally.name, Tally.count).where(Tally.event_id == event_id)
        .order_by(Tally.position, Tally.id)
    ).all()
    return [TallyLine(name=r.name, count=r.count, id=r.id) for r in rows]


def arrivals(event_id: int) -> list[ArrivalBin]:
    """People let in at the entrance per quarter hour, grouped in the database; the empty
    quarters between the first and the last are filled in here, over the bins only."""
    admissions = counted_admissions(Admission.event_id == event_id, Admission.kind.in_(ARRIVED))
    quarter = bucket(admissions.c.at, QUARTER_HOUR)
    people = filled(db.session.execute(
        select(quarter, func.sum(admissions.c.people)).group_by(quarter)).all())
    # People inside: every pass in or out, signed, per quarter; summed up over the quarters.
    moved = bucket(Admission.at, QUARTER_HOUR)
    signed = case((Admission.kind.in_(INSIDE_KINDS), Admission.people),
                  (Admission.kind == AdmissionKind.EXIT, -Admission.people), else_=0)
    net = {int(q): int(n or 0) for q, n in db.session.execute(
        select(moved, func.sum(signed))
        .where(Admission.event_id == event_id,
               Admission.kind.in_((*INSIDE_KINDS, AdmissionKind.EXIT)))
        .group_by(moved)).all()}
    bins, inside = [], 0
    for q, n in filled([*((q, 0) for q in net), *people]):
        inside = max(inside + int(net.get(q) or 0), 0)
        bins.append(ArrivalBin(starts_at=datetime.fromtimestamp(q * QUARTER_HOUR, UTC),
                               people=n, inside=inside))
    return bins


def filled(rows) -> list[tuple[int, int]]:
    """(bucket, count) for every bucket from the first to the last, zeros included."""
    counts = {int(bucket): int(n or 0) for bucket, n in rows}
    if not counts:
        return []
    return [(b, counts.get(b, 0)) for b in range(min(counts), max(counts) + 1)]


def event_report(event_id: int) -> EventReport:
    """The report of one event. NotFound for an unknown id (the caller checks visibility).
    Six queries, whatever the crowd."""
    head = None
    if is_row_id(event_id):
        head = db.session.execute(
            select(Event.title, Event.kind, Event.status, Event.host, Event.venue,
                   District.name.label("district"), Organisation.name.label("organisation"))
            .join(District, District.id == Event.district_id)
            .join(Organisation, Organisation.id == Event.organisation_id)
            .where(Event.id == event_id)
        ).first()
    if head is None:
        raise NotFound(_("No such event."))
    sessions = session_lines(event_id)
    now = utcnow()
    starts_at = min((s.starts_at for s in sessions), default=None)
    ends_at = max((s.ends_at for s in sessions), default=None)
    cancelled = head.status == EventStatus.CANCELLED
    return EventReport(
        event_id=event_id, title=head.title, kind=head.kind, district=head.district,
        organisation=head.organisation, host=head.host, venue=head.venue,
        starts_at=starts_at, ends_at=ends_at,
        final=ends_at is not None and ends_at <= now, generated_at=now,
        totals=Attendance.total_of(s.figures for s in sessions), sessions=sessions,
        checkpoints=checkpoint_lines(event_id), tallies=tally_lines(event_id),
        arrivals=arrivals(event_id), satisfaction=survey_figures.of_event(event_id),
        cancelled=cancelled,
        live=not cancelled and any(s.starts_at <= now < s.ends_at for s in sessions),
    )
