"""Events: one validation for the organiser form and the API, publishing, cancelling, who may see
what, and the public listing with places left."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Checkpoint,
    District,
    Event,
    EventKind,
    EventStatus,
    RegistrationMode,
    Role,
    Session,
    StaffAssignment,
    User,
)
from ..timeutil import SHANGHAI, from_local, utcnow
from .errors import InvalidTransition, NotFound, ValidationFailed

MAX_TITLE = 120
MAX_VENUE = 200
MAX_ADDRESS = 255
MAX_HOST = 120
MAX_DESCRIPTION = 5000
MAX_PARTY = 20
MAX_CAPACITY = 100_000
MAX_SESSIONS = 60
MAX_CHECKPOINTS = 30
MAX_CHECKPOINT_NAME = 80


@dataclass
class SessionDraft:
    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int | None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    label: str = ""
    id: int | None = None  # an existing session being edited


@dataclass
class EventDraft:
    """What an organiser typed, from the form or the API, before validation."""

    title: str
    kind: str
    district: str  # its Chinese name, e.g. "杨浦区"
    venue: str
    address: str = ""
    description: str = ""
    host: str = ""
    max_party_size: int | None = 4
    registration_mode: str = RegistrationMode.FCFS.value
    sessions: list[SessionDraft] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)


def default_entrance_name() -> str:
    return _("Entrance")


# --- validation ---------------------------------------------------------------------------


def validate(draft: EventDraft, existing: Event | None = None) -> dict[str, str]:
    """Every rule about an event's fields, in one place. Returns {field path: message}."""
    errors: dict[str, str] = {}
    _text(errors, "title", draft.title, MAX_TITLE, required=True)
    _text(errors, "venue", draft.venue, MAX_VENUE, required=True)
    _text(errors, "address", draft.address, MAX_ADDRESS)
    _text(errors, "host", draft.host, MAX_HOST)
    _text(errors, "description", draft.description, MAX_DESCRIPTION)
    if draft.kind not in {k.value for k in EventKind}:
        errors["kind"] = _("Choose a kind of event.")
    if draft.registration_mode not in {m.value for m in RegistrationMode}:
        errors["registration_mode"] = _("Choose how places are given out.")
    if _district(draft.district) is None:
        errors["district"] = _("Choose one of Shanghai's 16 districts.")
    if not _int_between(draft.max_party_size, 1, MAX_PARTY):
        errors["max_party_size"] = _(
            "A party is 1 to %(max)d people.", max=MAX_PARTY
        )
    _validate_sessions(errors, draft.sessions, existing)
    _validate_checkpoints(errors, draft.checkpoints)
    return errors


def _text(errors: dict, key: str, value: str | None, limit: int, required: bool = False) -> None:
    value = (value or "").strip()
    if required and not value:
        errors[key] = _("This field is required.")
    elif len(value) > limit:
        errors[key] = _("At most %(n)d characters.", n=limit)


def _int_between(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _validate_sessions(errors: dict, drafts: list[SessionDraft], existing: Event | None) -> None:
    if not drafts:
        errors["sessions"] = _("Add at least one session.")
        return
    if len(drafts) > MAX_SESSIONS:
        errors["sessions"] = _("At most %(n)d sessions.", n=MAX_SESSIONS)
        return
    known = {s.id: s for s in existing.sessions} if existing else {}
    now = utcnow()
    for i, s in enumerate(drafts):
        p = f"sessions.{i}."
        old = known.get(s.id) if s.id is not None else None
        if s.id is not None and old is None:
            errors[p + "id"] = _("This session does not belong to the event.")
            continue
        if len(s.label or "") > 60:
            errors[p + "label"] = _("At most %(n)d characters.", n=60)
        if s.starts_at is None:
            errors[p + "starts_at"] = _("Enter the start date and time.")
        elif (old is None or old.starts_at != s.starts_at) and s.starts_at <= now:
            errors[p + "starts_at"] = _("The session must start in the future.")
        if s.ends_at is None:
            errors[p + "ends_at"] = _("Enter the end date and time.")
        elif s.starts_at is not None and s.ends_at <= s.starts_at:
            errors[p + "ends_at"] = _("The session must end after it starts.")
        elif s.starts_at is not None and s.ends_at - s.starts_at > timedelta(days=14):
            errors[p + "ends_at"] = _("A session lasts at most 14 days.")
        if not _int_between(s.capacity, 1, MAX_CAPACITY):
            errors[p + "capacity"] = _("Capacity is 1 to %(max)d people.", max=MAX_CAPACITY)
        elif old is not None and s.capacity < old.places_taken:
            errors[p + "capacity"] = _(
                "%(n)d people already hold places; capacity cannot be lower.", n=old.places_taken
            )
        opens, closes = s.registration_opens_at, s.registration_closes_at
        if opens and closes and closes <= opens:
            errors[p + "registration_closes_at"] = _("Registration must close after it opens.")
        elif closes and s.starts_at and closes > s.starts_at:
            errors[p + "registration_closes_at"] = _(
                "Registration must close before the session starts."
            )
        elif opens and s.starts_at and opens >= s.starts_at:
            errors[p + "registration_opens_at"] = _(
                "Registration must open before the session starts."
            )
    if existing is not None:
        kept = {s.id for s in drafts if s.id is not None}
        for old in existing.sessions:
            if old.id not in kept and old.places_taken:
                errors["sessions"] = _(
                    "A session that people registered for cannot be removed; cancel the event "
                    "or keep the session."
                )


def _validate_checkpoints(errors: dict, names: list[str]) -> None:
    cleaned = [n.strip() for n in names if n and n.strip()]
    if len(cleaned) > MAX_CHECKPOINTS:
        errors["checkpoints"] = _("At most %(n)d checkpoints.", n=MAX_CHECKPOINTS)
    elif any(len(n) > MAX_CHECKPOINT_NAME for n in cleaned):
        errors["checkpoints"] = _(
            "A checkpoint name has at most %(n)d characters.", n=MAX_CHECKPOINT_NAME
        )
    elif len(set(cleaned)) != len(cleaned):
        errors["checkpoints"] = _("Each checkpoint needs its own name.")


def _district(name: str | None) -> District | None:
    if not name:
        return None
    return db.session.scalar(select(District).filter_by(name=name.strip()))


# --- writing ----------------------------------------------------------------------------------


def create_event(organisation_id: int, draft: EventDraft, publish: bool = False) -> Event:
    errors = validate(draft)
    if errors:
        raise ValidationFailed(errors)
    event = Event(organisation_id=organisation_id, status=EventStatus.DRAFT)
    _apply(event, draft)
    db.session.add(event)
    if publish:
        _publish(event)
    db.session.commit()
    return event


def update_event(event: Event, draft: EventDraft) -> Event:
    errors = validate(draft, existing=event)
    if errors:
        db.session.rollback()
        raise ValidationFailed(errors)
    _apply(event, draft)
    db.session.commit()
    return event


def _apply(event: Event, draft: EventDraft) -> None:
    event.title = draft.title.strip()
    event.kind = EventKind(draft.kind)
    event.district = _district(draft.district)
    event.venue = draft.venue.strip()
    event.address = (draft.address or "").strip()
    event.description = (draft.description or "").strip()
    event.host = (draft.host or "").strip()
    event.max_party_size = draft.max_party_size
    event.registration_mode = RegistrationMode(draft.registration_mode)

    by_id = {s.id: s for s in event.sessions}
    sessions = []
    for d in draft.sessions:
        s = by_id.get(d.id) if d.id is not None else None
        s = s or Session(places_taken=0)
        s.label = (d.label or "").strip()
        s.starts_at, s.ends_at, s.capacity = d.starts_at, d.ends_at, d.capacity
        s.registration_opens_at = d.registration_opens_at
        s.registration_closes_at = d.registration_closes_at
        sessions.append(s)
    event.sessions = sessions

    names = [n.strip() for n in draft.checkpoints if n and n.strip()] or [default_entrance_name()]
    old = list(event.checkpoints)
    checkpoints = []
    for position, name in enumerate(names):
        # Keep a station's row (and what was recorded at it) when only its name or place changed.
        cp = old[position] if position < len(old) else Checkpoint()
        cp.name, cp.position = name, position
        checkpoints.append(cp)
    event.checkpoints = checkpoints  # rows past the new list are deleted (delete-orphan)


def _publish(event: Event) -> None:
    if event.status == EventStatus.CANCELLED:
        raise InvalidTransition(_("A cancelled event cannot be published again."))
    if not event.sessions:
        raise InvalidTransition(_("Add at least one session before publishing."))
    event.status = EventStatus.PUBLISHED
    event.published_at = event.published_at or utcnow()


def publish(event: Event) -> Event:
    _publish(event)
    db.session.commit()
    return event


def unpublish(event: Event) -> Event:
    if event.status != EventStatus.PUBLISHED:
        raise InvalidTransition(_("Only a published event can be taken back to draft."))
    event.status = EventStatus.DRAFT
    db.session.commit()
    return event


def cancel(event: Event) -> Event:
    if event.status == EventStatus.CANCELLED:
        raise InvalidTransition(_("The event is already cancelled."))
    event.status = EventStatus.CANCELLED
    db.session.commit()
    return event


# --- who sees what --------------------------------------------------------------------------


def events_visible_to(user: User):
    """A select of the events a signed-in user may see in the back office."""
    query = select(Event)
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.ORGANISER:
        return query.where(Event.organisation_id == user.organisation_id)
    assigned = select(StaffAssignment.event_id).where(StaffAssignment.user_id == user.id)
    return query.where(Event.id.in_(assigned))


def event_for(user: User, event_id: int) -> Event:
    """The event if the user may see it; otherwise NotFound, the same as an unknown id."""
    event = db.session.scalar(
        events_visible_to(user)
        .where(Event.id == event_id)
        .options(selectinload(Event.sessions), selectinload(Event.checkpoints))
    )
    if event is None:
        raise NotFound(_("No such event."))
    return event


def can_edit(user: User, event: Event) -> bool:
    return user.role == Role.ADMIN or (
        user.role == Role.ORGANISER and event.organisation_id == user.organisation_id
    )


def public_event(event_id: int, viewer: User | None = None) -> Event:
    """A published or cancelled event for citizens; a draft only for those who may see it."""
    event = db.session.get(
        Event, event_id, options=[selectinload(Event.sessions), selectinload(Event.checkpoints)]
    )
    if event is None:
        raise NotFound(_("No such event."))
    if event.status == EventStatus.DRAFT:
        if viewer is None or not can_edit(viewer, event):
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
        if self.district and _district(self.district) is None:
            errors["district"] = _("Choose one of Shanghai's 16 districts.")
        if self.kind and self.kind not in {k.value for k in EventKind}:
            errors["kind"] = _("Choose a kind of event.")
        if self.date_from and self.date_to and self.date_to < self.date_from:
            errors["date_to"] = _("The end date must not be before the start date.")
        return errors


def list_public_events(flt: ListingFilter, limit: int = 20, offset: int = 0,
                       viewer: User | None = None) -> tuple[list[Listing], int]:
    """Published events with a session still to come, soonest first, with places left.

    The aggregation runs in the database: one query for the page, one for the count.
    """
    errors = flt.errors()
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    conditions = [Session.ends_at > now]
    if flt.date_from:
        conditions.append(Session.ends_at >= from_local(datetime.combine(flt.date_from, datetime.min.time()), SHANGHAI))
    if flt.date_to:
        conditions.append(
            Session.starts_at
            < from_local(datetime.combine(flt.date_to + timedelta(days=1), datetime.min.time()), SHANGHAI)
        )
    upcoming = (
        select(
            Session.event_id.label("event_id"),
            func.min(Session.starts_at).label("next_starts_at"),
            func.sum(Session.capacity - Session.places_taken).label("places_left"),
            func.count(Session.id).label("sessions"),
        )
        .where(and_(*conditions))
        .group_by(Session.event_id)
        .subquery()
    )
    query = (
        select(Event, upcoming.c.next_starts_at, upcoming.c.places_left, upcoming.c.sessions)
        .join(upcoming, upcoming.c.event_id == Event.id)
        .where(Event.status == EventStatus.PUBLISHED)
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


def _aware(value: datetime) -> datetime:
    """SQLite hands aggregates back without the column type's processing."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def upcoming_sessions(event: Event, now: datetime | None = None) -> list[Session]:
    now = now or utcnow()
    return [s for s in event.sessions if s.ends_at > now]


def districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.position)))


__all__ = [
    "EventDraft", "Listing", "ListingFilter", "SessionDraft", "cancel", "can_edit",
    "create_event", "districts", "event_for", "events_visible_to", "list_public_events",
    "public_event", "publish", "unpublish", "update_event", "validate",
]
