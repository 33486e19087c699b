"""What an event may be: the limits of its fields, the drafts the organiser form and the API fill
in, and `validate`, every rule about an event's fields in one place (services/events.py writes
what passes)."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..links import parse_location
from ..models import (
    CheckpointDirection,
    District,
    Event,
    EventKind,
    EventSession,
    Registration,
    RegistrationMode,
)
from ..models.registration import ENDED
from ..timeutil import utcnow

MAX_TITLE = 120
MAX_VENUE = 200
MAX_ADDRESS = 255
MAX_HOURS = 60  # a station's opening hours, e.g. 09:00-16:00
MAX_HOST = 120
MAX_DESCRIPTION = 5000
MAX_PARTY = 20
MAX_CAPACITY = 100_000
MAX_SESSIONS = 60
MAX_CHECKPOINTS = 30
MAX_CHECKPOINT_NAME = 80
MAX_TALLIES = 20
MAX_TALLY_NAME = 40
DEFAULT_ADMISSION_OPENS_MINUTES = 60
MAX_ADMISSION_OPENS_MINUTES = 24 * 60
MAX_SAFETY_CAP = 1_000_000  # 最大承载量: people inside at once


@dataclass
class SessionDraft:
    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int | None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    label: str = ""
    id: int | None = None  # an existing session being edited
    safety_cap: int | None = None  # 最大承载量 of this session; wins over the event's
    address: str = ""  # where this session meets when not at the event's address
    location: str = ""  # "lat,lng" for its map link (links.map_url); "" for none


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
    # Which way people pass each checkpoint, by position ("in", "out", "both"); missing: "in".
    checkpoint_directions: list[str] = field(default_factory=list)
    # A tour's stations: where each is and when it is open, by position; missing: "".
    checkpoint_addresses: list[str] = field(default_factory=list)
    checkpoint_hours: list[str] = field(default_factory=list)
    series_pass: bool = False  # 系列通票: one registration for several sessions (first come)
    # Services counted at the door (血压测量, 资料发放…), in the order the door page shows them.
    tallies: list[str] = field(default_factory=list)
    allow_reentry: bool = False  # may a ticket already let in pass the entrance again
    # A place is final only for a phone proven with a code (services.registrations.register).
    verify_phone: bool = True
    send_reminders: bool = True  # a text the day before, at 18:00 (messaging.reminders)
    # The door admits a session's tickets from this many minutes before it starts.
    admission_opens_minutes: int | None = DEFAULT_ADMISSION_OPENS_MINUTES
    # 最大承载量 of the venue: people inside at once (services/door/occupancy.py); None: no cap.
    safety_cap: int | None = None


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
    if not _one_of(draft.kind, EventKind):
        errors["kind"] = _("Choose a kind of event.")
    if not _one_of(draft.registration_mode, RegistrationMode):
        errors["registration_mode"] = _("Choose how places are given out.")
    if district_named(draft.district) is None:
        errors["district"] = _("Choose one of Shanghai's 16 districts.")
    if not _int_between(draft.max_party_size, 1, MAX_PARTY):
        errors["max_party_size"] = _(
            "A party is 1 to %(max)d people.", max=MAX_PARTY
        )
    _validate_sessions(errors, draft.sessions, existing)
    if draft.registration_mode == RegistrationMode.LOTTERY:
        _validate_lottery_windows(errors, draft.sessions)
    _validate_checkpoints(errors, draft.checkpoints)
    _validate_directions(errors, draft.checkpoint_directions)
    _validate_stations(errors, draft.checkpoint_addresses, draft.checkpoint_hours)
    if draft.safety_cap is not None and not _int_between(draft.safety_cap, 1, MAX_SAFETY_CAP):
        errors["safety_cap"] = _("The safety cap is 1 to %(max)d people, or empty for none.",
                                 max=MAX_SAFETY_CAP)
    _validate_tallies(errors, draft.tallies, existing)
    if draft.series_pass is True and draft.registration_mode != RegistrationMode.FCFS.value:
        errors["series_pass"] = _("A series pass needs places given first come, first served.")
    for switch in ("allow_reentry", "verify_phone", "send_reminders", "series_pass"):
        if not isinstance(getattr(draft, switch), bool):
            errors[switch] = _("Say yes or no.")
    if not _int_between(draft.admission_opens_minutes, 0, MAX_ADMISSION_OPENS_MINUTES):
        errors["admission_opens_minutes"] = _(
            "The door opens 0 to %(max)d minutes before a session starts.",
            max=MAX_ADMISSION_OPENS_MINUTES)
    return errors


def _validate_lottery_windows(errors: dict, drafts: list[SessionDraft]) -> None:
    """A lottery is drawn when registration closes, so each session needs that time."""
    for i, s in enumerate(drafts):
        key = f"sessions.{i}.registration_closes_at"
        if isinstance(s, SessionDraft) and s.registration_closes_at is None and key not in errors:
            errors[key] = _("A lottery is drawn when registration closes: set that time.")


def _text(errors: dict, key: str, value: str | None, limit: int, required: bool = False) -> None:
    if value is not None and not isinstance(value, str):
        errors[key] = _("Enter text.")
        return
    value = (value or "").strip()
    if required and not value:
        errors[key] = _("This field is required.")
    elif len(value) > limit:
        errors[key] = _("At most %(n)d characters.", n=limit)


def _int_between(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _one_of(value, enum_cls) -> bool:
    """True for one of the enum's values; False for anything else, a list or None included."""
    return isinstance(value, str) and value in {m.value for m in enum_cls}


def _validate_sessions(errors: dict, drafts: list[SessionDraft], existing: Event | None) -> None:
    if not drafts:
        errors["sessions"] = _("Add at least one session.")
        return
    if len(drafts) > MAX_SESSIONS:
        errors["sessions"] = _("At most %(n)d sessions.", n=MAX_SESSIONS)
        return
    known = {s.id: s for s in existing.sessions} if existing else {}
    now = utcnow()
    seen: set[int] = set()
    for i, s in enumerate(drafts):
        p = f"sessions.{i}."
        old = known.get(s.id) if s.id is not None else None
        if s.id is not None and (old is None or s.id in seen):
            errors[p + "id"] = _("This session does not belong to the event.")
            continue
        if s.id is not None:
            seen.add(s.id)
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
        _text(errors, p + "address", s.address, MAX_ADDRESS)
        if p + "address" not in errors and not one_line(s.address):
            errors[p + "address"] = _("Type the address on one line, without special "
                                      "characters.")
        if s.location and (not isinstance(s.location, str) or parse_location(s.location) is None):
            errors[p + "location"] = _(
                "Give the place as latitude,longitude in China, e.g. 31.2304,121.4737, "
                "or leave it empty.")
        if s.safety_cap is not None and not _int_between(s.safety_cap, 1, MAX_SAFETY_CAP):
            errors[p + "safety_cap"] = _(
                "The safety cap is 1 to %(max)d people, or empty for none.", max=MAX_SAFETY_CAP)
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
        removed = [old for old in existing.sessions if old.id not in kept]
        if any(old.places_taken for old in removed) or _has_registrations(removed):
            errors["sessions"] = _(
                "A session that people registered for cannot be removed; cancel the event "
                "or keep the session."
            )


def _has_registrations(sessions: list[EventSession]) -> bool:
    """Also those waiting (waiting list, application): removing the session would delete them."""
    if not sessions:
        return False
    return db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.session_id.in_([s.id for s in sessions]),
            Registration.status.not_in(ENDED),
        )
    ) > 0


@dataclass(frozen=True)
class _NameListMessages:
    """What to say about a list of names (checkpoints, tallies), in that list's own words."""

    not_a_list: str
    blank: str
    too_many: str
    too_long: str
    repeated: str


def _name_list_problem(names, most: int, longest: int, say: _NameListMessages) -> str | None:
    """The first thing wrong with a list of names typed one per line, or None."""
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        return say.not_a_list
    cleaned = [n.strip() for n in names]
    if any(not n for n in cleaned):
        return say.blank
    if len(cleaned) > most:
        return say.too_many
    if any(len(n) > longest for n in cleaned):
        return say.too_long
    if len(set(cleaned)) != len(cleaned):
        return say.repeated
    return None


def _validate_checkpoints(errors: dict, names: list[str]) -> None:
    """Stations in order, the first being the entrance; none at all means just the entrance."""
    problem = _name_list_problem(names, MAX_CHECKPOINTS, MAX_CHECKPOINT_NAME, _NameListMessages(
        not_a_list=_("Give the checkpoints as a list of names."),
        blank=_("Every checkpoint needs a name."),
        too_many=_("At most %(n)d checkpoints.", n=MAX_CHECKPOINTS),
        too_long=_("A checkpoint name has at most %(n)d characters.", n=MAX_CHECKPOINT_NAME),
        repeated=_("Each checkpoint needs its own name."),
    ))
    if problem:
        errors["checkpoints"] = problem


def _validate_stations(errors: dict, addresses: list, hours: list) -> None:
    """A station's address and opening hours: short plain text, one per checkpoint."""
    if not isinstance(addresses, list) or not isinstance(hours, list) or not all(
            isinstance(v, str) for v in (*addresses, *hours)):
        errors["checkpoints"] = _("Give each station's address and hours as text.")
    elif any(len(a.strip()) > MAX_ADDRESS for a in addresses):
        errors["checkpoints"] = _("A station's address has at most %(n)d characters.",
                                  n=MAX_ADDRESS)
    elif any(len(h.strip()) > MAX_HOURS for h in hours):
        errors["checkpoints"] = _("A station's opening hours have at most %(n)d characters.",
                                  n=MAX_HOURS)
    elif not all(one_line(v) for v in (*addresses, *hours)):
        errors["checkpoints"] = _("Type a station's address and hours on one line, without "
                                  "special characters.")


# Characters that break the line a place is shown on, or what it says: line and paragraph
# breaks, tabs and other controls, and invisible format marks (a right-to-left override, a
# zero-width space). A place is shown on pages, in texts ("地址改为…") and on the ticket.
NOT_ON_ONE_LINE = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})


def one_line(text: str | None) -> bool:
    """Whether `text` is plain text on one line (not text at all: False)."""
    if text is None:
        return True
    return isinstance(text, str) and not any(
        unicodedata.category(ch) in NOT_ON_ONE_LINE for ch in text)


def _validate_directions(errors: dict, directions: list[str]) -> None:
    """Each checkpoint admits (in), lets out (out) or both; the entrance cannot only let out."""
    if not isinstance(directions, list | tuple) or not all(
            _one_of(d, CheckpointDirection) for d in directions):
        errors["checkpoints"] = _("A checkpoint is an entrance (in), an exit (out) or both.")
    elif directions and directions[0] == CheckpointDirection.OUT:
        errors["checkpoints"] = _("The first checkpoint is the entrance: it cannot be an exit "
                                  "only (make it both ways).")


def _validate_tallies(errors: dict, names: list[str], existing: Event | None) -> None:
    """Names unique and short; a service already counted at the door keeps its tally."""
    problem = _name_list_problem(names, MAX_TALLIES, MAX_TALLY_NAME, _NameListMessages(
        not_a_list=_("Give the service tallies as a list of names."),
        blank=_("Every service tally needs a name."),
        too_many=_("At most %(n)d service tallies.", n=MAX_TALLIES),
        too_long=_("A service tally's name has at most %(n)d characters.", n=MAX_TALLY_NAME),
        repeated=_("Each service tally needs its own name."),
    ))
    if problem:
        errors["tallies"] = problem
        return
    if existing is not None:
        cleaned = {n.strip() for n in names}
        counted = [t.name for t in existing.tallies if t.count and t.name not in cleaned]
        if counted:
            errors["tallies"] = _(
                "“%(name)s” has been counted at the door already and cannot be removed.",
                name=counted[0],
            )


def district_named(name: str | None) -> District | None:
    """One of the 16 districts by its Chinese name, or None."""
    if not name or not isinstance(name, str):
        return None
    return db.session.scalar(select(District).filter_by(name=name.strip()))
