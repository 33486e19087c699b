"""Who may do what: every rule of access in one module, each named as a question.

Three roles sign in (models.Role):
- ADMIN, the city: sees and edits every event, every district's figures, the outbox.
- ORGANISER, a district bureau or a host enterprise: its own organisation's events, edited and
  scanned, their figures, and their full phone numbers in an audited export. A bureau
  (OrgKind.BUREAU) also sees every published event of its district, whoever hosts it, with its
  figures, on its dashboard and in its campaign summary — read only: not edited, not scanned, no
  registrants' data (oversees_district).
- STAFF, door volunteers: the events they are assigned to, seen and scanned, never edited,
  never exported.
Citizens do not sign in: a ticket's code is their access (services.registrations.codes).

The blueprints turn these answers into HTTP: an event a user may not see is a 404, exactly like
an unknown id (its existence is not confirmed); one they may see but not change is a 403. The
services that act for a user ask the same questions, so the API, the pages and the CLI agree.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import DoorDevice, Event, EventStatus, OrgKind, Role, StaffAssignment, User
from .errors import Forbidden, NotFound

# --- the city -------------------------------------------------------------------------------


def sees_whole_city(user: User) -> bool:
    """The city's administrators: every organisation's events and figures, every district."""
    return user.role == Role.ADMIN


def may_read_outbox(user: User) -> bool:
    """Sent messages name citizens of every organisation: only the city reads them."""
    return sees_whole_city(user)


# --- events -----------------------------------------------------------------------------------


def events_visible_to(user: User) -> Select:
    """A select of the events `user` may see in the back office."""
    query = select(Event)
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.ORGANISER:
        district_id = oversees_district(user)
        if district_id is None:
            return query.where(Event.organisation_id == user.organisation_id)
        return query.where(or_(Event.organisation_id == user.organisation_id,
                               and_(Event.district_id == district_id,
                                    Event.status != EventStatus.DRAFT)))
    assigned = select(StaffAssignment.event_id).where(StaffAssignment.user_id == user.id)
    return query.where(Event.id.in_(assigned))


def visible_event(user: User, event_id: int) -> Event:
    """The event if `user` may see it, sessions and checkpoints loaded. Raises NotFound
    otherwise: the same answer as an unknown id."""
    event = db.session.scalar(
        events_visible_to(user)
        .where(Event.id == event_id)
        .options(selectinload(Event.sessions), selectinload(Event.checkpoints))
    )
    if event is None:
        raise NotFound(_("No such event."))
    return event


def oversees_district(user: User) -> int | None:
    """The district whose published events `user` sees as its bureau's organiser; None for
    everyone else (an enterprise sees only its own, the city sees all anyway)."""
    org = user.organisation if user.role == Role.ORGANISER else None
    return org.district_id if org is not None and org.kind == OrgKind.BUREAU else None


def may_see_registrants(user: User, event: Event) -> bool:
    """Who registered (masked): those who may edit the event and its door staff (people); a
    bureau looking over an enterprise's event sees its figures, not its people; a paired door
    device scans and reads figures, nothing more."""
    if user.role == Role.STAFF:
        return not is_door_device(user)
    return may_edit(user, event)


def is_door_device(user: User) -> bool:
    """The account of a phone paired as a door device (services/devices.py)."""
    return bool(db.session.scalar(select(exists().where(DoorDevice.user_id == user.id))))


def may_read_comments(user: User, event: Event) -> bool:
    """The satisfaction survey's comments (free text that may name someone): the event's
    organisers and admins; door staff and a bureau looking over the event see the figures."""
    return may_edit(user, event)


def may_edit(user: User, event: Event) -> bool:
    """An admin, or an organiser of the event's organisation: edit, decide about applicants,
    invite, draw lots, cancel registrations."""
    return user.role == Role.ADMIN or (
        user.role == Role.ORGANISER and event.organisation_id == user.organisation_id
    )


def may_register_by_phone(user: User, event: Event) -> bool:
    """代报名: the event's organisers and admins, and the bureau of its district for a published
    event (the hotline a citizen without a smartphone calls); never door staff or devices."""
    if may_edit(user, event):
        return True
    return (event.status == EventStatus.PUBLISHED and oversees_district(user) is not None
            and oversees_district(user) == event.district_id)


def editable_event(user: User, event_id: int) -> Event:
    """The event if `user` may change it. Raises NotFound when they may not even see it (another
    organisation's), Forbidden when they may only look (door staff assigned to it)."""
    event = visible_event(user, event_id)
    if not may_edit(user, event):
        raise Forbidden(_("Only the event's organisers may do this."))
    return event


def may_create_events(user: User) -> bool:
    """Admins (for any organisation) and organisers who belong to one (for their own)."""
    return user.role == Role.ADMIN or (
        user.role == Role.ORGANISER and user.organisation_id is not None
    )


def may_manage_members(user: User) -> bool:
    """Invite colleagues into one's organisation and remove them: its organisers (the city's
    admins create organisations and their first organiser with the CLI)."""
    return user.role == Role.ORGANISER and user.organisation_id is not None


def may_choose_organisation(user: User) -> bool:
    """Whether `user` names the organisation of an event they create (the city does); everyone
    else creates for their own."""
    return sees_whole_city(user)


def listed_for(viewer: User | None) -> ColumnElement[bool]:
    """Which events the public listing shows `viewer`: published events for everyone, drafts too
    for those who may edit them (see may_edit), so an organiser can look before publishing."""
    published = Event.status == EventStatus.PUBLISHED
    if viewer is None or viewer.role not in (Role.ADMIN, Role.ORGANISER):
        return published
    draft = Event.status == EventStatus.DRAFT
    if viewer.role == Role.ORGANISER:
        draft = and_(draft, Event.organisation_id == viewer.organisation_id)
    return or_(published, draft)


# --- the door -------------------------------------------------------------------------------


def may_scan(user: User, event: Event) -> bool:
    """Admins, organisers of the event's organisation, and staff assigned to the event, while
    their account is active."""
    if user.role != Role.STAFF:
        return may_scan_for(user, event.organisation_id, assigned=False)
    assigned = db.session.scalar(select(exists().where(
        StaffAssignment.event_id == event.id, StaffAssignment.user_id == user.id)))
    return may_scan_for(user, event.organisation_id, assigned=bool(assigned))


def may_scan_for(user: User, organisation_id: int, assigned: bool) -> bool:
    """may_scan when the event's organisation and the user's assignment to it are already known
    (the check-in's one query loads them with the ticket)."""
    if not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.ORGANISER:
        return user.organisation_id == organisation_id
    return assigned


# --- figures and personal data ----------------------------------------------------------------


def dashboard_scope(user: User, organisation_id: int | None) -> int | None:
    """Whose figures the dashboard and the campaign summary show `user`: for the city the
    organisation asked for (None: all), for an organiser always their own, whatever was asked
    (a bureau's reach over its district is added by oversees_district). Raises Forbidden for
    door staff."""
    if sees_whole_city(user):
        return organisation_id
    if user.role != Role.ORGANISER or user.organisation_id is None:
        raise Forbidden(_("Only organisers and administrators see the dashboard."))
    return user.organisation_id


def may_unmask(user: User, event: Event) -> bool:
    """Full phone and ID numbers, in an audited export, only for the event's organiser (of its
    organisation) or an admin. Door staff see masked numbers and export nothing."""
    return may_edit(user, event)
