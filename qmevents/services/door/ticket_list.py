"""What a door device downloads to answer scans without the network: the event's ticket list.

Never a ticket's code (the citizen's bearer secret): each ticket carries a verifier instead,
`v` = HMAC-SHA256(key, normalised code) cut to 16 hex characters, where `key` is the device's
own for the event (HMAC(SECRET_KEY, "door-list:<event>:<user>")). The device computes `v` of
what it scans and looks it up; a lost phone's list names no code, and a code can be guessed
against it only as well as against the server (100 random bits). Names come masked (张*明),
phones as their last four digits, and the answers an organiser marked "show at the door".

The first download is the whole list (`full`); later ones pass the answer's `cursor` back as
`since` and get the tickets changed since (registration.updated_at, which every change of
status or of admitted_people sets), with OVERLAP seconds to spare for transactions that were
still open: clients upsert by ticket_id. The cursor is the server's clock, signed, so a forged
or mangled one is refused (CursorRefused), never trusted.

A ticket registered by phone (代报名) also carries `sv`, the verifier of its short door code
(services/registrations/short_codes.py, "482913K" as normalised), so a short code typed at a
door that lost the network is found too. Unlike a ticket code (100 random bits) a short code is
one in a million of its event: whoever holds a list and its key can find the event's short
codes by trying them all. They admit at that event's door only (they open no ticket, cancel
nothing), which is what the stolen door phone's own session could do anyway.

A series pass (系列通票, services/registrations/series.py) is one code for several sessions: its
member registrations (one per further session) have codes of their own that nobody ever sees.
So a member's `v` is the verifier of "<the pass's code>@<its session id>" (pass_verifier): a
door phone that reads a pass's code, finds the pass's own ticket of another session and has a
session open computes that and finds the pass's ticket of ITS session (static/js/door/offline.js),
as checkin.redeem does online.

Two statements whatever the size: the tickets' columns (no ORM objects) and their door answers.
Nothing here knows of HTTP; qmevents/api/door_list.py serves it.
"""
from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Answer, Event, EventStatus, Question, Registration, User
from ...timeutil import utcnow
from ..errors import ValidationFailed
from ..identity import mask_name
from ..registrations.questions import door_value
from . import desk

OVERLAP = timedelta(seconds=60)
VERIFIER_LENGTH = 16  # hex characters: 64 bits, as the contract says
_CURSOR = re.compile(r"([0-9]{1,20})\.([0-9a-f]{16})", re.ASCII)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CursorRefused(ValidationFailed):
    """A `since` this server did not give for this event: 422 under `since`."""

    def __init__(self) -> None:
        super().__init__({"since": _("This cursor is not one the server gave for this event: "
                                     "download the whole list again.")})


@dataclass
class TicketList:
    event_id: int
    key: str  # base64url without padding, 32 bytes
    cursor: str
    full: bool
    server_time: datetime
    tickets: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "key": self.key, "cursor": self.cursor,
                "full": self.full, "server_time": self.server_time.isoformat(),
                "tickets": self.tickets}


# --- keys, verifiers, cursors -------------------------------------------------------------------


def _secret() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


def key_bytes(event_id: int, user_id: int) -> bytes:
    """The device's key for the event: one per (event, account), 32 bytes."""
    return hmac.new(_secret(), f"door-list:{event_id}:{user_id}".encode(),
                    hashlib.sha256).digest()


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def verifier(key: bytes, code: str) -> str:
    """v of a normalised ticket code (static/js/door has the same function)."""
    return hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()[:VERIFIER_LENGTH]


def _verifiers(key: bytes):
    """verifier() for many codes under one key (the C one-shot HMAC: 5,000 in a few ms)."""
    def v(code: str) -> str:
        return hmac.digest(key, code.encode("ascii"), "sha256").hex()[:VERIFIER_LENGTH]
    return v


def _cursor_mac(event_id: int, micros: int) -> str:
    return hmac.new(_secret(), f"door-list-cursor:{event_id}:{micros}".encode(),
                    hashlib.sha256).hexdigest()[:16]


def make_cursor(event_id: int, at: datetime) -> str:
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{_cursor_mac(event_id, micros)}"


def read_cursor(event_id: int, raw: str) -> datetime:
    """The moment a cursor names; CursorRefused for anything this server did not sign."""
    match = _CURSOR.fullmatch(raw or "")
    if match is None:
        raise CursorRefused()
    micros = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _cursor_mac(event_id, micros)):
        raise CursorRefused()
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise CursorRefused() from None


def pass_verifier(key: bytes, pass_code: str, session_id: int) -> str:
    """v of a series pass's member ticket: its pass's code at its session (see above)."""
    return verifier(key, f"{pass_code}@{session_id}")


# --- what the door shows ------------------------------------------------------------------------


def phone_tail(phone: str | None) -> str:
    return phone[-4:] if phone else ""


_DOOR_ANSWERS = (
    select(Answer.registration_id, Question.label, Question.kind, Answer.value)
    .join(Question, Question.id == Answer.question_id)
    .where(Question.show_at_door.is_(True))
    .order_by(Answer.registration_id, Question.position)
)


def door_answers(event_id: int, registration_ids: list[int] | None = None,
                 since: datetime | None = None) -> dict[int, list[dict[str, str]]]:
    """{registration id: [{label, value}]} of the event's questions shown at the door; of the
    given registrations only, or of those changed since `since`."""
    query = _DOOR_ANSWERS.where(Question.event_id == event_id)
    if registration_ids is not None:
        if not registration_ids:
            return {}
        query = query.where(Answer.registration_id.in_(registration_ids))
    if since is not None:
        query = query.join(Registration, and_(Registration.id == Answer.registration_id,
                                              Registration.updated_at >= since))
    found: dict[int, list[dict[str, str]]] = {}
    for registration_id, label, kind, value in db.session.connection().execute(query).all():
        found.setdefault(registration_id, []).append(
            {"label": label, "value": door_value(kind, value)})
    return found


def ticket_door_answers(event_id: int, ticket_id: int) -> list[dict[str, str]]:
    """One ticket's door answers (the single scan's answer shows them)."""
    return door_answers(event_id, [ticket_id]).get(ticket_id, [])


# --- the list -----------------------------------------------------------------------------------


_registration = Registration.__table__
_pass = aliased(_registration, name="pass_holder")
# Core columns, no ORM entities: 5,000 rows become dicts in tens of milliseconds. A series
# pass's member comes with its pass's code (an outer join that finds nothing for other tickets).
_TICKETS = (select(_registration.c.id, _registration.c.code, _registration.c.session_id,
                   _registration.c.status, _registration.c.party_size,
                   _registration.c.admitted_people, _registration.c.name,
                   _registration.c.phone, _registration.c.short_code, _pass.c.code)
            .select_from(_registration.outerjoin(_pass, _pass.c.id == _registration.c.pass_id))
            .order_by(_registration.c.id))


def ticket_list(event_id: int, user: User, since: str | None = None) -> TicketList:
    """The event's tickets for `user`'s device (NotFound, Forbidden as the other door calls);
    the changes since a cursor of an earlier answer when `since` is given."""
    event = desk.door_event(event_id, user)
    changed_since = None
    if since is not None:
        changed_since = read_cursor(event_id, since.strip()) - OVERLAP
    now = utcnow()
    key = key_bytes(event_id, user.id)
    cancelled = event.status == EventStatus.CANCELLED
    query = _TICKETS.where(_registration.c.event_id == event_id)
    answers_since = changed_since
    if changed_since is not None and not (cancelled and _changed(event, changed_since)):
        query = query.where(_registration.c.updated_at >= changed_since)
    else:
        answers_since = None  # every ticket comes: so do all their answers
    with _no_collection():
        rows = db.session.connection().execute(query).all()
        answers = door_answers(event_id, since=answers_since) if rows else {}
        v = _verifiers(key)
        tickets = [{
            "ticket_id": ticket_id, "session_id": session_id,
            "v": v(f"{pass_code}@{session_id}" if pass_code else code),
            "status": "cancelled" if cancelled else str(status),
            "party_size": party_size, "admitted_people": admitted,
            "name": mask_name(name), "phone_tail": phone_tail(phone),
            "door_answers": answers.get(ticket_id, []),
            **({"sv": v(short)} if short else {}),
        } for (ticket_id, code, session_id, status, party_size, admitted, name, phone, short,
               pass_code) in rows]
    return TicketList(event_id=event_id, key=b64url(key), cursor=make_cursor(event_id, now),
                      full=since is None, server_time=now, tickets=tickets)


@contextmanager
def _no_collection() -> Iterator[None]:
    """No cyclic garbage collection while the list is built: its tens of thousands of new dicts
    and rows (none of them cyclic) would otherwise set off full collections of the worker's
    whole heap, which took the 5,000 tickets from 40 ms to 150 ms of CPU."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _changed(event: Event, since: datetime) -> bool:
    return event.updated_at is None or event.updated_at >= since
