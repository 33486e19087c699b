"""Check-in at the door (签到): one scan, one answer — the one place the admission rules live. The
door page, the API for scanning devices and the tests all call redeem(). (Over 400 lines on
purpose: every admission rule and the statements that enforce them are read together, here.)

What a scan answers, in this order: `unknown` (unreadable, or no ticket has the code),
`wrong_event`, `cancelled` (the ticket, or the whole event), `not_confirmed` (waiting list, offered,
applied, declined, not selected), `wrong_session`, `wrong_day` (不是今天的场次) or `not_yet_open`
(该场次尚未开始入场), then `admitted` or `already_admitted`.

- Where the device stands: an event, optionally a session, optionally a checkpoint (default the
  entrance, position 0). A device set to a session refuses tickets of the others; a device set to
  no session takes any session of the event.
- When: a session's tickets are admitted from Event.admission_opens_minutes (default 60) before
  it starts to the end of the day (Shanghai) on which it ends. Earlier the same day answers
  `not_yet_open`, an earlier or a later day `wrong_day`, unless staff deliberately override:
  then the party is let in and the audit log records the override.
- Which ticket: the code a camera, scanner or keyboard read, or a `ticket_id` the door got from a
  search or an earlier answer. The door never gets a ticket's code back: the code is the
  citizen's bearer secret (it cancels the ticket), and door staff look, they do not change.
- The entrance counts people: Registration.admitted_people changes only by a conditional
  `UPDATE … WHERE admitted_people + n <= party_size AND status = 'confirmed'`, and its row count
  decides. Two phones scanning one ticket at the same instant admit it once, on SQLite and
  PostgreSQL, across gunicorn workers. A family may come in part by part (`people`), the rest
  later. A ticket fully in is `already_admitted`, unless the event allows re-entry: then it is
  let in again and recorded, but never counted twice. A scan that lost a race is never turned
  into a re-entry: it is the same family at two phones.
- Any other checkpoint is a station of a tour: one visit per ticket per station (a unique index),
  counted in people. A station may be the first stop: the entrance is not required before it.

A scan is one read that gathers everything (the device's event, checkpoint and session, the
staff's assignment, the ticket, its answers shown at the door and its latest admission here, which
`already_admitted` names: a re-scan is that read alone), then the write: the conditional UPDATE
and the admission's row. On SQLite they are two statements in one short transaction that the
driver opens at the UPDATE, after the read: the write lock is taken first and never by upgrading
a read, which is what fails under concurrent writers. On PostgreSQL they are one statement (a
WITH … UPDATE … INSERT), atomic by itself, in autocommit: two round trips per scan (and the
pool's ping), on one connection. Nothing is sent from here (tests/test_checkin_cost.py).
"""
from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    Connection,
    Integer,
    Row,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from ... import labels
from ...extensions import db
from ...ids import is_count, is_row_id
from ...models import (
    Admission,
    AdmissionKind,
    Answer,
    Checkpoint,
    DoorDevice,
    Event,
    EventSession,
    EventStatus,
    Question,
    Registration,
    RegistrationStatus,
    StaffAssignment,
    User,
)
from ...timeutil import to_local, utcnow
from .. import access, audit
from ..errors import Forbidden, NotFound, ValidationFailed
from ..identity import mask_mobile
from ..registrations import series
from ..registrations.codes import normalise_code
from ..registrations.questions import door_value
from ..registrations.short_codes import normalise_short_code
from . import occupancy

# Characters; longer is not a ticket, whatever it holds. Changes together with the door page:
# static/js/door/codes.js refuses more than its MAX_LENGTH before sending (at most MAX_SCAN, at
# least a ticket URL), and templates/door/scan.html's field no more (tests/test_layout.py).
MAX_SCAN = 2000
MAX_PEOPLE = 20  # services.events.MAX_PARTY: nobody admits more people on one ticket
_TICKET_PATH = re.compile(r"/t/([^/?#\s]+)")
_RACE_RETRIES = 3


class Result(enum.StrEnum):
    """What a scan answers. The door's two faces show each one: qmevents/door/answers.py and
    static/js/door/answer.js (tests/test_layout.py keeps the three together)."""

    ADMITTED = "admitted"
    ALREADY_ADMITTED = "already_admitted"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    NOT_CONFIRMED = "not_confirmed"
    WRONG_EVENT = "wrong_event"
    WRONG_SESSION = "wrong_session"
    # A good ticket whose session the door does not admit now; staff may override (audited).
    WRONG_DAY = "wrong_day"  # 不是今天的场次: the session is on another day (Shanghai)
    NOT_YET_OPEN = "not_yet_open"  # 该场次尚未开始入场: today, before its admission window
    # A ticket's party leaving through an exit (services/door/occupancy.py): counted out of
    # "inside now", admitted_people unchanged.
    EXITED = "exited"
    # 已达最大承载量: letting these people in would pass the safety cap; staff may override.
    OVER_CAPACITY = "over_capacity"


# Results staff may deliberately override: the ticket is good, only the time is not.
OVERRIDABLE = frozenset({Result.WRONG_DAY, Result.NOT_YET_OPEN, Result.OVER_CAPACITY})


@dataclass
class TicketView:
    """What the door sees of a ticket: enough to recognise the party, no more (masked phone).
    Never the ticket's code: the code is the citizen's bearer secret (it opens /t/<code>, where
    the ticket can be cancelled), and the door only looks. `ticket_id` names the ticket to the
    door instead (to admit a party found by name, or the rest of it), within the door's event."""

    ticket_id: int | None  # None for a ticket of another event: nothing of it is the door's
    name: str
    phone_masked: str
    party_size: int
    status: str
    event_id: int
    event_title: str
    session_id: int
    session_starts_at: datetime
    admitted_people: int  # let in at the entrance so far
    # The answers shown at the door ([{label, value}], 身份证后四位…) when the scan read them
    # with the ticket; None when nobody read them (the API then asks, ticket_list).
    door_answers: list[dict[str, str]] | None = None


@dataclass
class Previous:
    at: datetime
    checkpoint_name: str
    by: str  # the staff member's e-mail


@dataclass
class ScanAnswer:
    result: Result
    ticket: TicketView | None
    admitted_people: int  # let in by this scan
    remaining_people: int  # of the party, still to come in at the entrance
    previous: Previous | None
    message: str  # for the staff, in the request's language
    admission_id: int | None  # what undo takes
    reentry: bool = False  # admitted again at the entrance (the event allows it)
    exited_people: int = 0  # left through an exit by this scan (Result.EXITED)


@dataclass(frozen=True)
class Scanned:
    """When a scan happened: now, or by the device's clock for a scan it decided without the
    network (`offline`, services/door/sync.py). The time rules are judged at that moment, the
    admission is written with it, and an offline scan is never refused for the safety cap: the
    people are in already."""

    at: datetime | None = None
    offline: bool = False

    @property
    def moment(self) -> datetime:
        return self.at or utcnow()


NOW = Scanned()


# --- reading a scan ---------------------------------------------------------------------------


def read_code(raw: str) -> str | None:
    """The ticket code in what a camera or a hand scanner read: the ticket's whole URL (…/t/<code>,
    with or without scheme, host or query) or the bare code, grouped or not. Full-width letters
    from a Chinese input method are forgiven. Anything else is None."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_SCAN:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    found = _TICKET_PATH.search(text)
    return normalise_code(found.group(1) if found else text)


def read_ticket(raw: str | None) -> tuple[str, str | None]:
    """What was read names a ticket by its code, or by a short door code typed at the door (a
    citizen registered by phone): ("code", …) or ("short_code", …)."""
    code = read_code(raw)
    if code is None:
        short = normalise_short_code(raw)
        if short is not None:
            return "short_code", short
    return "code", code


# --- the statements of a scan -------------------------------------------------------------------
# Built once, on the tables, with bound parameters: a door answers hundreds of scans a second, and
# building and caching a statement of this size anew costs more than running it.

_event, _checkpoint = Event.__table__, Checkpoint.__table__
_registration, _session = Registration.__table__, EventSession.__table__
_assignment, _admission = StaffAssignment.__table__, Admission.__table__
_device_session, _ticket_event = _session.alias("device_session"), _event.alias("ticket_event")
_question, _reply = Question.__table__, Answer.__table__
_at_checkpoint = bindparam("checkpoint_id", type_=Integer)  # 0: the entrance


def _last_here(column: Any) -> Any:
    """`column` of the ticket's latest admission at the scene's checkpoint (last_admission's
    rule), as a scalar subquery of the scene: what `already_admitted` says without a query more."""
    last = _admission.alias("last_here")
    user, device = User.__table__.alias("last_by"), DoorDevice.__table__.alias("last_device")
    return (select(column(last, user, device))
            .select_from(last.outerjoin(user, user.c.id == last.c.by_id)
                         .outerjoin(device, device.c.user_id == last.c.by_id))
            .where(last.c.registration_id == _registration.c.id,
                   last.c.checkpoint_id == _checkpoint.c.id)
            .order_by(last.c.id.desc()).limit(1).scalar_subquery())

_SCENE_COLUMNS = (
    select(
        _event.c.organisation_id, _event.c.status.label("event_status"),
        _event.c.allow_reentry, _event.c.admission_opens_minutes,
        _checkpoint.c.id.label("checkpoint_id"),
        _checkpoint.c.name.label("checkpoint_name"), _checkpoint.c.position,
        _checkpoint.c.direction, _event.c.safety_cap.label("event_cap"),
        _session.c.safety_cap.label("session_cap"),
        _assignment.c.id.label("assigned"), _device_session.c.id.label("device_session_id"),
        _registration.c.id.label("registration_id"), _registration.c.name, _registration.c.phone, _registration.c.party_size,
        _registration.c.status, _registration.c.admitted_people,
        _registration.c.event_id.label("ticket_event_id"), _registration.c.session_id,
        _session.c.starts_at, _session.c.ends_at, _ticket_event.c.title.label("event_title"),
        _last_here(lambda last, user, device: last.c.at).label("previous_at"),
        _last_here(lambda last, user, device: func.coalesce(device.c.name, user.c.email))
        .label("previous_by"),
        # One row per question shown at the door (none: one row of NULLs), its answer if any.
        _question.c.label.label("door_label"), _question.c.kind.label("door_kind"),
        _reply.c.value.label("door_answer"),
    )
    .select_from(_event)
    .outerjoin(_checkpoint, and_(
        _checkpoint.c.event_id == _event.c.id,
        or_(_checkpoint.c.id == _at_checkpoint,
            and_(_at_checkpoint == 0, _checkpoint.c.position == 0))))
    .outerjoin(_assignment, and_(_assignment.c.event_id == _event.c.id,
                                 _assignment.c.user_id == bindparam("staff_id")))
    .outerjoin(_device_session, and_(_device_session.c.event_id == _event.c.id,
                                     _device_session.c.id == bindparam("session_id")))

)


def _scene_statement(ticket: Any):
    return (_SCENE_COLUMNS
            .outerjoin(_registration, ticket)
            .outerjoin(_session, _session.c.id == _registration.c.session_id)
            .outerjoin(_ticket_event, _ticket_event.c.id == _registration.c.event_id)
            .outerjoin(_question, and_(_question.c.event_id == _event.c.id,
                                       _question.c.show_at_door.is_(True)))
            .outerjoin(_reply, and_(_reply.c.question_id == _question.c.id,
                                    _reply.c.registration_id == _registration.c.id))
            .where(_event.c.id == bindparam("event_id"))
            .order_by(_question.c.position))


# The ticket by what a camera, scanner or keyboard read (its code); or by its id, which the door
# gets from a search or an earlier answer, and which finds a ticket of the door's event only.
_SCENE = _scene_statement(_registration.c.code == bindparam("code"))
_SCENE_BY_ID = _scene_statement(and_(_registration.c.id == bindparam("ticket_id"),
                                     _registration.c.event_id == _event.c.id))
# A short door code finds a ticket of the door's own event only: another event's is unknown.
_SCENE_BY_SHORT_CODE = _scene_statement(and_(
    _registration.c.short_code == bindparam("short_code"),
    _registration.c.event_id == _event.c.id))

# The whole rule of admission at the entrance; its row count decides between racing phones.
_ADMIT = (
    update(_registration)
    .where(_registration.c.id == bindparam("registration_id"),
           _registration.c.status == RegistrationStatus.CONFIRMED,
           # Still the session the scan read: a citizen's move to another session committed
           # in between (registrations/amend.py) makes the door read again (wrong session).
           _registration.c.session_id == bindparam("ticket_session"),
           _registration.c.admitted_people + bindparam("n") <= _registration.c.party_size)
    .values(admitted_people=_registration.c.admitted_people + bindparam("n"),
            # The server's clock, never the admission's `at` (an offline scan's is in the
            # past): the door's ticket list sends the changes since then (ticket_list.py).
            # Sent with each execution (`changed_at`), as the admission's own values are.
            updated_at=bindparam("changed_at", type_=_registration.c.updated_at.type))
)

_RECORD = insert(_admission).returning(_admission.c.id)

# Under a safety cap, the same UPDATE only while there is room (occupancy.ROOM: one statement
# counts and admits; services/door/occupancy.py says how exact that is on each database).
_ADMIT_IF_ROOM = _ADMIT.where(occupancy.ROOM)


def _admit_and_record(admit):
    """PostgreSQL runs both as one statement (UPDATE … RETURNING inside the INSERT's WITH):
    atomic on its own, so a scan needs no transaction around it and costs two round trips."""
    taken = admit.returning(_registration.c.id).cte("taken")
    return (
        insert(_admission)
        .from_select(
            ["event_id", "session_id", "checkpoint_id", "registration_id", "kind", "people",
             "at", "by_id", "offline"],
            # Names apart from the registration's columns, which an UPDATE would take as SET
            # values.
            select(bindparam("to_event", type_=Integer), bindparam("to_session", type_=Integer),
                   bindparam("to_checkpoint", type_=Integer), taken.c.id,
                   bindparam("to_kind", type_=_admission.c.kind.type),
                   bindparam("n", type_=Integer),
                   bindparam("to_at", type_=_admission.c.at.type),
                   bindparam("to_by", type_=Integer),
                   bindparam("to_offline", type_=_admission.c.offline.type))
            .select_from(taken), include_defaults=False)  # the table's defaults fill the rest
        .returning(_admission.c.id)
        .add_cte(taken)
    )


_ADMIT_AND_RECORD = _admit_and_record(_ADMIT)
_ADMIT_AND_RECORD_IF_ROOM = _admit_and_record(_ADMIT_IF_ROOM)


@contextmanager
def scan_connection(given: Connection | None = None) -> Iterator[Connection]:
    """A connection of the scan's own. PostgreSQL: in autocommit, each statement a transaction of
    its own (the write is one statement). SQLite: the driver opens a transaction at the first
    write, so the admission's two writes commit together. `given`: one a caller took this way
    already (services/door/sync.py claims the scan_id on it), used as it is."""
    if given is not None:
        yield given
        return
    with db.engine.connect() as connection:
        if _one_statement_writes():
            connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def _one_statement_writes() -> bool:
    return db.engine.dialect.name == "postgresql"


def _end(connection: Connection, written: bool) -> None:
    """Commit what was written, or roll it back (in autocommit, there is nothing to end)."""
    if written:
        connection.commit()
    else:
        connection.rollback()


# --- the one read ---------------------------------------------------------------------------------


class Scene(SimpleNamespace):
    """The scene's row as attributes (organisation_id, checkpoint_id, name, party_size…), and
    what came with it: `door_answers` ([{label, value}] of the ticket) and `previous_at`,
    `previous_by` (its latest admission at this checkpoint, or None)."""

    @classmethod
    def of(cls, rows: list[Row]) -> Scene:
        scene = cls(**rows[0]._mapping)
        scene.door_answers = [{"label": row.door_label,
                               "value": door_value(row.door_kind, row.door_answer)}
                              for row in rows if row.door_answer is not None]
        return scene


def _scene(connection: Connection, ticket: tuple[str, object], event_id: int,
           session_id: int | None, checkpoint_id: int | None, staff: User) -> Scene:
    """The device's event, checkpoint and session, the staff's assignment, the ticket with its
    door answers and its latest admission here, in one query (a row per question shown at the
    door). `ticket` is ("code", the code read) or ("ticket_id", an id of the event's tickets).
    Raises NotFound, Forbidden or ValidationFailed for a device that stands nowhere."""
    if not is_row_id(event_id):
        raise NotFound(_("No such event."))
    if checkpoint_id is None:
        at_checkpoint = 0  # the entrance
    else:
        at_checkpoint = checkpoint_id if is_row_id(checkpoint_id) else -1
    params = {"event_id": event_id, "checkpoint_id": at_checkpoint, "staff_id": staff.id,
              "session_id": session_id if is_row_id(session_id) else -1}
    by, value = ticket
    if by == "ticket_id":
        params["ticket_id"] = value if is_row_id(value) else -1
        rows = connection.execute(_SCENE_BY_ID, params).all()
    elif by == "short_code":
        params["short_code"] = value
        rows = connection.execute(_SCENE_BY_SHORT_CODE, params).all()
    else:
        params["code"] = value or ""
        rows = connection.execute(_SCENE, params).all()
    if not rows:
        raise NotFound(_("No such event."))
    scene = Scene.of(rows)
    if not access.may_scan_for(staff, scene.organisation_id, assigned=scene.assigned is not None):
        raise Forbidden(_("You are not on the door staff of this event."))
    errors = {}
    if session_id is not None and scene.device_session_id is None:
        errors["session_id"] = _("Choose one of this event's sessions.")
    if scene.checkpoint_id is None:
        errors["checkpoint_id"] = _("Choose one of this event's checkpoints.")
    if errors:
        raise ValidationFailed(errors)
    return scene


# --- the rules ------------------------------------------------------------------------------------


def redeem(raw: str | None, *, event_id: int, session_id: int | None,
           checkpoint_id: int | None, people: int | None, staff: User,
           ticket_id: int | None = None, override: bool = False,
           direction: str = "in", at: datetime | None = None,
           offline: bool = False, connection: Connection | None = None) -> ScanAnswer:
    """Answer one scan and, when the ticket is good, let its people in. `people` None means all
    of the party still outside (at a station: those who came in, or the whole party).

    The ticket is what was read (`raw`: its URL or code), or `ticket_id` (from a search or an
    earlier answer). `override`: staff deliberately let in a ticket whose session is not open
    for admission now (another day, or before its window) or past the safety cap: recorded in the
    audit log. `direction` "out" at a checkpoint counting both ways (at an exit, always): the
    party leaves, services/door/occupancy.py. `at` and `offline`: a scan the device decided
    without the network, at its own clock's `at` (see Scanned; services/door/sync.py settles
    what the server finds different). `connection`: one from scan_connection() to answer on
    (the caller's, checked out once for its own statements and this scan's)."""
    scanned = Scanned(at, offline)
    if people is not None and not is_count(people, MAX_PEOPLE):
        raise ValidationFailed({"people": _("Admit 1 to %(n)d people.", n=MAX_PEOPLE)})
    ticket = ("ticket_id", ticket_id) if ticket_id is not None else read_ticket(raw)
    with scan_connection(connection) as connection:
        lost_race = False
        for _attempt in range(_RACE_RETRIES):
            scene = _scene(connection, ticket, event_id, session_id, checkpoint_id, staff)
            refusal = _refusal(scene, event_id, session_id)
            if _maybe_series(scene, refusal, event_id, session_id, scanned.moment):
                member = series.member_for(connection, scene.registration_id, session_id)
                if member is not None and member != scene.registration_id:
                    ticket = ("ticket_id", member)  # the pass's registration of this session
                    scene = _scene(connection, ticket, event_id, session_id, checkpoint_id, staff)
                    refusal = _refusal(scene, event_id, session_id)
            if occupancy.is_exit(scene.direction, direction):
                return _exit(connection, scene, event_id, people, staff, refusal, scanned)
            overridden = None
            if refusal is None:
                overridden = _out_of_hours(scene, scanned.moment)
                if overridden is not None and not override:
                    return overridden
            if refusal is not None:
                return refusal
            if people is not None and people > scene.party_size:
                raise ValidationFailed({"people": _(
                    "This ticket is for %(n)d people.", n=scene.party_size)})
            if scene.position != 0:
                answer = _visit(connection, scene, event_id, people, staff, scanned)
            else:
                answer = _enter(connection, scene, event_id, people, staff, lost_race, override,
                                scanned)
            if answer is not None:
                if overridden is not None and answer.admission_id is not None:
                    _record_override(scene, overridden, answer, staff)
                return answer
            lost_race = True  # another phone changed the ticket between our read and our write
        return _already(_scene(connection, ticket, event_id, session_id, checkpoint_id, staff))


def _maybe_series(scene: Scene, refusal: ScanAnswer | None, event_id: int,
                  session_id: int | None, now: datetime) -> bool:
    """A ticket of this event read for another session (or, with no session chosen, one whose
    own session is not today): it may be a series pass, whose registration of this session is
    the one to admit (services/registrations/series.py). Asked only then: one query more for
    those scans, none for the others."""
    if scene.registration_id is None or scene.ticket_event_id != event_id:
        return False
    if refusal is not None:
        return refusal.result == Result.WRONG_SESSION
    return session_id is None and _out_of_hours(scene, now) is not None


def _refusal(scene: Scene, event_id: int, session_id: int | None) -> ScanAnswer | None:
    """Every answer that lets nobody in, or None when the ticket is good here and now."""
    if scene.registration_id is None:
        return _answer(Result.UNKNOWN, None, _(
            "No ticket has this code. Check the code, or search by name or phone."))
    if scene.ticket_event_id != event_id:
        ticket = ticket_view(scene)
        # Say which event, nothing about its holder, nor an id this door could use.
        ticket.ticket_id, ticket.name, ticket.phone_masked = None, "", ""
        return _answer(Result.WRONG_EVENT, ticket, _(
            "This ticket is for another event: %(title)s.", title=scene.event_title))
    if scene.event_status == EventStatus.CANCELLED:
        return _answer(Result.CANCELLED, ticket_view(scene), _("This event has been cancelled."))
    if scene.status == RegistrationStatus.CANCELLED:
        return _answer(Result.CANCELLED, ticket_view(scene), _(
            "This registration was cancelled."))
    if scene.status != RegistrationStatus.CONFIRMED:
        status = labels.REGISTRATION_STATUS[RegistrationStatus(scene.status)]
        return _answer(Result.NOT_CONFIRMED, ticket_view(scene), _(
            "This registration is not confirmed: %(status)s.", status=status))
    if not _right_session(scene, session_id):
        return _answer(Result.WRONG_SESSION, ticket_view(scene), _(
            "This ticket is for another session: %(when)s.", when=_when(scene.starts_at)))
    return None


def _right_session(scene: Scene, session_id: int | None) -> bool:
    """A device set to a session takes that session's tickets; one set to none, any session of
    the event (whether it is admitted now is `_out_of_hours`)."""
    return session_id is None or scene.session_id == session_id


def _out_of_hours(scene: Scene, now: datetime) -> ScanAnswer | None:
    """A good ticket of the right session that the door does not admit now, or None. The door
    admits from its admission window (Event.admission_opens_minutes before the start) to the end
    of the day (Shanghai) on which the session ends: late-comers that day are let in, a
    multi-day session on each of its days. Before the window it is `not_yet_open` on the day of
    the window, `wrong_day` on an earlier one; after the session's last day, `wrong_day`. Staff
    may override (redeem's `override`). `now`: when the scan happened."""
    today = to_local(now).date()
    opens = scene.starts_at - timedelta(minutes=scene.admission_opens_minutes)
    if today > to_local(scene.ends_at).date() or (
            now < opens and today < to_local(opens).date()):
        return _answer(Result.WRONG_DAY, ticket_view(scene), _(
            "Not today's session: this ticket is for %(when)s.", when=_when(scene.starts_at)))
    if now < opens:
        return _answer(Result.NOT_YET_OPEN, ticket_view(scene), _(
            "Admission to this session has not started yet: it opens at %(time)s.",
            time=to_local(opens).strftime("%H:%M")))
    return None


def _record_override(scene: Scene, refused: ScanAnswer, answer: ScanAnswer, staff: User) -> None:
    """An admission staff made against the time rule: who, which ticket, what was overridden."""
    audit.record("admission_override", actor_id=staff.id, event_id=scene.ticket_event_id,
                 registration_id=scene.registration_id, admission_id=answer.admission_id,
                 overridden=refused.result.value, session_id=scene.session_id)
    db.session.commit()


def _enter(connection: Connection, scene: Scene, event_id: int, people: int | None, staff: User,
           lost_race: bool, override: bool = False, scanned: Scanned = NOW
           ) -> ScanAnswer | None:
    """Let people in at the entrance; None when another phone got there first (read again)."""
    remaining = scene.party_size - scene.admitted_people
    cap = None if scanned.offline else occupancy.cap_of(
        event_id, scene.session_id, scene.event_cap, scene.session_cap)
    if remaining <= 0:
        if scene.allow_reentry and not lost_race:
            return _reenter(connection, scene, event_id, people or scene.party_size, staff, cap,
                            override, scanned)
        return _already(scene)
    if people is not None and people > remaining:
        raise ValidationFailed({"people": _(
            "Only %(n)d of this party are still to come in.", n=remaining)})
    n = people or remaining
    row = _admission_row(scene, event_id, AdmissionKind.ENTRY, n, staff, scanned)
    over = override and cap is not None and occupancy.over(connection, cap, n)
    room = cap.params(n) if cap is not None and not override else {}
    if _one_statement_writes():
        with occupancy.counting(connection, event_id if room else None):
            admission_id = connection.execute(
                _ADMIT_AND_RECORD_IF_ROOM if room else _ADMIT_AND_RECORD, {
                    "registration_id": row["registration_id"], "n": n, "changed_at": utcnow(),
                    "ticket_session": scene.session_id,
                    "to_at": row["at"],
                    "to_event": event_id, "to_session": row["session_id"],
                    "to_checkpoint": row["checkpoint_id"], "to_kind": row["kind"],
                    "to_by": row["by_id"], "to_offline": row["offline"], **room}).scalar()
    elif connection.execute(_ADMIT_IF_ROOM if room else _ADMIT, {
            "registration_id": scene.registration_id, "n": n, "changed_at": utcnow(),
            "ticket_session": scene.session_id, **room}).rowcount == 1:
        admission_id = connection.execute(_RECORD, row).scalar_one()
    else:
        admission_id = None
    _end(connection, written=admission_id is not None)
    if admission_id is None:
        if room and occupancy.over(connection, cap, n):
            return _over_capacity(connection, scene, cap)
        return None
    ticket = ticket_view(scene, admitted=scene.admitted_people + n)
    left = remaining - n
    message = (_("Admit %(n)d.", n=n) if not left else
               _("Admit %(n)d; %(left)d more of this party may come in later.", n=n, left=left))
    answer = _answer(Result.ADMITTED, ticket, message, admitted=n, remaining=left,
                     admission_id=admission_id)
    return occupancy.admitted_under_cap(connection, answer, cap, over, staff)


def _reenter(connection: Connection, scene: Scene, event_id: int, people: int,
             staff: User, cap: occupancy.Cap | None = None, override: bool = False,
             scanned: Scanned = NOW) -> ScanAnswer:
    row = _admission_row(scene, event_id, AdmissionKind.REENTRY, people, staff, scanned)
    over = override and cap is not None and occupancy.over(connection, cap, people)
    if cap is not None and not override:
        with occupancy.counting(connection, event_id):
            admission_id = occupancy.record_if(connection, row, occupancy.room_for(cap, people))
    else:
        admission_id = connection.execute(_RECORD, row).scalar_one()
    _end(connection, written=admission_id is not None)
    if admission_id is None:
        return _over_capacity(connection, scene, cap)
    answer = _answer(Result.ADMITTED, ticket_view(scene), _(
        "Re-entry: admit %(n)d.", n=people), admitted=people, admission_id=admission_id,
        reentry=True)
    return occupancy.admitted_under_cap(connection, answer, cap, over, staff)


def _over_capacity(connection: Connection, scene: Scene, cap: occupancy.Cap) -> ScanAnswer:
    """Nobody let in: they would pass the safety cap. Staff may send it again with override."""
    inside = occupancy.inside_of_cap(connection, cap)
    return _answer(Result.OVER_CAPACITY, ticket_view(scene), occupancy.full_message(inside, cap),
                   remaining=max(scene.party_size - scene.admitted_people, 0))


def _exit(connection: Connection, scene: Scene, event_id: int, people: int | None, staff: User,
          refusal: ScanAnswer | None, scanned: Scanned = NOW) -> ScanAnswer:
    """A ticket scanned at an exit: its people leave, whatever the ticket's status now (they
    came in); an unknown code or another event's ticket answers as at the entrance."""
    if refusal is not None and refusal.result in (Result.UNKNOWN, Result.WRONG_EVENT):
        return refusal
    leaving = occupancy.leave(connection, scene, event_id, people, staff.id,
                              at=scanned.moment, offline=scanned.offline)
    return _answer(Result.EXITED, ticket_view(scene), leaving.message,
                   remaining=max(scene.party_size - scene.admitted_people, 0),
                   admission_id=leaving.admission_id, exited=leaving.people)


def _visit(connection: Connection, scene: Scene, event_id: int, people: int | None,
           staff: User, scanned: Scanned = NOW) -> ScanAnswer:
    """One visit per ticket per station; the unique index decides between racing phones."""
    n = people or scene.admitted_people or scene.party_size
    row = _admission_row(scene, event_id, AdmissionKind.VISIT, n, staff, scanned)
    try:
        admission_id = connection.execute(_RECORD, row).scalar_one()
    except IntegrityError:  # another phone's visit, after our read: say whose
        _end(connection, written=False)
        return _already(scene, last_admission(scene.registration_id, scene.checkpoint_id,
                                              connection))
    _end(connection, written=True)
    return _answer(Result.ADMITTED, ticket_view(scene), _(
        "%(n)d people at %(checkpoint)s.", n=n, checkpoint=scene.checkpoint_name),
        admitted=n, remaining=scene.party_size - scene.admitted_people,
        admission_id=admission_id)


def _admission_row(scene: Scene, event_id: int, kind: AdmissionKind, people: int,
                   staff: User, scanned: Scanned = NOW) -> dict[str, Any]:
    return {"event_id": event_id, "session_id": scene.session_id,
            "checkpoint_id": scene.checkpoint_id, "registration_id": scene.registration_id,
            "kind": kind, "people": people, "at": scanned.moment, "by_id": staff.id,
            "offline": scanned.offline}


def _already(scene: Scene, previous: Previous | None = None) -> ScanAnswer:
    """Nobody let in: the ticket is in already (here, at this checkpoint). Says when and by whom:
    `previous`, else the latest admission the scene read."""
    if previous is None and scene.previous_at is not None:
        previous = Previous(at=scene.previous_at, checkpoint_name=scene.checkpoint_name,
                            by=scene.previous_by or "")
    ticket = ticket_view(scene)
    if previous is None:  # undone in between: rare, and a new scan will tell
        message = _("Already admitted.")
    else:
        message = _("Already admitted at %(checkpoint)s, %(when)s, by %(by)s.",
                    checkpoint=previous.checkpoint_name, when=_when(previous.at),
                    by=previous.by or "-")
    return _answer(Result.ALREADY_ADMITTED, ticket, message, previous=previous,
                   remaining=max(scene.party_size - scene.admitted_people, 0))


def last_admission(registration_id: int, checkpoint_id: int,
                   connection: Connection | None = None) -> Previous | None:
    """The latest admission of a ticket at a checkpoint: when, where and by whom (a paired door
    device by its name, "东门 2 号机"). A scan's own read has it already (the scene's
    `previous_at`, `previous_by`, by the same rule): this is for one that must read again."""
    row = (connection or db.session).execute(
        select(Admission.at, Checkpoint.name,
               func.coalesce(DoorDevice.name, User.email).label("email"))
        .join(Checkpoint, Checkpoint.id == Admission.checkpoint_id)
        .outerjoin(User, User.id == Admission.by_id)
        .outerjoin(DoorDevice, DoorDevice.user_id == Admission.by_id)
        .where(Admission.registration_id == registration_id,
               Admission.checkpoint_id == checkpoint_id)
        .order_by(Admission.id.desc())
        .limit(1)
    ).first()
    return Previous(at=row.at, checkpoint_name=row.name, by=row.email or "") if row else None


# --- answers ------------------------------------------------------------------------------------


def ticket_view(row: Any, admitted: int | None = None) -> TicketView:
    """From any row with a registration's columns (its id as `registration_id`), its session's
    start and its event's title; a scene's door answers too."""
    return TicketView(
        ticket_id=row.registration_id, name=row.name, phone_masked=mask_mobile(row.phone),
        party_size=row.party_size, status=str(RegistrationStatus(row.status)),
        event_id=row.ticket_event_id, event_title=row.event_title, session_id=row.session_id,
        session_starts_at=row.starts_at,
        admitted_people=row.admitted_people if admitted is None else admitted,
        door_answers=getattr(row, "door_answers", None),
    )


def _answer(result: Result, ticket: TicketView | None, message: str, *, admitted: int = 0,
            remaining: int = 0, previous: Previous | None = None,
            admission_id: int | None = None, reentry: bool = False,
            exited: int = 0) -> ScanAnswer:
    return ScanAnswer(result=result, ticket=ticket, admitted_people=admitted,
                  remaining_people=remaining, previous=previous, message=message,
                  admission_id=admission_id, reentry=reentry, exited_people=exited)


def _when(at: datetime) -> str:
    """A time as the door reads it: 14:05 today, 09-21 14:05 on another day (Shanghai)."""
    local, today = to_local(at), to_local(utcnow()).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d %H:%M")
