"""Places: the only code that moves a session's `places_taken`.

Capacity is counted in people and enforced by the database: a place is taken by a conditional
UPDATE whose row count says whether it fitted (`places_taken + n <= capacity` is the whole rule),
in the caller's transaction. That holds across gunicorn workers and servers, on SQLite and
PostgreSQL alike, and it is why no session is ever oversold: registering, admitting an applicant,
an invitation, a lottery's winners and a waiting list's promotion all take places here, and a
cancellation, a declined offer and an undone walk-in give them back here. Each move also counts
up `places_moves`, so that a page showing places can tell a change that came back (full, one
given back, taken again) from none.
"""
from __future__ import annotations

from sqlalchemy import bindparam, update

from ...extensions import db
from ...models import EventSession

# Built once: a registration surge runs it thousands of times a minute.
_CLAIM = (
    update(EventSession.__table__)
    .where(
        EventSession.__table__.c.id == bindparam("session_id"),
        EventSession.__table__.c.places_taken + bindparam("people")
        <= EventSession.__table__.c.capacity,
    )
    .values(places_taken=EventSession.__table__.c.places_taken + bindparam("people"),
            places_moves=EventSession.__table__.c.places_moves + 1)
)


def claim_places(session_id: int, people: int) -> bool:
    """Take `people` places if they fit. The WHERE clause is the whole rule."""
    result = db.session.execute(_CLAIM, {"session_id": session_id, "people": people})
    return result.rowcount == 1


def release_places(session_id: int, people: int) -> None:
    """Give back `people` places; never below zero."""
    db.session.execute(
        update(EventSession)
        .where(EventSession.id == session_id, EventSession.places_taken >= people)
        .values(places_taken=EventSession.places_taken - people,
                places_moves=EventSession.places_moves + 1)
        .execution_options(synchronize_session=False)
    )
