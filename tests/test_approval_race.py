"""Two organisers admitting overlapping batches at the same instant, against the real app under
gunicorn with four workers: capacity is never exceeded, nobody is admitted twice, and every
admission is in the audit log once. SQLite and, with --db=postgresql, PostgreSQL."""
from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from qmevents import create_app
from qmevents.demo.names import person_name
from qmevents.extensions import db
from qmevents.models import (
    AuditEntry,
    EventSession,
    Registration,
    RegistrationStatus,
    User,
    ensure_districts,
)
from qmevents.services import accounts, events
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow

from .conftest import Factory
from .support.server import Gunicorn, app_env
from .test_capacity_race import together

pytestmark = pytest.mark.server

CAPACITY = 10


def post(server: Gunicorn, path: str, token: str, body: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("POST", path, body=json.dumps(body), headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_overlapping_batches_admitted_at_once_never_exceed_capacity(database_url, tmp_path,
                                                                    monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    factory = Factory(app)
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    event_id = factory.event(registration_mode="approval", sessions=[events.SessionDraft(
        starts_at=start, ends_at=start + timedelta(hours=2), capacity=CAPACITY)])
    organisers = [factory.user("organiser")[0] for _ in range(2)]
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
        ids = [reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name=person_name(i), phone=f"1390000{i:04d}",
            party_size=1 + i % 2, consent=True)).registration_id for i in range(16)]
        tokens = [accounts.issue_token(db.session.get(User, u))[0] for u in organisers]
    batches = [ids[0:6], ids[3:9], ids[6:12], ids[9:16], ids[0:16:3], ids[1:16:4]]

    server = Gunicorn("wsgi:app", app_env(instance, database_url), workers=4)
    server.start(ready_path="/api/v1/openapi.json")
    try:
        path = f"/api/v1/events/{event_id}/applicants/admit?lang=en"
        calls: list[Callable[[], tuple[int, dict]]] = [
            (lambda b=batch, t=tokens[i % 2]: post(server, path, t, {"registration_ids": b}))
            for i, batch in enumerate(batches)]
        answers = together(calls)
    finally:
        server.stop()

    assert {status for status, _body in answers} <= {200, 409}, answers
    assert any(status == 200 for status, _body in answers)
    admitted = [i for status, body in answers if status == 200 for i in body["admitted"]]
    assert len(admitted) == len(set(admitted))  # nobody admitted by two organisers
    with app.app_context():
        taken = db.session.scalar(select(EventSession.places_taken).filter_by(id=session_id))
        confirmed = dict(db.session.execute(
            select(Registration.id, Registration.party_size)
            .filter_by(status=RegistrationStatus.CONFIRMED)).all())
        logged = db.session.scalar(select(func.count(AuditEntry.id)).filter_by(action="admitted"))
        db.engine.dispose()
    assert set(admitted) == set(confirmed)
    assert taken == sum(confirmed.values()) <= CAPACITY
    assert logged == len(confirmed)
    for status, body in answers:
        if status == 409:
            assert body["error"] == "full" and 0 <= body["places_left"] < body["needed"]
