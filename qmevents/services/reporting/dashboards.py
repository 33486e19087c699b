"""The district and campaign dashboards: per district and per organisation, the events, sessions,
registrations, admissions, families, walk-ins, tallies and 满意度 (the survey), filtered by dates, kind, district and
organisation. SQL aggregates over the pieces of services/reporting/reports.py, a fixed handful of
queries.

Only published events count (a draft never happened, a cancelled event did not take place).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Subquery, func, or_, select

from ...extensions import db
from ...ids import is_row_id
from ...models import (
    Admission,
    District,
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Organisation,
    Registration,
    Tally,
)
from ...timeutil import SHANGHAI, from_local
from ..errors import NotFound, ValidationFailed
from ..listings import EARLIEST_YEAR, LATEST_YEAR
from . import satisfaction
from .reports import (
    ARRIVED,
    ATTENDANCE_FIELDS,
    DAY,
    SHANGHAI_OFFSET,
    Attendance,
    TallyLine,
    bucket,
    counted_admissions,
    figure_columns,
    filled,
    registered_by,
    walk_ins_by,
)
from .satisfaction import Satisfaction


@dataclass
class DashboardFilter:
    date_from: date | None = None  # Shanghai dates, inclusive; an event counts by its sessions' days
    date_to: date | None = None
    kind: EventKind | None = None
    district_id: int | None = None
    organisation_id: int | None = None  # an organiser's dashboard is always its own organisation
    # A bureau's dashboard (services.access.oversees_district): its own events and every
    # published event of this district, whoever hosts it.
    bureau_district_id: int | None = None


@dataclass
class DashboardLine:
    key: int  # district id or organisation id
    name: str
    events: int
    sessions: int
    figures: Attendance
    tallies: int  # services counted at the door, all kinds summed
    name_en: str = ""  # a district's English name; an organisation has only its own name
    satisfaction: Satisfaction | None = None  # 满意度, when the survey has answers


@dataclass
class DayLine:
    day: date  # Shanghai date
    people: int  # let in that day (tickets and walk-ins)


@dataclass
class Dashboard:
    filter: DashboardFilter
    totals: DashboardLine  # key 0
    by_district: list[DashboardLine]  # the 16 districts' order, those with events only
    by_organisation: list[DashboardLine]
    by_kind: list[tuple[EventKind, int]]  # events per kind
    tallies: list[TallyLine] = field(default_factory=list)  # summed by name across events
    by_day: list[DayLine] = field(default_factory=list)


def dashboard(filter: DashboardFilter) -> Dashboard:
    """Figures per district and per organisation. ValidationFailed for a range that ends before
    it starts; NotFound for an unknown district or kind.

    Only published events count (drafts never happened; a cancelled event did not take place).
    The date range picks sessions by their start (Shanghai dates, inclusive): an event counts
    with those of its sessions in the range, their registrations and admissions; its tallies,
    kept per event, count whole. Seven queries (the survey's answers one of them), plus one per
    district or organisation asked for."""
    flt = _checked(filter)
    events = _event_figures(flt)
    lines = _line_columns(events)
    by_district = [_line(r, r.name_en) for r in db.session.execute(
        select(District.id.label("key"), District.name.label("name"), District.name_en, *lines)
        .join(events, events.c.district_id == District.id)
        .group_by(District.id, District.name, District.name_en, District.position)
        .order_by(District.position)
    ).all()]
    by_organisation = [_line(r) for r in db.session.execute(
        select(Organisation.id.label("key"), Organisation.name.label("name"), *lines)
        .join(events, events.c.organisation_id == Organisation.id)
        .join(District, District.id == Organisation.district_id)
        .group_by(Organisation.id, Organisation.name, District.position)
        .order_by(District.position, Organisation.name)
    ).all()]
    kinds = dict(db.session.execute(
        select(events.c.kind, func.count()).group_by(events.c.kind)).all())
    total = func.sum(Tally.count)
    tallies = db.session.execute(
        select(Tally.name, total).join(events, events.c.event_id == Tally.event_id)
        .group_by(Tally.name).order_by(total.desc(), Tally.name)
    ).all()
    answers = satisfaction.by_district_and_organisation(select(events.c.event_id))
    for lines_of, position in ((by_district, 0), (by_organisation, 1)):
        for line in lines_of:
            mine = satisfaction.added(a[2] for a in answers if a[position] == line.key)
            line.satisfaction = mine if mine.answers else None
    everyone = satisfaction.added(a[2] for a in answers)
    return Dashboard(
        filter=flt,
        totals=DashboardLine(
            key=0, name="", events=sum(d.events for d in by_district),
            sessions=sum(d.sessions for d in by_district),
            figures=Attendance.total_of(d.figures for d in by_district),
            tallies=sum(d.tallies for d in by_district),
            satisfaction=everyone if everyone.answers else None),
        by_district=by_district,
        by_organisation=by_organisation,
        by_kind=[(k, int(kinds[k])) for k in EventKind if k in kinds],
        tallies=[TallyLine(name=name, count=int(n or 0)) for name, n in tallies],
        by_day=_days(flt),
    )


def _checked(flt: DashboardFilter) -> DashboardFilter:
    """The filter with its kind as an EventKind; the problems a person can fix raise
    ValidationFailed (field names as the dataclass's), unknown things NotFound."""
    errors = {}
    for key in ("date_from", "date_to"):
        value = getattr(flt, key)
        if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            errors[key] = _("Enter a date between the years %(first)d and %(last)d.",
                            first=EARLIEST_YEAR, last=LATEST_YEAR)
    if not errors and flt.date_from and flt.date_to and flt.date_to < flt.date_from:
        errors["date_to"] = _("The end date must not be before the start date.")
    if errors:
        raise ValidationFailed(errors)
    kind = flt.kind
    if kind is not None:
        try:
            kind = EventKind(kind)
        except ValueError:
            raise NotFound(_("No such kind of event.")) from None
    if flt.district_id is not None and not _exists(District, flt.district_id):
        raise NotFound(_("No such district."))
    if flt.organisation_id is not None and not _exists(Organisation, flt.organisation_id):
        raise NotFound(_("No such organisation."))
    return replace(flt, kind=kind)


def _exists(model, key) -> bool:
    return bool(is_row_id(key) and db.session.scalar(select(model.id).where(model.id == key)))


def _counted_sessions(flt: DashboardFilter):
    """The sessions that count: of published events matching the filter, starting in the
    range (Shanghai dates, inclusive)."""
    conditions = [Event.status == EventStatus.PUBLISHED]
    if flt.kind is not None:
        conditions.append(Event.kind == flt.kind)
    if flt.district_id is not None:
        conditions.append(Event.district_id == flt.district_id)
    if flt.organisation_id is not None:
        conditions.append(owned_or_overseen(flt))
    if flt.date_from is not None:
        conditions.append(EventSession.starts_at >= _midnight(flt.date_from))
    if flt.date_to is not None:
        conditions.append(EventSession.starts_at < _midnight(flt.date_to + timedelta(days=1)))
    return (select(EventSession.id, EventSession.event_id)
            .join(Event, Event.id == EventSession.event_id)
            .where(*conditions).cte("counted_sessions"))


def owned_or_overseen(flt: DashboardFilter) -> ColumnElement[bool]:
    """The events of the filter's organisation, and for a bureau those of its district too."""
    own = Event.organisation_id == flt.organisation_id
    if flt.bureau_district_id is None:
        return own
    return or_(own, Event.district_id == flt.bureau_district_id)


def _midnight(day: date) -> datetime:
    return from_local(datetime.combine(day, datetime.min.time()), SHANGHAI)


def _event_figures(flt: DashboardFilter) -> Subquery:
    """One row per event that counts, with its figures over its sessions that count."""
    sessions = _counted_sessions(flt)
    in_range = select(sessions.c.id)
    per_event = (select(sessions.c.event_id.label("key"), func.count().label("sessions"))
                 .group_by(sessions.c.event_id).subquery())
    registered = (registered_by(Registration.event_id)
                  .where(Registration.session_id.in_(in_range)).subquery())
    admissions = counted_admissions(Admission.session_id.in_(in_range))
    walk_ins = walk_ins_by(admissions, admissions.c.event_id)
    tallies = (select(Tally.event_id.label("key"), func.sum(Tally.count).label("tallies"))
               .where(Tally.event_id.in_(select(sessions.c.event_id)))
               .group_by(Tally.event_id).subquery())
    return (
        select(Event.id.label("event_id"), Event.district_id, Event.organisation_id, Event.kind,
               per_event.c.sessions, *figure_columns(registered, walk_ins),
               tallies.c.tallies)
        .join(per_event, per_event.c.key == Event.id)
        .outerjoin(registered, registered.c.key == Event.id)
        .outerjoin(walk_ins, walk_ins.c.key == Event.id)
        .outerjoin(tallies, tallies.c.key == Event.id)
        .subquery("event_figures")
    )


def _line_columns(events: Subquery) -> list:
    """A DashboardLine's aggregates over the events' rows (SUM skips an outer join's NULLs)."""
    return [func.count(events.c.event_id).label("events"),
            func.sum(events.c.sessions).label("sessions"),
            *[func.sum(events.c[name]).label(name) for name in ATTENDANCE_FIELDS],
            func.sum(events.c.tallies).label("tallies")]


def _line(row: Any, name_en: str = "") -> DashboardLine:
    return DashboardLine(key=row.key, name=row.name, events=int(row.events),
                         sessions=int(row.sessions or 0), figures=Attendance.of(row),
                         tallies=int(row.tallies or 0), name_en=name_en or row.name)


def _days(flt: DashboardFilter) -> list[DayLine]:
    """People let in per Shanghai day, at the entrance of the sessions that count."""
    sessions = _counted_sessions(flt)
    admissions = counted_admissions(Admission.session_id.in_(select(sessions.c.id)),
                             Admission.kind.in_(ARRIVED))
    day = bucket(admissions.c.at, DAY, offset=SHANGHAI_OFFSET)
    rows = db.session.execute(select(day, func.sum(admissions.c.people)).group_by(day)).all()
    epoch = date(1970, 1, 1)
    return [DayLine(day=epoch + timedelta(days=d), people=n) for d, n in filled(rows)]
