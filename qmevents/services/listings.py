"""Which events a person sees: the back office's list for a signed-in user, the public listing
with places left, and the event page. Aggregates run in the database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import District, Event, EventKind, EventSession, EventStatus, User
from ..timeutil import SHANGHAI, from_local, utcnow
from . import access
from .errors import NotFound, ValidationFailed
from .events import district_named

# Dates outside these years are typing mistakes, and would overflow the conversion to UTC.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2999


@dataclass
class OfficeRow:
    """One line of the back office's list: the event and its sessions' totals."""

    event: Event
    next_starts_at: datetime | None  # the first session not yet over; None when all are
    places_taken: int
    capacity: int
    sessions: int


def office_events(user: User, limit: int = 20, offset: int = 0) -> tuple[list[OfficeRow], int]:
    """The events a user may see in the back office, those with a session to come first
    (soonest first), then the rest, newest first. Totals are summed in the database."""
    now = utcnow()
    totals = (
        select(
            EventSession.event_id.label("event_id"),
            func.min(case((EventSession.ends_at > now, EventSession.starts_at)))
            .label("next_starts_at"),
            func.sum(EventSession.places_taken).label("taken"),
            func.sum(EventSession.capacity).label("capacity"),
            func.count(EventSession.id).label("sessions"),
        )
        .group_by(EventSession.event_id)
        .subquery()
    )
    visible = access.events_visible_to(user).subquery()
    total = db.session.scalar(select(func.count()).select_from(visible))
    query = (
        access.events_visible_to(user)
        .add_columns(totals.c.next_starts_at, totals.c.taken, totals.c.capacity,
                     totals.c.sessions)
        .outerjoin(totals, totals.c.event_id == Event.id)
        .order_by(
            case((totals.c.next_starts_at.is_(None), 1), else_=0),
            totals.c.next_starts_at,
            Event.id.desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    rows = [
        OfficeRow(
            event=e,
            next_starts_at=_aware(next_at) if next_at is not None else None,
            places_taken=int(taken or 0),
            capacity=int(capacity or 0),
            sessions=int(n or 0),
        )
        for e, next_at, taken, capacity, n in db.session.execute(query).all()
    ]
    return rows, int(total or 0)


def public_event(event_id: int, viewer: User | None = None) -> Event:
    """A published or cancelled event for citizens; a draft only for those who may see it."""
    event = db.session.get(
        Event, event_id, options=[selectinload(Event.sessions), selectinload(Event.checkpoints)]
    )
    if event is None:
        raise NotFound(_("No such event."))
    if event.status == EventStatus.DRAFT:
        if viewer is None or not access.may_edit(viewer, event):
            raise NotFound(_("No such event."))
    return event


# --- the public listing ---------------------------------------------------------------------


@dataclass
class Listing:
    event: Event
    next_starts_at: datetime
    places_left: int
    upcoming_sessions: int


@dataclass
class ListingFilter:
    district: str | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def errors(self) -> dict[str, str]:
        errors = {}
        for key in ("date_from", "date_to"):
            value = getattr(self, key)
            if value and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
                errors[key] = _("Enter a date between the years %(first)d and %(last)d.",
                                first=EARLIEST_YEAR, last=LATEST_YEAR)
        if errors:
            return errors
        if self.district and district_named(self.district) is None:
            errors["district"] = _("Choose one of Shanghai's 16 districts.")
        if self.kind and self.kind not in {k.value for k in EventKind}:
            errors["kind"] = _("Choose a kind of event.")
        if self.date_from and self.date_to and self.date_to < self.date_from:
            errors["date_to"] = _("The end date must not be before the start date.")
        return errors


def list_public_events(flt: ListingFilter, limit: int = 20, offset: int = 0,
                       viewer: User | None = None) -> tuple[list[Listing], int]:
    """Published events with a session still to come, soonest first, with places left; a
    viewer who may edit drafts sees those too. One query for the page, one for the count."""
    errors = flt.errors()
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    conditions = [EventSession.ends_at > now]
    if flt.date_from:
        conditions.append(EventSession.ends_at >= _start_of(flt.date_from))
    if flt.date_to:
        conditions.append(EventSession.starts_at < _start_of(flt.date_to + timedelta(days=1)))
    upcoming = (
        select(
            EventSession.event_id.label("event_id"),
            func.min(EventSession.starts_at).label("next_starts_at"),
            func.sum(EventSession.capacity - EventSession.places_taken).label("places_left"),
            func.count(EventSession.id).label("sessions"),
        )
        .where(and_(*conditions))
        .group_by(EventSession.event_id)
        .subquery()
    )
    query = (
        select(Event, upcoming.c.next_starts_at, upcoming.c.places_left, upcoming.c.sessions)
        .join(upcoming, upcoming.c.event_id == Event.id)
        .where(access.listed_for(viewer))
    )
    if flt.district:
        query = query.join(District, District.id == Event.district_id).where(
            District.name == flt.district.strip()
        )
    if flt.kind:
        query = query.where(Event.kind == EventKind(flt.kind))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(upcoming.c.next_starts_at, Event.id).limit(limit).offset(offset)
    ).all()
    listings = [
        Listing(
            event=e,
            next_starts_at=_aware(next_at),
            places_left=int(left or 0),
            upcoming_sessions=int(n),
        )
        for e, next_at, left, n in rows
    ]
    return listings, int(total or 0)


def _start_of(day: date) -> datetime:
    """Midnight of a Shanghai date, in UTC."""
    return from_local(datetime.combine(day, datetime.min.time()), SHANGHAI)


def _aware(value: datetime) -> datetime:
    """SQLite hands aggregates back without the column type's processing."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def upcoming_sessions(event: Event, now: datetime | None = None) -> list[EventSession]:
    now = now or utcnow()
    return [s for s in event.sessions if s.ends_at > now]


def districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.position)))

