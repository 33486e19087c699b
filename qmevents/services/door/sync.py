"""Scans a device sends with an id of its own (scan_id): recorded once, however often they arrive
(a batch sent again after a lost answer, two batches racing, a retry of a single scan), and the
conflicts between what a device decided without the network and what the server knows.

Once per (device account, scan_id): the door_scan row is INSERTed first, `ON CONFLICT DO NOTHING`
(the unique constraint (by_id, scan_id) decides, on SQLite and PostgreSQL, across gunicorn
workers). Whoever inserted it makes the scan (checkin.redeem, desk.walk_in, desk.walk_out) and
stores the answer in the row; anyone else waits for that answer and gets it again, `repeated`,
admitting nothing. A claim whose maker died before answering (a worker killed mid-request) is
taken over after STALE_CLAIM: the entrance's conditional UPDATE still admits a party once.

Conflicts (only for scans the device decided offline, i.e. it let the people in):
- `duplicate`: the party was in already through another device. Counted once; the earliest
  scanned_at stands: when this scan is the earlier, the standing admission takes its time and
  device. The door_scan row names both devices (by_id, other_by_id) and says which one stands.
- `after_cancellation`: the ticket or the event had been cancelled. The people are in: an offline
  admission is recorded, but the cancelled ticket's admitted_people does not change.
- `refused`: any other refusal of the server (unknown code, another session, not confirmed…).
"""
from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ...extensions import db
from ...ids import is_row_id
from ...models import (
    Admission,
    AdmissionKind,
    Checkpoint,
    DoorDevice,
    DoorScan,
    Event,
    ScanConflict,
    StaffAssignment,
    User,
)
from ...timeutil import to_local, utcnow
from .. import access
from ..errors import DomainError, Forbidden, NotFound, ValidationFailed
from . import checkin, desk
from .checkin import Previous, Result, ScanAnswer

PENDING = "pending"  # door_scan.result while the scan is being made
STALE_CLAIM = timedelta(seconds=90)  # a claim nobody answered in this long is taken over
WAIT_SECONDS = 15.0  # how long a repeat waits for the answer of a scan in flight
MAX_BATCH = 100


class Kind(enum.StrEnum):
    SCAN = "scan"
    WALK_IN = "walk_in"
    WALK_OUT = "walk_out"


@dataclass
class Scan:
    """One scan as a device sends it (a batch item, or a single scan with a scan_id)."""

    scan_id: str
    event_id: int
    scanned_at: datetime
    kind: Kind = Kind.SCAN
    code: str | None = None
    ticket_id: int | None = None
    session_id: int | None = None
    checkpoint_id: int | None = None
    people: int | None = None
    offline: bool = True
    override: bool = False
    direction: str = "in"


@dataclass
class Recorded:
    """What became of a scan: recorded now, or `repeated` (the stored answer, nothing done)."""

    scan_id: str
    repeated: bool
    result: str | None
    conflict: str | None
    message: str
    answer: dict[str, Any] = field(default_factory=dict)


Render = Callable[[ScanAnswer], dict[str, Any]]


def record(scan: Scan, staff: User, render: Render,
           entrances: dict[int, int] | None = None) -> Recorded:
    """Make the scan once: the first arrival makes it and stores `render(answer)`, every other
    gets that answer again. Raises what the scan raises (NotFound, Forbidden, ValidationFailed)
    and then records nothing, so a corrected scan may be sent again under the same id.
    `entrances`: event id → its entrance, for the events this staff may scan at (a batch
    asks once per event, not per scan)."""
    if not scan.offline and scan.kind == Kind.SCAN:
        recorded = _record_online(scan, staff, render)
        if recorded is not None:
            return recorded
    entrances = {} if entrances is None else entrances
    if scan.event_id not in entrances:  # 404 and 403 before anything is written
        entrances[scan.event_id] = door_entrance(scan.event_id, staff)
    entrance_id = entrances[scan.event_id]
    claimed = _claim(scan, staff.id)
    while claimed is None:
        stored = _wait_for(staff.id, scan.scan_id)
        if stored is None:  # released by a maker that failed: claim it anew
            claimed = _claim(scan, staff.id)
        elif stored.result != PENDING:
            return _repeat(scan.scan_id, stored)
        else:
            claimed = _take_over(stored)
    try:
        answer = _make(scan, staff)
        conflict, other_by_id, admission_id = _settle(scan, staff, answer, entrance_id)
    except BaseException:
        _release(claimed)
        raise
    stored_answer = render(answer)
    stored_answer["conflict"] = conflict.value if conflict else None
    registration_id = answer.ticket.ticket_id if answer.ticket else None
    db.session.commit()
    db.session.execute(_ANSWERED, {
        "claimed": claimed, "result": answer.result.value, "conflict": conflict,
        "other_by_id": other_by_id, "admission_id": admission_id or answer.admission_id,
        "registration_id": registration_id,
        "checkpoint_id": scan.checkpoint_id or entrance_id, "answer": stored_answer})
    db.session.commit()
    return Recorded(scan.scan_id, False, answer.result.value, stored_answer["conflict"],
                    answer.message, stored_answer)


def _record_online(scan: Scan, staff: User, render: Render) -> Recorded | None:
    """The door page's everyday scan (online, with its scan_id): the permission check, the claim,
    the scan and its stored answer on one connection, taken from the pool (and pinged) once
    instead of three times. The claim is committed before the scan is made, as in record(); an
    online scan has no conflict to settle. None: the scan_id was claimed before (a retry, or a
    twin in flight), and record() waits for that answer."""
    with checkin.scan_connection() as connection:
        entrance_id = door_entrance(scan.event_id, staff, connection)
        claimed = _claim(scan, staff.id, connection)
        if claimed is None:
            return None
        try:
            answer = _make(scan, staff, connection)
        except BaseException:
            _release(claimed, connection)
            raise
        stored_answer = {**render(answer), "conflict": None}
        connection.execute(_ANSWERED, {
            "claimed": claimed, "result": answer.result.value, "conflict": None,
            "other_by_id": None, "admission_id": answer.admission_id,
            "registration_id": answer.ticket.ticket_id if answer.ticket else None,
            "checkpoint_id": scan.checkpoint_id or entrance_id, "answer": stored_answer})
        connection.commit()
    return Recorded(scan.scan_id, False, answer.result.value, None, answer.message, stored_answer)


# Built once, with bound parameters, like checkin's statements, and on the tables (Core, not the
# ORM's bulk paths): a scan pays for every statement it builds and every round trip.
_event, _checkpoint = Event.__table__, Checkpoint.__table__
_assignment, _door_scan = StaffAssignment.__table__, DoorScan.__table__
_DOOR = (
    select(_event.c.organisation_id, _assignment.c.id.label("assigned"),
           select(_checkpoint.c.id).where(_checkpoint.c.event_id == _event.c.id)
           .order_by(_checkpoint.c.position).limit(1).scalar_subquery().label("entrance_id"))
    .select_from(_event)
    .outerjoin(_assignment, and_(_assignment.c.event_id == _event.c.id,
                                 _assignment.c.user_id == bindparam("staff_id")))
    .where(_event.c.id == bindparam("event_id"))
)
_CLAIM_VALUES = {column: bindparam(column, type_=_door_scan.c[column].type)
                 for column in ("event_id", "by_id", "scan_id", "scanned_at", "received_at",
                                "offline", "result", "answer")}
_CLAIMS = {dialect.__name__.split(".")[-1]: dialect.insert(_door_scan).values(**_CLAIM_VALUES)
           .on_conflict_do_nothing(index_elements=["by_id", "scan_id"])
           .returning(_door_scan.c.id)
           for dialect in (postgresql, sqlite)}
# The answer stored in the claimed row, for every repeat of the scan.
_ANSWERED = (update(_door_scan).where(_door_scan.c.id == bindparam("claimed"))
             .values({column: bindparam(column, type_=_door_scan.c[column].type)
                      for column in ("result", "conflict", "other_by_id", "admission_id",
                                     "registration_id", "checkpoint_id", "answer")}))


def door_entrance(event_id: int, staff: User, connection: Connection | None = None) -> int:
    """The event's entrance when `staff` may work its door (desk.door_event's rule, in one
    query, on `connection` or the session's); NotFound for an unknown event, Forbidden else."""
    if not is_row_id(event_id):
        raise NotFound(_("No such event."))
    # No commit here: the claim that follows commits both, on the connection this took (a
    # commit would hand it back to the pool and the claim would check one out, pinged, again).
    # SQLite's driver opens no transaction for a read, so no read lock is held into the write.
    row = (connection or db.session).execute(
        _DOOR, {"event_id": event_id, "staff_id": staff.id}).first()
    if row is None:
        raise NotFound(_("No such event."))
    if not access.may_scan_for(staff, row.organisation_id, assigned=row.assigned is not None):
        raise Forbidden(_("You are not on the door staff of this event."))
    return row.entrance_id


# --- once per scan_id ---------------------------------------------------------------------------


def _claim(scan: Scan, by_id: int, connection: Connection | None = None) -> int | None:
    """The door_scan row's id when this request inserted it; None when it was there already.
    Committed at once, on `connection` or the session's."""
    on = connection or db.session
    claimed = on.execute(_CLAIMS[db.engine.dialect.name], {
        "event_id": scan.event_id, "by_id": by_id, "scan_id": scan.scan_id,
        "scanned_at": scan.scanned_at, "received_at": utcnow(), "offline": scan.offline,
        "result": PENDING, "answer": {}}).scalar()
    on.commit()
    return claimed


def _stored_row(by_id: int, scan_id: str) -> Any:
    row = db.session.execute(
        select(DoorScan.id, DoorScan.result, DoorScan.conflict, DoorScan.answer,
               DoorScan.received_at)
        .where(DoorScan.by_id == by_id, DoorScan.scan_id == scan_id)).first()
    db.session.commit()
    return row


def _wait_for(by_id: int, scan_id: str) -> Any:
    """The stored scan, once answered; still pending after WAIT_SECONDS, or stale, as it is."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        row = _stored_row(by_id, scan_id)
        if row is None or (row.result != PENDING or time.monotonic() > deadline
                or utcnow() - row.received_at > STALE_CLAIM):
            return row
        time.sleep(0.05)


def _take_over(stored: Any) -> int | None:
    """Claim a scan left pending by a maker that died (older than STALE_CLAIM): one
    conditional UPDATE decides between those who try at once. None: not ours (wait again)."""
    if utcnow() - stored.received_at <= STALE_CLAIM:
        raise ScanInFlight(_("This scan is still being recorded: send it again in a moment."))
    taken = db.session.execute(
        update(DoorScan)
        .where(DoorScan.id == stored.id, DoorScan.result == PENDING,
               DoorScan.received_at == stored.received_at)
        .values(received_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return stored.id if taken == 1 else None


def _release(claimed: int, connection: Connection | None = None) -> None:
    """The claim of a scan that failed goes: the device may send it again, corrected."""
    on = connection or db.session
    on.rollback()
    on.execute(delete(_door_scan).where(_door_scan.c.id == claimed,
                                        _door_scan.c.result == PENDING))
    on.commit()


def _repeat(scan_id: str, stored: Any) -> Recorded:
    answer = dict(stored.answer or {})
    return Recorded(scan_id, True, stored.result, stored.conflict.value if stored.conflict
                    else None, answer.get("message", ""), answer)


class ScanInFlight(DomainError):
    """The same scan_id is being made by another request right now, for longer than a repeat
    waits: the device sends it again later (nothing was recorded twice)."""

    code = "scan_in_flight"


# --- making the scan ------------------------------------------------------------------------------


def _make(scan: Scan, staff: User, connection: Connection | None = None) -> ScanAnswer:
    at = scan.scanned_at if scan.offline else None
    if scan.kind == Kind.WALK_IN:
        return desk.walk_in(scan.event_id, scan.session_id, scan.people or 1, staff,
                            override=scan.override, at=at, offline=scan.offline)
    if scan.kind == Kind.WALK_OUT:
        return desk.walk_out(scan.event_id, scan.session_id, scan.people or 1, staff,
                             checkpoint_id=scan.checkpoint_id, at=at, offline=scan.offline)
    def redeem(people: int | None) -> ScanAnswer:
        return checkin.redeem(scan.code, event_id=scan.event_id, session_id=scan.session_id,
                              checkpoint_id=scan.checkpoint_id, people=people, staff=staff,
                              ticket_id=scan.ticket_id, override=scan.override,
                              direction=scan.direction, at=at, offline=scan.offline,
                              connection=connection)

    try:
        return redeem(scan.people)
    except ValidationFailed as failed:
        if not (scan.offline and scan.people and "people" in failed.errors):
            raise
    # Let in offline, but part of the party came in through another device meanwhile: those
    # still outside are counted now (none left: a duplicate), never more than the party.
    return redeem(None)


# --- conflicts ----------------------------------------------------------------------------------


def _settle(scan: Scan, staff: User, answer: ScanAnswer, entrance_id: int
            ) -> tuple[ScanConflict | None, int | None, int | None]:
    """(conflict, the other device's account, the admission this scan stands for) of a scan the
    device let in offline; nothing for an online scan or one the server agrees with."""
    if not scan.offline or scan.kind != Kind.SCAN or answer.result in (
            Result.ADMITTED, Result.EXITED):
        return None, None, None
    ticket = answer.ticket
    if ticket is not None and (answer.result == Result.ALREADY_ADMITTED or (
            answer.result == Result.CANCELLED and ticket.admitted_people >= ticket.party_size)):
        # In already (a ticket the organiser cancelled after its people came in too).
        return _duplicate(scan, staff, answer, scan.checkpoint_id or entrance_id)
    if answer.result == Result.CANCELLED and ticket is not None and (
            scan.checkpoint_id in (None, entrance_id)):
        return _after_cancellation(scan, staff, answer, entrance_id)
    answer.message = _("Let in offline, but the server refuses this ticket: %(reason)s",
                       reason=answer.message)
    return ScanConflict.REFUSED, None, None


def _duplicate(scan: Scan, staff: User, answer: ScanAnswer, checkpoint_id: int
               ) -> tuple[ScanConflict, int | None, int | None]:
    """The party is in through another device: counted once, the earliest scan stands. When
    this scan is the earlier, the standing admission takes its time and device (one
    conditional UPDATE, so two late devices cannot both take it)."""
    standing = db.session.execute(
        select(Admission.id, Admission.at, Admission.by_id)
        .where(Admission.registration_id == answer.ticket.ticket_id,
               Admission.checkpoint_id == checkpoint_id,
               Admission.kind.in_((AdmissionKind.ENTRY, AdmissionKind.VISIT)))
        .order_by(Admission.at, Admission.id).limit(1)).first()
    db.session.commit()
    if standing is None:  # undone in between: nothing stands, nothing to swap
        return ScanConflict.DUPLICATE, None, None
    other = Previous(at=standing.at, checkpoint_name=answer.previous.checkpoint_name
                     if answer.previous else "", by=device_name(standing.by_id))
    answer.previous = other
    swapped = scan.scanned_at < standing.at and db.session.execute(
        update(Admission)
        .where(Admission.id == standing.id, Admission.at == standing.at)
        .values(at=scan.scanned_at, by_id=staff.id, offline=True)
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    if swapped:
        answer.message = _("Already in through %(other)s at %(when)s, but this scan was "
                           "earlier: it stands, counted once.", other=other.by,
                           when=_when(standing.at))
        return ScanConflict.DUPLICATE, standing.by_id, standing.id
    answer.message = _("Already in through %(other)s at %(when)s: that scan stands, this one "
                       "is a duplicate, counted once.", other=other.by,
                       when=_when(standing.at))
    return ScanConflict.DUPLICATE, standing.by_id, None


def _after_cancellation(scan: Scan, staff: User, answer: ScanAnswer, entrance_id: int
                        ) -> tuple[ScanConflict, None, int]:
    """Let in offline, but cancelled meanwhile: they are in, so an offline admission is written
    (inside now counts them), but the cancelled ticket's admitted_people stays as it is."""
    ticket = answer.ticket
    people = scan.people or max(ticket.party_size - ticket.admitted_people, 1)
    admission = Admission(event_id=scan.event_id, session_id=ticket.session_id,
                          checkpoint_id=entrance_id, registration_id=ticket.ticket_id,
                          kind=AdmissionKind.ENTRY, people=people, at=scan.scanned_at,
                          by_id=staff.id, offline=True)
    db.session.add(admission)
    db.session.commit()
    answer.admission_id = admission.id
    answer.message = _("Let in offline after the cancellation: %(reason)s Recorded, not counted "
                       "as admitted.", reason=answer.message)
    return ScanConflict.AFTER_CANCELLATION, None, admission.id


def device_name(user_id: int | None) -> str:
    """A device as people know it: its DoorDevice name ("东门 2 号机"), else the staff's e-mail."""
    if user_id is None:
        return "-"
    name = db.session.execute(
        select(func.coalesce(DoorDevice.name, User.email))
        .select_from(User).outerjoin(DoorDevice, DoorDevice.user_id == User.id)
        .where(User.id == user_id)).scalar()
    return name or "-"


def _when(at: datetime) -> str:
    """A time as the door reads it, Shanghai: 09:02."""
    return to_local(at).strftime("%H:%M")
