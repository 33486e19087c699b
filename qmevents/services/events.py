"""Events: creating, editing, publishing and cancelling, and telling registrants what changed.
What an event may be (the drafts and their validation) is services/event_rules.py; who sees which
events is services/access.py."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..links import parse_location
from ..models import (
    Checkpoint,
    CheckpointDirection,
    Event,
    EventKind,
    EventSession,
    EventStatus,
    RegistrationMode,
    Tally,
)
from ..timeutil import utcnow
from .errors import InvalidTransition, ValidationFailed
from .event_rules import (  # noqa: F401  (the drafts and limits are read as events.X too)
    DEFAULT_ADMISSION_OPENS_MINUTES,
    MAX_ADDRESS,
    MAX_ADMISSION_OPENS_MINUTES,
    MAX_CAPACITY,
    MAX_CHECKPOINT_NAME,
    MAX_CHECKPOINTS,
    MAX_DESCRIPTION,
    MAX_HOST,
    MAX_PARTY,
    MAX_SAFETY_CAP,
    MAX_SESSIONS,
    MAX_TALLIES,
    MAX_TALLY_NAME,
    MAX_TITLE,
    MAX_VENUE,
    EventDraft,
    SessionDraft,
    default_entrance_name,
    district_named,
    validate,
)
from .messaging import changes
from .registrations import waitlist

# --- writing ----------------------------------------------------------------------------------


def create_event(organisation_id: int, draft: EventDraft, publish: bool = False) -> Event:
    errors = validate(draft)
    if errors:
        raise ValidationFailed(errors)
    event = Event(organisation_id=organisation_id, status=EventStatus.DRAFT)
    _apply(event, draft)
    if publish:
        _publish(event)  # before the add, so a refusal leaves nothing pending in the session
    db.session.add(event)
    db.session.commit()
    return event


def update_event(event: Event, draft: EventDraft) -> Event:
    errors = validate(draft, existing=event)
    if errors:
        db.session.rollback()
        raise ValidationFailed(errors)
    capacities = {s.id: s.capacity for s in event.sessions}
    was = changes.before(event)
    _apply(event, draft)
    # Saved, even when only its sessions or stations changed: the public pages' fingerprint
    # (services/catalogue.py) and the door's ticket list read it.
    event.updated_at = utcnow()
    try:
        told = changes.stage_changed(event, was)  # registrants told in this transaction, once
        db.session.commit()
    except IntegrityError as exc:
        # A registration took places between the check above and this write: the database's
        # `places_taken <= capacity` constraint refused the lower capacity.
        db.session.rollback()
        raise ValidationFailed(
            {"sessions": _("Places were taken while you edited. Check the capacities and save "
                           "again.")}
        ) from exc
    # More places: the waiting list gets them first, at once.
    changes.dispatch(told)
    grown = [s.id for s in event.sessions if s.capacity > capacities.get(s.id, s.capacity)]
    for session_id in grown:
        waitlist.promote(session_id)
    return event


def _apply(event: Event, draft: EventDraft) -> None:
    event.title = draft.title.strip()
    event.kind = EventKind(draft.kind)
    event.district = district_named(draft.district)
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
        s = s or EventSession(places_taken=0)
        s.label = (d.label or "").strip()
        s.starts_at, s.ends_at, s.capacity = d.starts_at, d.ends_at, d.capacity
        s.registration_opens_at = d.registration_opens_at
        s.registration_closes_at = d.registration_closes_at
        s.safety_cap = d.safety_cap
        s.address = " ".join((d.address or "").split())
        point = parse_location(d.location or "")
        s.location = f"{point[0]:.6f},{point[1]:.6f}" if point else ""
        sessions.append(s)
    event.sessions = sessions

    names = [n.strip() for n in draft.checkpoints] or [default_entrance_name()]
    old = list(event.checkpoints)
    checkpoints = []
    for position, name in enumerate(names):
        # Keep a station's row (and what was recorded at it) when only its name or place changed.
        cp = old[position] if position < len(old) else Checkpoint()
        cp.name, cp.position = name, position
        directions = draft.checkpoint_directions
        cp.direction = CheckpointDirection(
            directions[position] if position < len(directions) else CheckpointDirection.IN)
        cp.address = _nth(draft.checkpoint_addresses, position)
        cp.hours = _nth(draft.checkpoint_hours, position)
        checkpoints.append(cp)
    event.checkpoints = checkpoints  # rows past the new list are deleted (delete-orphan)

    event.allow_reentry = bool(draft.allow_reentry)
    event.verify_phone = bool(draft.verify_phone)
    event.send_reminders = bool(draft.send_reminders)
    event.series_pass = bool(draft.series_pass)
    event.admission_opens_minutes = draft.admission_opens_minutes
    event.safety_cap = draft.safety_cap
    kept = {t.name: t for t in event.tallies}  # a tally keeps its row and count by its name
    tallies = []
    for position, name in enumerate(n.strip() for n in draft.tallies):
        tally = kept.get(name) or Tally(name=name, count=0)
        tally.position = position
        tallies.append(tally)
    event.tallies = tallies


def _nth(values: list[str], position: int) -> str:
    """The position's value of a list typed per checkpoint, tidied; "" past its end."""
    return " ".join(values[position].split()) if position < len(values) else ""


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
    told = changes.stage_cancelled(event)
    db.session.commit()
    changes.dispatch(told)
    return event
