"""Many phones at once against the real app under gunicorn with four worker processes: capacity is
counted in people and never oversold, no place is lost, a phone registers once, and racing
cancellations free their places exactly once. Runs on SQLite and, with --db=postgresql, on its
own database of the test server."""
from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import HOLDS_PLACES, EventSession, Registration, ensure_districts
from qmevents.services import events
from qmevents.services.errors import RegistrationClosed
from qmevents.services.registrations import cancellation
from qmevents.timeutil import utcnow

from .conftest import Factory
from .support.server import Gunicorn, app_env

pytestmark = pytest.mark.server

CAPACITY = 30
MAX_PARTY = 4


@dataclass
class Arena:
    """An open day with a small session (30 places) and a roomy one, served by gunicorn."""

    app: Flask
    server: Gunicorn
    event_id: int
    small: int  # session ids
    roomy: int

    @property
    def path(self) -> str:
        return f"/api/v1/events/{self.event_id}/registrations?lang=en"

    def places(self, session_id: int) -> tuple[int, int]:
        """(places_taken, people in registrations that hold places), read afresh."""
        with self.app.app_context():
            taken = db.session.scalar(select(EventSession.places_taken).filter_by(id=session_id))
            held = db.session.scalar(
                select(func.coalesce(func.sum(Registration.party_size), 0))
                .where(Registration.session_id == session_id,
                       Registration.status.in_(HOLDS_PLACES)))
            return taken, held


@pytest.fixture
def arena(database_url, tmp_path, monkeypatch) -> Iterator[Arena]:
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    sessions = [events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2),
                                    capacity=CAPACITY),
                events.SessionDraft(starts_at=start + timedelta(hours=3),
                                    ends_at=start + timedelta(hours=5), capacity=200)]
    event_id = Factory(app).event(max_party_size=MAX_PARTY, sessions=sessions)
    with app.app_context():
        small, roomy = db.session.scalars(
            select(EventSession.id).filter_by(event_id=event_id).order_by(EventSession.starts_at))
    server = Gunicorn("wsgi:app", app_env(instance, database_url), workers=4)
    server.start(ready_path="/api/v1/openapi.json")
    try:
        yield Arena(app, server, event_id, small, roomy)
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


def together(calls: list[Callable[[], object]]) -> list[object]:
    """Run every call on its own thread, released at the same instant by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> object:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def registering(arena: Arena, session_id: int, phone: str, party_size: int):
    body = {"session_id": session_id, "name": "市民", "phone": phone, "party_size": party_size}
    return lambda: (phone, party_size, *arena.server.post_json(arena.path, body))


def phones(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(n)]


def assert_no_server_errors(arena: Arena, answers) -> None:
    statuses = Counter(status for _phone, _size, status, _body in answers)
    assert set(statuses) <= {201, 409}, (statuses, arena.server.errors())


def fill_with_singles(arena: Arena, prefix: str, n: int = 40) -> list:
    """Parties of one, racing for whatever is left: afterwards nothing may be left."""
    answers = together([registering(arena, arena.small, p, 1) for p in phones(prefix, n)])
    assert_no_server_errors(arena, answers)
    return answers


# --- the stories --------------------------------------------------------------------------------


def test_a_surge_of_parties_fills_the_session_exactly_and_never_oversells(arena):
    rng = random.Random(20260915)
    parties = [registering(arena, arena.small, p, rng.randint(1, MAX_PARTY))
               for p in phones("1390000", 96)]
    twice_small = [registering(arena, arena.small, p, 2) for p in phones("1370000", 2) * 3]
    twice_roomy = [registering(arena, arena.roomy, p, 2) for p in phones("1360000", 6) * 3]
    calls = parties + twice_small + twice_roomy
    rng.shuffle(calls)
    answers = together(calls)
    assert len(answers) == 120
    assert_no_server_errors(arena, answers)

    small = [a for a in answers if a[0][:7] in ("1390000", "1370000")]
    confirmed = [a for a in small if a[2] == 201]
    taken, held = arena.places(arena.small)
    assert taken == held == sum(size for _p, size, _s, _b in confirmed) <= CAPACITY
    refused_full = [size for _p, size, status, body in small
                    if status == 409 and body["error"] == "full"]
    assert refused_full, "demand must exceed capacity"
    assert CAPACITY - taken < min(refused_full)  # nobody was refused while their party fitted
    assert max(Counter(p for p, *_ in confirmed).values()) == 1

    roomy = Counter((p, status) for p, _size, status, _body in answers if p.startswith("1360000"))
    assert roomy == {**{(p, 201): 1 for p in phones("1360000", 6)},
                     **{(p, 409): 2 for p in phones("1360000", 6)}}
    assert arena.places(arena.roomy) == (12, 12)

    left = CAPACITY - taken
    singles = fill_with_singles(arena, "1350000")
    assert sum(1 for a in singles if a[2] == 201) == left
    assert arena.places(arena.small) == (CAPACITY, CAPACITY)


def test_racing_cancellations_free_places_once_for_racing_newcomers(arena):
    fill_with_singles(arena, "1390000", n=CAPACITY)
    assert arena.places(arena.small) == (CAPACITY, CAPACITY)
    with arena.app.app_context():
        codes = list(db.session.scalars(
            select(Registration.code).where(Registration.session_id == arena.small).limit(5)))

    def cancelling(code: str) -> Callable[[], str]:
        def cancel() -> str:
            with arena.app.app_context():
                try:
                    cancellation.cancel(code)
                    return "cancelled"
                except RegistrationClosed:
                    return "already"
        return cancel

    cancels = [cancelling(code) for code in codes * 3]
    newcomers = [registering(arena, arena.small, p, 1) for p in phones("1380000", 15)]
    results = together(cancels + newcomers)
    outcomes = Counter(zip(codes * 3, results[:len(cancels)], strict=True))
    assert outcomes == {**{(c, "cancelled"): 1 for c in codes},
                        **{(c, "already"): 2 for c in codes}}
    assert_no_server_errors(arena, results[len(cancels):])
    taken, held = arena.places(arena.small)
    assert taken == held <= CAPACITY

    fill_with_singles(arena, "1350000", n=10)
    assert arena.places(arena.small) == (CAPACITY, CAPACITY)
