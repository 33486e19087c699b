"""How many people are inside now (场内人数), exits, and the safety cap (最大承载量).

Inside now = people let in at the entrance (entries, re-entries, walk-ins) − people who left
(exits), per event, per session, and per checkpoint (people in through it − people out through
it: the area behind a gate counting both ways). Visits at the stations of a tour are not arrivals
and do not count. An exit never changes Registration.admitted_people: "registered and came" stays
what it was, only "inside now" goes down.

The cap: a session's safety_cap wins over the event's. An entry, re-entry or walk-in that would
bring the people inside above it is refused (`over_capacity`) unless staff override (audited as
"cap_override"); from 90% the answer says how full it is. Offline scans are never refused for the
cap: they happened (the sync branch records them with `override`).

Counting and admitting is ONE conditional statement: the UPDATE of the ticket (or the INSERT of a
walk-in or exit) carries `WHERE (SELECT inside now) + n <= cap` (or, for people leaving,
`WHERE inside >= n`). On SQLite a writing statement takes the database's write lock before it
reads, so concurrent doors are serialised and the cap is exact. On PostgreSQL (READ COMMITTED)
each statement counts from its own snapshot, and scans in flight at the same instant would not
see each other (the cap passed by up to the scans running at once). So there, and only for
writes that count (entries under a cap, re-entries, walk-ins, exits), the statement runs in a
short transaction after `pg_advisory_xact_lock(14, event_id)`: its snapshot is taken after the
lock, the count is exact, margin 0 (`counting`). Uncapped entries take no lock and stay one
statement; tests/test_door_exits.py checks the cap against a real gunicorn with threads.

Nothing here imports checkin (checkin imports this module): answers are checkin's to build.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Connection, Integer, and_, bindparam, case, func, insert, literal, select

from ...extensions import db
from ...models import (
    Admission,
    AdmissionKind,
    Checkpoint,
    CheckpointDirection,
    Event,
    EventSession,
)
from ...timeutil import utcnow
from .. import audit
from ..errors import ValidationFailed

IN_KINDS = (AdmissionKind.ENTRY, AdmissionKind.REENTRY, AdmissionKind.WALK_IN)
WARN_SHARE = 0.9  # from 90% of the cap the door warns; at 100% it refuses
_admission = Admission.__table__
_inside = _admission.alias("inside")


def signed_people(table) -> Any:
    """+people for an arrival at the entrance, −people for an exit, 0 for anything else."""
    return case((table.c.kind.in_(IN_KINDS), table.c.people),
                (table.c.kind == AdmissionKind.EXIT, -table.c.people), else_=0)


def _inside_of(event_id, session_id) -> Any:
    """Inside now of an event, or of one of its sessions (`session_id` None: the whole event),
    as a scalar subquery; the values may be bound parameters."""
    return (select(func.coalesce(func.sum(signed_people(_inside)), 0))
            .where(_inside.c.event_id == event_id,
                   _inside.c.session_id == func.coalesce(session_id, _inside.c.session_id))
            .scalar_subquery())


# The room condition of the entrance's conditional UPDATE (services.door.checkin): the cap's
# scope (`cap_event`, `cap_session` or NULL for the event's cap), `n` people and the `cap`.
ROOM = (_inside_of(bindparam("cap_event", type_=Integer),
                   bindparam("cap_session", type_=Integer))
        + bindparam("n", type_=Integer) <= bindparam("cap", type_=Integer))


@dataclass
class Cap:
    """The cap that governs a session: its own, else the event's (then counted over the event)."""

    limit: int
    event_id: int
    session_id: int | None  # None: the event's cap, counted over all its sessions

    def params(self, n: int) -> dict[str, Any]:
        return {"cap_event": self.event_id, "cap_session": self.session_id, "n": n,
                "cap": self.limit}


def cap_of(event_id: int, session_id: int | None, event_cap: int | None,
           session_cap: int | None) -> Cap | None:
    if session_cap is not None and session_id is not None:
        return Cap(session_cap, event_id, session_id)
    if event_cap is not None:
        return Cap(event_cap, event_id, None)
    return None


def session_cap(event: Event, session_id: int | None) -> Cap | None:
    session = next((s for s in event.sessions if s.id == session_id), None)
    return cap_of(event.id, session_id, event.safety_cap, session.safety_cap if session else None)


def inside_now(connection, event_id: int, session_id: int | None = None) -> int:
    """People inside the event (or one session) now: never below 0."""
    return max(int(connection.execute(select(_inside_of(event_id, session_id))).scalar() or 0), 0)


def inside_of_cap(connection, cap: Cap) -> int:
    return inside_now(connection, cap.event_id, cap.session_id)


def cap_state(inside: int, cap: int | None) -> str:
    """"ok", "warn" (≥ 90%) or "full" (≥ 100%) of the cap; "ok" without one."""
    if not cap:
        return "ok"
    if inside >= cap:
        return "full"
    return "warn" if inside >= WARN_SHARE * cap else "ok"


def share_message(inside: int, cap: Cap | None) -> str:
    """The warning an admitted answer carries from 90% of the cap; empty below."""
    if cap is None or inside < WARN_SHARE * cap.limit:
        return ""
    return _("%(share)d%% of the safety cap reached (%(inside)d of %(cap)d inside).",
             share=int(inside * 100 // cap.limit), inside=inside, cap=cap.limit)


def full_message(inside: int, cap: Cap) -> str:
    return _("Safety cap reached: %(inside)d of %(cap)d people inside. Let people out first, or "
             "admit anyway (recorded).", inside=inside, cap=cap.limit)


# --- writing an admission only when a condition holds --------------------------------------------

LOCK_CLASS = 14  # pg_advisory_xact_lock(LOCK_CLASS, event_id): the event's people inside


@contextmanager
def counting(connection, event_id: int | None) -> Iterator[None]:
    """Around a write that counts people inside: on PostgreSQL, a transaction holding the
    event's advisory lock, so the next statement counts what every other door committed (on
    SQLite the write lock does it). A connection in autocommit (the scan's own) gets an explicit
    BEGIN … COMMIT; a session's transaction keeps the lock until the caller commits. `event_id`
    None: nothing to count, nothing taken."""
    if event_id is None or db.engine.dialect.name != "postgresql":
        yield
        return
    own = (isinstance(connection, Connection)
           and connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT")
    if own:
        connection.exec_driver_sql("BEGIN")
    try:
        connection.execute(select(func.pg_advisory_xact_lock(LOCK_CLASS, event_id)))
        yield
    except BaseException:
        if own:
            connection.exec_driver_sql("ROLLBACK")
        raise
    if own:
        connection.exec_driver_sql("COMMIT")


def record_if(connection, row: dict[str, Any], condition) -> int | None:
    """INSERT the admission `row` when `condition` holds, in one statement (INSERT … SELECT …
    WHERE); its id, or None when the condition did not hold."""
    columns = list(row)
    values = [literal(row[c], type_=_admission.c[c].type) for c in columns]
    statement = (insert(_admission)
                 .from_select(columns, select(*values).where(condition), include_defaults=False)
                 .returning(_admission.c.id))
    return connection.execute(statement).scalar()


def room_for(cap: Cap, n: int) -> Any:
    return _inside_of(cap.event_id, cap.session_id) + n <= cap.limit


def people_inside_at_least(event_id: int, session_id: int, n: int) -> Any:
    return _inside_of(event_id, session_id) >= n


def party_inside(registration_id: int) -> Any:
    """People of one ticket inside now: its entries and re-entries minus its exits."""
    return (select(func.coalesce(func.sum(signed_people(_inside)), 0))
            .where(_inside.c.registration_id == registration_id)
            .scalar_subquery())


def party_inside_now(connection, registration_id: int) -> int:
    return max(int(connection.execute(select(party_inside(registration_id))).scalar() or 0), 0)


# --- the figures ------------------------------------------------------------------------------------


@dataclass
class Occupancy:
    inside_now: int
    safety_cap: int | None
    cap_state: str
    by_checkpoint: dict[int, int]  # checkpoint id → people in through it − out through it


def occupancy(event_id: int, session_id: int | None = None) -> Occupancy:
    """Inside now of the event (or one session), the cap that governs it and how full it is,
    and per checkpoint. The cap's state is measured over the cap's own scope (the event's cap
    over the whole event, even when one session is asked for). Two aggregate queries."""
    only = [] if session_id is None else [Admission.session_id == session_id]
    signed = signed_people(_admission)
    rows = db.session.execute(
        select(Admission.checkpoint_id, func.sum(signed),
               func.sum(case((Admission.kind == AdmissionKind.VISIT, Admission.people),
                             else_=0)))
        .where(Admission.event_id == event_id, *only)
        .group_by(Admission.checkpoint_id)
    ).all()
    inside = max(sum(int(s or 0) for _c, s, _v in rows), 0)
    # A station's area: people of the visits in, exits through it out.
    by_checkpoint = {c: max(int(s or 0) + int(v or 0), 0) for c, s, v in rows}
    caps = db.session.execute(
        select(Event.safety_cap, EventSession.safety_cap)
        .select_from(Event)
        .outerjoin(EventSession, and_(EventSession.event_id == Event.id,
                                      EventSession.id == (session_id or -1)))
        .where(Event.id == event_id)
    ).first()
    cap = cap_of(event_id, session_id, caps[0], caps[1]) if caps else None
    if cap is None:
        return Occupancy(inside, None, "ok", by_checkpoint)
    scope_inside = inside if cap.session_id == session_id else inside_of_cap(db.session, cap)
    return Occupancy(inside, cap.limit, cap_state(scope_inside, cap.limit), by_checkpoint)


# --- which way a scan goes ----------------------------------------------------------------------------

DIRECTIONS = ("in", "out")


def is_exit(checkpoint_direction: str, direction: str) -> bool:
    """An exit: every scan at an "out" checkpoint; at a "both" one, when the request says out.
    ValidationFailed for "out" asked at a checkpoint that only admits."""
    if direction not in DIRECTIONS:
        raise ValidationFailed({"direction": _("Choose “in” or “out”.")})
    if checkpoint_direction == CheckpointDirection.OUT:
        return True
    if direction == "out":
        if checkpoint_direction != CheckpointDirection.BOTH:
            raise ValidationFailed({"direction": _(
                "This checkpoint only admits people: nobody leaves through it.")})
        return True
    return False


def exit_row(event_id: int, session_id: int, checkpoint_id: int, registration_id: int | None,
             people: int, by_id: int, at: datetime, offline: bool = False) -> dict[str, Any]:
    return {"event_id": event_id, "session_id": session_id, "checkpoint_id": checkpoint_id,
            "registration_id": registration_id, "kind": AdmissionKind.EXIT, "people": people,
            "at": at, "by_id": by_id, "offline": offline}


def exit_checkpoint(event: Event, checkpoint_id: int | None) -> Checkpoint | None:
    """The checkpoint given (None when it is not the event's), else the event's first exit,
    else its first checkpoint counting both ways, else its entrance."""
    if checkpoint_id is not None:
        return next((c for c in event.checkpoints if c.id == checkpoint_id), None)
    for way in (CheckpointDirection.OUT, CheckpointDirection.BOTH):
        found = [c for c in event.checkpoints if c.direction == way]
        if found:
            return found[0]
    return event.entrance


# --- answers of the entrance under a cap, and of the exit ----------------------------------------


def over(connection, cap: Cap, n: int) -> bool:
    """Would `n` more people pass the cap?"""
    return inside_of_cap(connection, cap) + n > cap.limit


def admitted_under_cap(connection, answer, cap: Cap | None, overridden: bool, staff):
    """An admitted answer with the cap's warning from 90%; an admission past the cap that staff
    overrode is written in the audit log ("cap_override")."""
    if cap is None:
        return answer
    inside = inside_of_cap(connection, cap)
    warning = share_message(inside, cap)
    if warning:
        answer.message = f"{answer.message} {warning}"
    if overridden:
        ticket = answer.ticket
        audit.record("cap_override", actor_id=staff.id, event_id=cap.event_id,
                     registration_id=ticket.ticket_id if ticket else None,
                     admission_id=answer.admission_id, people=answer.admitted_people,
                     inside=inside, safety_cap=cap.limit, session_id=cap.session_id)
        db.session.commit()
    return answer


@dataclass
class Leaving:
    """What an exit scan did: people counted out (0: nobody of the party was inside), the
    exit's admission id, and the party's people still inside."""

    people: int
    admission_id: int | None
    still_inside: int
    message: str


def leave(connection, scene, event_id: int, people: int | None, by_id: int, *,
          at: datetime | None = None, offline: bool = False) -> Leaving:
    """A ticket's people leave through an exit: those of the party inside (or `people` of them).
    One conditional INSERT: two phones scanning the party out at once count it out once."""
    inside = party_inside_now(connection, scene.registration_id)
    if people is not None and inside and people > inside:
        raise ValidationFailed({"people": _(
            "Only %(n)d of this party are inside.", n=inside)})
    n = people or inside
    admission_id = None
    if inside:
        row = exit_row(event_id, scene.session_id, scene.checkpoint_id, scene.registration_id,
                       n, by_id, at or utcnow(), offline)
        with counting(connection, event_id):
            admission_id = record_if(connection, row, party_inside(scene.registration_id) >= n)
        connection.commit()
    if admission_id is None:
        return Leaving(0, None, 0, _("Nobody of this party is inside: nothing recorded."))
    left = inside - n
    message = (_("Exit: %(n)d left.", n=n) if not left else
               _("Exit: %(n)d left; %(left)d of this party still inside.", n=n, left=left))
    return Leaving(n, admission_id, left, message)
