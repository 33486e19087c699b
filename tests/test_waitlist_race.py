"""A full open day with a long waiting list, against the real app under gunicorn with four worker
processes: citizens cancel on their ticket pages while newcomers register through the API, all
at the same instant. Afterwards the waiting list is exact: no place doubled or lost, nobody
promoted twice, nobody promoted ahead of an earlier party that fitted. On SQLite and, with
--db=postgresql, on PostgreSQL."""
from __future__ import annotations

import random
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import (
    HOLDS_PLACES,
    AuditEntry,
    EventSession,
    Registration,
    RegistrationStatus,
    ensure_districts,
)
from qmevents.services import events
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow

from .conftest import Factory, csrf_from
from .support.server import Gunicorn, app_env
from .test_capacity_race import together

pytestmark = pytest.mark.server

CAPACITY = 20
HOLDERS = [4, 4, 3, 3, 2, 2, 1, 1]  # the parties holding all 20 places
WAITING = 30
MAX_PARTY = 4


@dataclass
class Queue:
    """The open day served by gunicorn: who holds the places and who waits, in order."""

    app: Flask
    server: Gunicorn
    event_id: int
    session_id: int
    holders: list[str]  # ticket codes
    waiting: list[str]

    def registrations(self) -> list[Registration]:
        """Every registration of the session, in waiting-list order, read afresh."""
        with self.app.app_context():
            found = list(db.session.scalars(
                select(Registration).where(Registration.session_id == self.session_id)
                .order_by(Registration.created_at, Registration.id)))
            db.session.expunge_all()
            return found

    def places_taken(self) -> int:
        with self.app.app_context():
            return db.session.scalar(
                select(EventSession.places_taken).filter_by(id=self.session_id))

    def promotions(self) -> Counter:
        """How often each registration was promoted, from the audit log."""
        with self.app.app_context():
            return Counter(db.session.scalars(
                select(AuditEntry.registration_id).filter_by(action="promoted")))


@pytest.fixture
def queue(database_url, tmp_path, monkeypatch) -> Iterator[Queue]:
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False,
                      "NOTIFY_IN_BACKGROUND": False, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    event_id = Factory(app).event(
        registration_mode="waitlist", max_party_size=MAX_PARTY,
        sessions=[events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2),
                                      capacity=CAPACITY)])
    rng = random.Random(20250915)
    with app.test_request_context("/"):
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
        sizes = HOLDERS + [rng.randint(1, MAX_PARTY) for _ in range(WAITING)]
        codes = [reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="市民", phone=f"1390000{i:04d}",
            party_size=size, consent=True)).code for i, size in enumerate(sizes)]
    server = Gunicorn("wsgi:app", app_env(instance, database_url), workers=4)
    server.start(ready_path="/api/v1/openapi.json")
    try:
        yield Queue(app, server, event_id, session_id, codes[:len(HOLDERS)], codes[len(HOLDERS):])
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def cancelling(queue: Queue, code: str) -> Callable[[], int]:
    """A citizen on the ticket's cancel page (loaded now, for its cookie and token); the call
    presses the button: the answer's status."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()),
                                         _NoRedirects)
    url = f"{queue.server.url}/t/{code}/cancel?lang=en"
    with opener.open(url, timeout=30) as page:
        form = urlencode({"csrf_token": csrf_from(page.read().decode())}).encode()

    def press() -> int:
        try:
            with opener.open(urllib.request.Request(url, data=form, method="POST"),
                             timeout=60) as answer:
                return answer.status
        except urllib.error.HTTPError as answer:
            return answer.code
    return press


def registering(queue: Queue, phone: str, party_size: int) -> Callable[[], int]:
    body = {"session_id": queue.session_id, "name": "新市民", "phone": phone,
            "party_size": party_size}
    path = f"/api/v1/events/{queue.event_id}/registrations?lang=en"
    return lambda: queue.server.post_json(path, body)[0]


def test_racing_cancellations_and_registrations_keep_the_waiting_list_exact(queue):
    rng = random.Random(7)
    leaving = queue.holders + rng.sample(queue.waiting, 15 - len(queue.holders))
    cancels = [cancelling(queue, code) for code in leaving]
    newcomers = [registering(queue, f"1380000{i:04d}", rng.randint(1, MAX_PARTY))
                 for i in range(15)]
    answers = together(cancels + newcomers)

    assert answers == [303] * 15 + [201] * 15, queue.server.errors()
    everyone = queue.registrations()
    by_code = {r.code: r for r in everyone}
    assert {by_code[code].status for code in leaving} == {RegistrationStatus.CANCELLED}

    # Places: counted once, never beyond capacity.
    holding = [r for r in everyone if r.status in HOLDS_PLACES]
    taken = queue.places_taken()
    assert taken == sum(r.party_size for r in holding) <= CAPACITY

    # Nobody promoted twice, and only parties that were waiting were promoted.
    promoted = queue.promotions()
    assert promoted and max(promoted.values()) == 1
    initially_waiting = {by_code[code].id for code in queue.waiting}
    newcomer_ids = {r.id for r in everyone if r.phone.startswith("1380000")}
    assert set(promoted) <= initially_waiting | newcomer_ids

    # Order: a party still waiting was never passed over for a later one it fitted in place of.
    order = {r.id: i for i, r in enumerate(everyone)}
    still_waiting = [r for r in everyone if r.status == RegistrationStatus.WAITLISTED]
    got_places = [r for r in everyone if r.id in promoted or
                  (r.id in newcomer_ids and r.status in HOLDS_PLACES)]
    for waiting in still_waiting:
        if waiting.id not in initially_waiting:
            continue  # a newcomer may not have been on the list yet when places were given
        overtaken = [r for r in got_places
                     if order[r.id] > order[waiting.id] and r.party_size >= waiting.party_size]
        assert not overtaken, (waiting.id, waiting.party_size, [r.id for r in overtaken])

    # No place lost: whatever is left is too small for everyone still waiting.
    left = CAPACITY - taken
    assert all(r.party_size > left for r in still_waiting), (left, still_waiting)
