"""The database of the registration-opening benchmark (benchmarks/opening.py): the demo programme
(so the event list is the real one) and the popular open day with its one session; then the
places, read while the citizens come and checked afterwards."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common import publish_open_day, qmevents_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

MAX_PARTY = 2


@dataclass
class Opening:
    event_id: int
    session_id: int
    capacity: int
    url: str


@dataclass
class Places:
    capacity: int
    places_taken: int
    confirmed_people: int  # party sizes of the registrations holding places

    @property
    def sound(self) -> bool:
        return self.places_taken == self.confirmed_people <= self.capacity


def _qmevents_app(url: str, instance: Path):
    """Cheap password hashes, as in the tests: signing in is no part of an opening."""
    return qmevents_app(url, instance, PASSWORD_TIME_COST=1, PASSWORD_MEMORY_COST=64)


def prepare_opening(url: str, instance: Path, places: int) -> Opening:
    """The demo programme, and a published open day, first come first served, phones verified,
    whose one session of `places` places opens for registration now."""
    from sqlalchemy import text as sql

    from qmevents.demo.loader import load_demo
    from qmevents.extensions import db
    from qmevents.timeutil import to_local, utcnow

    with _qmevents_app(url, instance).app_context():
        db.create_all()
        load_demo(to_local(utcnow()).date())
        event = publish_open_day(places, MAX_PARTY)
        opening = Opening(event.id, event.sessions[0].id, places, url)
        if db.engine.dialect.name == "postgresql":
            db.session.commit()
            db.session.execute(sql("ANALYZE"))  # as autovacuum would have on a server in use
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return opening


_engines: dict[str, Engine] = {}


def places_taken(opening: Opening) -> int:
    """The session's places taken now, read as another client of the database would."""
    url = opening.url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = _engines.setdefault(url, create_engine(url, pool_size=1))
    with engine.connect() as connection:
        return connection.execute(text("SELECT places_taken FROM event_session WHERE id = :id"),
                                  {"id": opening.session_id}).scalar_one()


def count_places(instance: Path, opening: Opening) -> Places:
    """Capacity, places taken and the people of the registrations holding them, afterwards."""
    from sqlalchemy import func, select

    from qmevents.extensions import db
    from qmevents.models import HOLDS_PLACES, EventSession, Registration

    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    with _qmevents_app(opening.url, instance).app_context():
        taken = db.session.scalar(select(EventSession.places_taken)
                                  .filter_by(id=opening.session_id))
        held = db.session.scalar(
            select(func.coalesce(func.sum(Registration.party_size), 0))
            .where(Registration.session_id == opening.session_id,
                   Registration.status.in_(HOLDS_PLACES)))
        db.engine.dispose()
    return Places(opening.capacity, taken, held)
