"""Several phones at one door at the same instant, against the real app under gunicorn with four
worker processes: one ticket scanned by sixteen phones is let in once, and tallies bumped from
eight phones at once lose nothing. On SQLite and, with --db=postgresql, on PostgreSQL."""
from __future__ import annotations

import http.client
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import Admission, Registration, Tally, User, ensure_districts
from qmevents.services import accounts

from .conftest import Factory
from .support.server import Gunicorn, app_env
from .test_capacity_race import together
from .test_checkin import Door, make_door

pytestmark = pytest.mark.server


@dataclass
class Gate:
    """A family tour's door served by gunicorn, and a device token for each of its phones."""

    door: Door
    server: Gunicorn
    tokens: list[str]


@pytest.fixture
def gate(database_url, tmp_path, monkeypatch) -> Iterator[Gate]:
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app: Flask = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                             "PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 64,
                             "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    door = make_door(app, Factory(app), tallies=["血压测量", "资料发放"])
    with app.app_context():
        staff = db.session.get(User, door.staff_id)
        tokens = [accounts.issue_token(staff)[0] for _ in range(16)]
    server = Gunicorn("wsgi:app", app_env(instance, database_url), workers=4)
    server.start(ready_path="/api/v1/openapi.json")
    try:
        yield Gate(door, server, tokens)
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


def post(gate: Gate, token: str, path: str, body: dict) -> tuple[int, dict]:
    """One POST from one phone's device, on its own connection: (status, decoded JSON)."""
    connection = http.client.HTTPConnection("127.0.0.1", gate.server.port, timeout=60)
    try:
        connection.request("POST", path, body=json.dumps(body),
                           headers={"Content-Type": "application/json",
                                    "Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_sixteen_phones_scanning_one_ticket_at_once_let_it_in_once(gate):
    door = gate.door
    code = door.ticket(party=4)
    door.starts_now(door.morning)  # the day comes: the real server's door admits by its clock
    body = {"code": code, "event_id": door.event_id, "session_id": door.morning}
    answers = together([
        (lambda token=token: post(gate, token, "/api/v1/checkins", body)) for token in gate.tokens
    ])
    statuses = Counter(status for status, _body in answers)
    assert statuses == {200: 16}, (statuses, gate.server.errors())
    results = Counter(answer["result"] for _status, answer in answers)
    assert results == {"admitted": 1, "already_admitted": 15}
    winner = next(a for _s, a in answers if a["result"] == "admitted")
    assert winner["admitted_people"] == 4
    with door.app.app_context():
        assert db.session.scalar(select(Registration.admitted_people).filter_by(code=code)) == 4
        assert len(db.session.scalars(select(Admission.id)).all()) == 1


def test_tallies_bumped_from_eight_phones_at_once_add_up_exactly(gate):
    door = gate.door
    with door.app.app_context():
        tally_id = db.session.scalar(select(Tally.id).filter_by(event_id=door.event_id,
                                                                 name="血压测量"))
    path = f"/api/v1/events/{door.event_id}/tallies/{tally_id}/bump"

    def phone(token: str) -> list[int]:
        return [post(gate, token, path, {"by": 1})[0] for _ in range(50)]

    statuses = Counter(s for batch in together(
        [(lambda token=token: phone(token)) for token in gate.tokens[:8]]) for s in batch)
    assert statuses == {200: 400}, (statuses, gate.server.errors())
    with door.app.app_context():
        assert db.session.get(Tally, tally_id).count == 400
