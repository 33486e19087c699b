"""The door's API: scans (POST /checkins, and batches a device sends after being offline:
POST /checkins/batch), undo, live figures, walk-ins, tallies and search.

Scanning devices send a bearer token; the door page in a signed-in browser sends its session
cookie with the page's CSRF token in `X-CSRFToken` (auth.door_user). Every answer of a scan is a
200, an unknown code too: the device shows it full screen. 401 without credentials, 403 for
someone not on the event's door staff (and nothing about the ticket), 404 for an unknown event,
422 for a body that is not what it should be. The rules are services.door.checkin's and
services.door.desk's; a scan with a `scan_id` is made once, services.door.sync.
"""
from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import g, jsonify, request
from flask_babel import gettext as _

from ..errors import render_error
from ..ratelimits import limit_number_search
from ..services.door import checkin, desk, sync, ticket_list
from ..services.door.checkin import ScanAnswer, TicketView
from ..services.errors import Forbidden, NotFound, ValidationFailed
from ..timeutil import utcnow
from . import schemas
from .auth import require_door_user
from .blueprint import bp, json_object, text_field

Errors = dict[str, str]
# A device's own id for a scan: static/js/door/ makes it (crypto.randomUUID without dashes).
SCAN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A device's clock may be off; a scan more than this far in the future is a mistake.
CLOCK_AHEAD = timedelta(hours=24)


# --- reading bodies -----------------------------------------------------------------------------


def _integer(data: dict[str, Any], key: str, errors: Errors, *, required: bool = False):
    """An integer field (a whole float too); None when absent or null."""
    value = data.get(key)
    if value is None:
        if required:
            errors[key] = _("This field is required.")
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        errors[key] = _("Must be a whole number.")
        return None
    return value


def _boolean(data: dict[str, Any], key: str, errors: Errors, *, default: bool = False) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        errors[key] = _("Must be true or false.")
        return False
    return value


def _direction(data: dict[str, Any], errors: Errors) -> str:
    """"in" (the default) or "out": which way a scan goes at a checkpoint counting both ways."""
    value = data.get("direction")
    if value is None:
        return "in"
    if value not in ("in", "out"):
        errors["direction"] = _("Choose “in” or “out”.")
        return "in"
    return value


def _scan_id(data: dict[str, Any], errors: Errors, *, required: bool = False) -> str | None:
    value = data.get("scan_id")
    if value is None:
        if required:
            errors["scan_id"] = _("This field is required.")
        return None
    if not isinstance(value, str) or not SCAN_ID.fullmatch(value):
        errors["scan_id"] = _("1 to 64 letters, digits, “-” or “_”.")
        return None
    return value


def _scanned_at(data: dict[str, Any], errors: Errors) -> datetime | None:
    """When the device scanned: ISO 8601 with an offset or Z (a device's clock says where it
    is); not more than CLOCK_AHEAD in the future."""
    value = data.get("scanned_at")
    if value is None:
        errors["scanned_at"] = _("This field is required.")
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        at = None
    if at is None or at.tzinfo is None:
        errors["scanned_at"] = _("A time in ISO 8601 with its offset, e.g. "
                                 "2025-09-20T09:02:00+08:00.")
        return None
    at = at.astimezone(UTC)
    if at > utcnow() + CLOCK_AHEAD:
        errors["scanned_at"] = _("This time is in the future: check the device's clock.")
        return None
    return at


def _query_id(key: str) -> int | None:
    """An optional id in the query string; 422 when it is not a number."""
    raw = request.args.get(key, "").strip()
    if not raw:
        return None
    if not raw.isdecimal() or len(raw) > 10:
        raise ValidationFailed({key: _("Must be a whole number.")})
    return int(raw)


# --- answers ------------------------------------------------------------------------------------


def ticket_json(ticket: TicketView) -> dict[str, Any]:
    """A ticket as the door sees it: named by `ticket_id`, never by its code (the citizen's
    bearer secret)."""
    return {
        "ticket_id": ticket.ticket_id, "name": ticket.name, "phone_masked": ticket.phone_masked,
        "party_size": ticket.party_size, "status": ticket.status, "event_id": ticket.event_id,
        "event_title": ticket.event_title, "session_id": ticket.session_id,
        "session_starts_at": schemas.iso(ticket.session_starts_at),
        "admitted_people": ticket.admitted_people,
    }


def _scanned_ticket(ticket: TicketView) -> dict[str, Any]:
    """The scanned ticket with its answers to the questions shown at the door (身份证后四位…),
    for a ticket of the door's event only."""
    data = ticket_json(ticket)
    if ticket.ticket_id is None:
        data["door_answers"] = []
    elif ticket.door_answers is not None:  # read with the ticket, in the scan's one query
        data["door_answers"] = ticket.door_answers
    else:
        data["door_answers"] = ticket_list.ticket_door_answers(ticket.event_id, ticket.ticket_id)
    return data


def answer_json(answer: ScanAnswer) -> dict[str, Any]:
    previous = answer.previous
    return {
        "result": answer.result.value,
        "ticket": _scanned_ticket(answer.ticket) if answer.ticket else None,
        "admitted_people": answer.admitted_people,
        "remaining_people": answer.remaining_people,
        "reentry": answer.reentry,
        "previous": {"at": schemas.iso(previous.at), "checkpoint": previous.checkpoint_name,
                     "by": previous.by} if previous else None,
        "message": answer.message,
        "admission_id": answer.admission_id,
        "exited_people": answer.exited_people,
    }


def _no_store(response, status: int = 200):
    """Answers about people and tickets stay out of every cache."""
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


# --- scanning -----------------------------------------------------------------------------------


@bp.post("/checkins")
@require_door_user
def create_checkin():
    """One scan at a device standing at an event's checkpoint: the `code` read, or the
    `ticket_id` of a ticket the door found by search or answered before."""
    data = json_object()
    errors: Errors = {}
    code = text_field(data, "code", errors)
    ticket_id = _integer(data, "ticket_id", errors)
    if code is None and ticket_id is None and not errors:
        errors["code"] = _("This field is required: what the scanner read (or a ticket_id).")
    elif code is not None and ticket_id is not None:
        errors["ticket_id"] = _("Send the code or the ticket_id, not both.")
    event_id = _integer(data, "event_id", errors, required=True)
    session_id = _integer(data, "session_id", errors)
    checkpoint_id = _integer(data, "checkpoint_id", errors)
    people = _integer(data, "people", errors)
    override = _boolean(data, "override", errors)
    direction = _direction(data, errors)
    scan_id = _scan_id(data, errors)
    if errors:
        raise ValidationFailed(errors)
    if scan_id is not None:
        return _scan_once(sync.Scan(
            scan_id=scan_id, event_id=event_id, scanned_at=utcnow(), code=code,
            ticket_id=ticket_id, session_id=session_id, checkpoint_id=checkpoint_id,
            people=people, offline=False, override=override, direction=direction))
    answer = checkin.redeem(code, event_id=event_id, session_id=session_id,
                            checkpoint_id=checkpoint_id, people=people, staff=g.door_user,
                            ticket_id=ticket_id, override=override, direction=direction)
    return _no_store(jsonify(answer_json(answer)))


def _scan_once(scan: sync.Scan):
    """A scan with a scan_id: made once; a repeat gets the stored answer, `repeated`."""
    try:
        recorded = sync.record(scan, g.door_user, answer_json)
    except sync.ScanInFlight as busy:
        return render_error(409, busy.message, busy.code)
    return _no_store(jsonify({**recorded.answer, "repeated": recorded.repeated}))


@bp.post("/checkins/batch")
@require_door_user
def create_checkin_batch():
    """Scans a device queued (offline, or unanswered) sent together, each with its scan_id:
    at most MAX_BATCH, answered one by one in the order sent. A bad item is `invalid` with its
    errors and never fails the others; sending the batch again records nothing twice."""
    data = json_object()
    scans = data.get("scans")
    if not isinstance(scans, list):
        raise ValidationFailed({"scans": _("Send {\"scans\": [...]}.")})
    if len(scans) > sync.MAX_BATCH:
        raise ValidationFailed({"scans": _("At most %(n)d scans at once.", n=sync.MAX_BATCH)})
    entrances: dict[int, int] = {}  # asked once per event of the batch
    return _no_store(jsonify(results=[_batch_result(item, entrances) for item in scans]))


def _batch_result(item: Any, entrances: dict[int, int]) -> dict[str, Any]:
    errors: Errors = {}
    scan = _batch_scan(item, errors) if isinstance(item, dict) else None
    scan_id = item.get("scan_id") if isinstance(item, dict) else None
    if not isinstance(item, dict):
        errors["scan"] = _("Each scan must be a JSON object.")
    if scan is not None:
        try:
            recorded = sync.record(scan, g.door_user, answer_json, entrances)
        except ValidationFailed as failed:
            errors = failed.errors
        except (NotFound, Forbidden) as refused:
            errors = {"event_id": refused.message}
        except sync.ScanInFlight as busy:
            errors = {"scan_id": busy.message}
        else:
            return {"scan_id": recorded.scan_id,
                    "status": "repeated" if recorded.repeated else "recorded",
                    "result": recorded.result, "conflict": recorded.conflict,
                    "message": recorded.message, "answer": recorded.answer}
    return {"scan_id": scan_id if isinstance(scan_id, str) else None, "status": "invalid",
            "result": None, "conflict": None, "message": "; ".join(errors.values()),
            "errors": errors}


def _batch_scan(data: dict[str, Any], errors: Errors) -> sync.Scan | None:
    """One batch item read into a sync.Scan; None (and `errors`) when it is not one."""
    scan_id = _scan_id(data, errors, required=True)
    kind = data.get("kind", "scan")
    if kind not in tuple(sync.Kind):
        errors["kind"] = _("Choose “scan”, “walk_in” or “walk_out”.")
    code = text_field(data, "code", errors)
    ticket_id = _integer(data, "ticket_id", errors)
    if kind == sync.Kind.SCAN and code is None and ticket_id is None and not errors:
        errors["code"] = _("This field is required: what the scanner read (or a ticket_id).")
    elif code is not None and ticket_id is not None:
        errors["ticket_id"] = _("Send the code or the ticket_id, not both.")
    event_id = _integer(data, "event_id", errors, required=True)
    session_id = _integer(data, "session_id", errors)
    checkpoint_id = _integer(data, "checkpoint_id", errors)
    people = _integer(data, "people", errors)
    scanned_at = _scanned_at(data, errors)
    offline = _boolean(data, "offline", errors, default=True)
    override = _boolean(data, "override", errors)
    direction = _direction(data, errors)
    if errors:
        return None
    return sync.Scan(scan_id=scan_id, event_id=event_id, scanned_at=scanned_at,
                     kind=sync.Kind(kind), code=code, ticket_id=ticket_id,
                     session_id=session_id, checkpoint_id=checkpoint_id, people=people,
                     offline=offline, override=override, direction=direction)


@bp.post("/checkins/<int:admission_id>/undo")
@require_door_user
def undo_checkin(admission_id: int):
    """Take back a mistaken admission: the ticket's last, within a few minutes."""
    try:
        desk.undo(admission_id, g.door_user)
    except desk.UndoRefused as refused:
        return render_error(409, refused.message, refused.code)
    return _no_store(jsonify(undone=True))


# --- the rest of the door -----------------------------------------------------------------------


@bp.get("/events/<int:event_id>/attendance")
@require_door_user
def attendance(event_id: int):
    """The live figures of the event, or of one session with `?session_id=`."""
    desk.door_event(event_id, g.door_user)
    session_id = _query_id("session_id")
    figures = desk.attendance(event_id, session_id)
    return _no_store(jsonify(event_id=event_id, session_id=session_id, **asdict(figures)))


@bp.post("/events/<int:event_id>/walk-ins")
@require_door_user
def create_walk_in(event_id: int):
    """People without a ticket let in: counted (+N), or named with an optional mobile."""
    data = json_object()
    errors: Errors = {}
    session_id = _integer(data, "session_id", errors)
    people = _integer(data, "people", errors, required=True)
    name = text_field(data, "name", errors)
    phone = text_field(data, "phone", errors)
    override = _boolean(data, "override", errors)
    if errors:
        desk.door_event(event_id, g.door_user)  # 404 and 403 before 422
        raise ValidationFailed(errors)
    answer = desk.walk_in(event_id, session_id, people, g.door_user, name=name, phone=phone,
                          override=override)
    # Refused at the safety cap: nothing was created, the door shows the answer.
    created = answer.admission_id is not None
    return _no_store(jsonify(answer_json(answer)), 201 if created else 200)


@bp.post("/events/<int:event_id>/walk-outs")
@require_door_user
def create_walk_out(event_id: int):
    """People leaving without a ticket scanned ("1 人离场"): counted out of inside now, never
    below zero (422 under `people` when fewer are inside)."""
    data = json_object()
    errors: Errors = {}
    session_id = _integer(data, "session_id", errors)
    people = _integer(data, "people", errors)
    checkpoint_id = _integer(data, "checkpoint_id", errors)
    if errors:
        desk.door_event(event_id, g.door_user)  # 404 and 403 before 422
        raise ValidationFailed(errors)
    answer = desk.walk_out(event_id, session_id, 1 if people is None else people, g.door_user,
                           checkpoint_id=checkpoint_id)
    return _no_store(jsonify(answer_json(answer)), 201)


@bp.post("/events/<int:event_id>/tallies/<int:tally_id>/bump")
@require_door_user
def bump_tally(event_id: int, tally_id: int):
    """Add to a service tally (`by` defaults to 1; negative corrects, never below 0)."""
    data = json_object()
    errors: Errors = {}
    by = _integer(data, "by", errors)
    if errors:
        desk.door_event(event_id, g.door_user)
        raise ValidationFailed(errors)
    figure = desk.bump(event_id, tally_id, 1 if by is None else by, g.door_user)
    return _no_store(jsonify(asdict(figure)))


@bp.get("/events/<int:event_id>/search")
@require_door_user
@limit_number_search
def search_tickets(event_id: int):
    """Tickets by part of the name, the phone's last 4 digits or the whole number, for those
    without their code; each named by its ticket_id."""
    desk.door_event(event_id, g.door_user)
    found = desk.search(event_id, _query_id("session_id"), request.args.get("q", ""))
    return _no_store(jsonify(tickets=[ticket_json(t) for t in found]))
