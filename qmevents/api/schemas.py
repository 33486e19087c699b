"""JSON in and out: request bodies become the services' drafts, models become plain dicts.

Parsing only checks types (a string where a string belongs, a time that is a time) and records a
message per field path; every rule about the values themselves is services.events.validate's.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

from ..models import Checkpoint, Event, EventSession, RegistrationMode, Tally
from ..services.events import DEFAULT_ADMISSION_OPENS_MINUTES, EventDraft, SessionDraft
from ..services.registrations.register import RegistrationRequest
from ..timeutil import parse_iso, to_local

Errors = dict[str, str]

PUBLISHABLE_STATUSES = ("draft", "published")
# Query-string dates outside these are typing mistakes.


# --- out ----------------------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in Shanghai time, e.g. 2025-09-20T09:30:00+08:00."""
    local = to_local(value)
    return local.isoformat(timespec="seconds") if local else None


def session_json(session: EventSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "label": session.label,
        "starts_at": iso(session.starts_at),
        "ends_at": iso(session.ends_at),
        "capacity": session.capacity,
        "places_left": session.places_left,
        "registration_opens_at": iso(session.registration_opens_at),
        "registration_closes_at": iso(session.registration_closes_at),
        "safety_cap": session.safety_cap,
        "address": session.address,
        "location": session.location,
    }


def checkpoint_json(checkpoint: Checkpoint) -> dict[str, Any]:
    return {"id": checkpoint.id, "name": checkpoint.name, "position": checkpoint.position,
            "direction": checkpoint.direction.value, "address": checkpoint.address,
            "hours": checkpoint.hours}


def tally_json(tally: Tally) -> dict[str, Any]:
    return {"id": tally.id, "name": tally.name}


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        **event.plain_fields(),
        "status": event.status.value,
        "organisation": event.organisation.name,
        "sessions": [session_json(s) for s in event.sessions],
        "checkpoints": [checkpoint_json(c) for c in event.checkpoints],
        "tallies": [tally_json(t) for t in event.tallies],
    }


# --- in -----------------------------------------------------------------------------------------


class _Reader:
    """Reads typed values out of one JSON object, noting a message under each bad field's path."""

    def __init__(self, data: dict[str, Any], errors: Errors, prefix: str = ""):
        self.data, self.errors, self.prefix = data, errors, prefix

    def _fail(self, key: str, message: str) -> None:
        self.errors[self.prefix + key] = message

    def failed(self, key: str) -> bool:
        return self.prefix + key in self.errors

    def text(self, key: str, default: str = "") -> str:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            self._fail(key, _("Must be a string."))
            return default
        return value

    def integer(self, key: str, default: int | None = None) -> int | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self._fail(key, _("Must be a whole number."))
            return None
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._fail(key, _("Must be true or false."))
            return default
        return value

    def time(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return parse_iso(value)
            except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 at an offset
                pass
        self._fail(key, _("Must be a date and time in ISO 8601, e.g. 2025-09-20T09:30:00+08:00."))
        return None

    def objects(self, key: str) -> list[_Reader | None]:
        """A list of objects; an item that is not an object reads as None (and is reported)."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self._fail(key, _("Must be a list."))
            return []
        readers: list[_Reader | None] = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                readers.append(_Reader(item, self.errors, f"{self.prefix}{key}.{i}."))
            else:
                self._fail(f"{key}.{i}", _("Must be an object."))
                readers.append(None)
        return readers


def event_draft(data: dict[str, Any]) -> tuple[EventDraft, Errors]:
    """The draft an API body describes, and the type errors found on the way.

    A bad value becomes an empty one in the draft and keeps list positions, so the service's own
    messages (`sessions.1.capacity`) still point at the right item.
    """
    errors: Errors = {}
    read = _Reader(data, errors)
    checkpoints = read.objects("checkpoints")
    draft = EventDraft(
        title=read.text("title"),
        kind=read.text("kind"),
        district=read.text("district"),
        venue=read.text("venue"),
        address=read.text("address"),
        host=read.text("host"),
        description=read.text("description"),
        max_party_size=read.integer("max_party_size", default=4),
        registration_mode=read.text("registration_mode", default=RegistrationMode.FCFS.value),
        sessions=[_session_draft(r) for r in read.objects("sessions")],
        checkpoints=_names(checkpoints),
        checkpoint_directions=_directions(checkpoints),
        checkpoint_addresses=_named_text(checkpoints, "address"),
        checkpoint_hours=_named_text(checkpoints, "hours"),
        tallies=_names(read.objects("tallies")),
        allow_reentry=read.boolean("allow_reentry"),
        verify_phone=read.boolean("verify_phone", default=True),
        send_reminders=read.boolean("send_reminders", default=True),
        series_pass=read.boolean("series_pass"),
        admission_opens_minutes=read.integer(
            "admission_opens_minutes", default=DEFAULT_ADMISSION_OPENS_MINUTES),
        safety_cap=read.integer("safety_cap"),
    )
    return draft, errors


def _names(readers: list[_Reader | None]) -> list[str]:
    """Names of the well-typed items only (checkpoints, tallies): the service checks such a list
    as one field, so a bad item left out keeps its noise (`checkpoints`: every checkpoint needs a
    name) away."""
    names = []
    for read in readers:
        if read is not None:
            name = read.text("name")
            if not read.failed("name"):
                names.append(name)
    return names


def _directions(readers: list[_Reader | None]) -> list[str]:
    """Each named checkpoint's direction ("in" when left out), in the same order as _names."""
    directions = []
    for read in readers:
        if read is not None and not read.failed("name"):
            directions.append(read.text("direction", default="in"))
    return directions


def _named_text(readers: list[_Reader | None], key: str) -> list[str]:
    """Each named checkpoint's `key` ("" when left out), in the same order as _names."""
    return [read.text(key) for read in readers if read is not None and not read.failed("name")]


def _session_draft(read: _Reader | None) -> SessionDraft:
    if read is None:
        return SessionDraft(starts_at=None, ends_at=None, capacity=None)
    return SessionDraft(
        label=read.text("label"),
        starts_at=read.time("starts_at"),
        ends_at=read.time("ends_at"),
        capacity=read.integer("capacity"),
        registration_opens_at=read.time("registration_opens_at"),
        registration_closes_at=read.time("registration_closes_at"),
        safety_cap=read.integer("safety_cap"),
        address=read.text("address"),
        location=read.text("location"),
    )


def publish_requested(data: dict[str, Any], errors: Errors) -> bool:
    """`status` in a new event's body: draft (the default) or published."""
    status = data.get("status", "draft")
    if status not in PUBLISHABLE_STATUSES:
        errors["status"] = _("A new event is either draft or published.")
        return False
    return status == "published"


def without_shadowed(service_errors: Errors, type_errors: Errors) -> Errors:
    """Service messages about fields that already have a type error (or sit inside one) are noise:
    `sessions.0` is not an object, so `sessions.0.starts_at` missing says nothing new."""
    def shadowed(path: str) -> bool:
        return any(path == t or path.startswith(t + ".") for t in type_errors)

    merged = {k: v for k, v in service_errors.items() if not shadowed(k)}
    merged.update(type_errors)
    return merged


def parse_date(value: str | None, key: str, errors: Errors) -> date | None:
    """A query-string date (YYYY-MM-DD, a Shanghai calendar day)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        day = None
    if day is None:  # which years make sense is the service's rule (ListingFilter.errors)
        errors[key] = _("Must be a date as YYYY-MM-DD, e.g. 2025-09-20.")
        return None
    return day


def parse_positive(value: str | None, key: str, default: int, high: int, errors: Errors) -> int:
    """A query-string integer from 1 to `high`."""
    if value is None or value == "":
        return default
    if value.strip().isdecimal() and 1 <= int(value) <= high:
        return int(value)
    errors[key] = _("Must be a whole number from 1 to %(max)d.", max=high)
    return default


# --- a registration ---------------------------------------------------------------------------


def registration_request(event_id: int, data: dict[str, Any]) -> tuple[RegistrationRequest, Errors]:
    """The service's request from the JSON body, and the type errors by field path. Values of
    the right type go to the service as they are: it says what is wrong with them."""
    errors: Errors = {}
    session_id = data.get("session_id")
    session_ids = data.get("session_ids")  # a series pass (系列通票): its sessions
    if session_ids is not None:
        if not isinstance(session_ids, list) or not all(_is_int(i) for i in session_ids):
            errors["session_ids"] = _("Must be a list of the ids of the event's sessions.")
        if session_id is not None and not _is_int(session_id):
            errors["session_id"] = _("Must be an integer: the id of one of the event's sessions.")
    elif session_id is None:
        errors["session_id"] = _("This field is required.")
    elif not _is_int(session_id):
        errors["session_id"] = _("Must be an integer: the id of one of the event's sessions.")
    for key in ("name", "phone", "phone_code"):
        if data.get(key) is not None and not isinstance(data[key], str):
            errors[key] = _("Must be a string.")
    party_size = data.get("party_size")
    if party_size is not None and not (_is_int(party_size) or isinstance(party_size, str)):
        errors["party_size"] = _("Must be a whole number of people.")
    answers = data.get("answers")
    if answers is None:
        answers = {}
    elif not isinstance(answers, dict):
        errors["answers"] = _("Must be an object: {question id: answer}.")
    consent = data.get("consent", True)
    if not isinstance(consent, bool):
        errors["consent"] = _("Must be true or false.")
    req = RegistrationRequest(
        event_id=event_id, session_id=session_id, name=data.get("name"),
        phone=data.get("phone"), party_size=party_size, answers=answers,
        consent=consent is True, source="api", phone_code=data.get("phone_code"),
    )
    return req, errors


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
