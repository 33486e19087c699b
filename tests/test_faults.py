"""When the server dies mid-rush. SIGKILL to gunicorn's master and workers in the middle of a
registration surge and of a scanning burst, then a restart on the same database; and, on
PostgreSQL, the database server itself crashed (`pg_ctl stop -m immediate`) and started again
under load while the app keeps running. Afterwards every registration and admission a client was
told about is there, nothing is half-written, place counts equal the people holding them, and the
app answers again. On SQLite (WAL, a file on disk) and, with --db=postgresql, on PostgreSQL."""
from __future__ import annotations

import http.client
import itertools
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from qmevents import create_app
from qmevents.demo.names import person_name
from qmevents.extensions import db
from qmevents.models import (
    HOLDS_PLACES,
    Admission,
    AdmissionKind,
    Answer,
    Event,
    EventSession,
    Notification,
    NotificationKind,
    Registration,
    RegistrationStatus,
    StaffAssignment,
    User,
    ensure_districts,
)
from qmevents.services import accounts, events
from qmevents.services.registrations import questions
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow

from .conftest import Factory
from .support.pgserver import PostgresServer
from .support.server import Gunicorn, app_env

pytestmark = pytest.mark.server

BUREAU = "嘉定区市场监督管理局"
CLIENTS = 16
TICKETS = 100  # registered before a scanning burst, parties of 1 to 4
SPARE_TICKETS = 2  # never scanned in the burst: scanned after the restart
HANG = 10.0  # seconds: an answer slower than this is a hang


# --- the venue: an open day with questions, door staff and tickets --------------------------------


@dataclass
class Venue:
    app: Flask  # the test's own view of the database, apart from the server's workers
    server: Gunicorn
    event_id: int
    small: int  # a session that fills up during a surge
    roomy: int
    today: int  # the session under way, whose door scans the tickets
    question_ids: list[int]
    tokens: list[str]  # bearer tokens of the door staff's phones
    tickets: list[str]  # confirmed codes in today's session
    phones: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def registrations_path(self) -> str:
        return f"/api/v1/events/{self.event_id}/registrations?lang=en"

    def registration(self, session_id: int | None = None) -> dict:
        n = next(self.phones)
        return {"session_id": session_id or (self.small, self.roomy)[n % 2],
                "name": person_name(n), "phone": f"139{n:08d}", "party_size": 1 + n % 4,
                "answers": {str(self.question_ids[0]): "4", str(self.question_ids[1]): "是"}}

    def scan(self, code: str) -> dict:
        return {"code": code, "event_id": self.event_id, "session_id": self.today, "people": 1}


def build_venue(url: str, instance: Path, extra_env: dict[str, str] | None = None,
                engine_options: dict | None = None) -> Venue:
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "PASSWORD_TIME_COST": 1,
                      "PASSWORD_MEMORY_COST": 64, "SQLALCHEMY_DATABASE_URI": url,
                      "NOTIFY_IN_BACKGROUND": False, "PUBLIC_URL": "https://zlj.example.cn",
                      "SQLALCHEMY_ENGINE_OPTIONS": engine_options or {}})
    with app.app_context():
        db.create_all()
        ensure_districts()
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    sessions = [events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2),
                                    capacity=40),
                events.SessionDraft(starts_at=start + timedelta(hours=3),
                                    ends_at=start + timedelta(hours=5), capacity=5000),
                events.SessionDraft(starts_at=start + timedelta(hours=6),
                                    ends_at=start + timedelta(hours=8), capacity=5000)]
    factory = Factory(app)
    event_id = factory.event(BUREAU, district="嘉定区", max_party_size=4, sessions=sessions,
                             checkpoints=["入口"])
    staff_id, _email = factory.user("staff", org=BUREAU, district="嘉定区")
    with app.app_context():
        event = db.session.get(Event, event_id)
        asked = questions.set_questions(event, [
            questions.QuestionDraft(label="孩子年龄", kind="number"),
            questions.QuestionDraft(label="是否首次参加", kind="single", options=["是", "否"]),
        ])
        question_ids = [q.id for q in asked]
        small, roomy, today = (s.id for s in event.sessions)
        db.session.add(StaffAssignment(user_id=staff_id, event_id=event_id))
        db.session.commit()
        staff = db.session.get(User, staff_id)
        tokens = [accounts.issue_token(staff)[0] for _ in range(8)]
    venue = Venue(app, Gunicorn("wsgi:app", {**app_env(instance, url), **(extra_env or {})},
                                own_group=True),
                  event_id, small, roomy, today, question_ids, tokens, [])
    with app.app_context():
        for i in range(TICKETS + SPARE_TICKETS):
            body = venue.registration(today)
            venue.tickets.append(reg.register(reg.RegistrationRequest(
                event_id=event_id, session_id=today, name=body["name"], phone=body["phone"],
                party_size=1 + i % 4, answers=body["answers"], consent=True)).code)
        # The day comes for today's session (registered a week before): its door admits now.
        now = utcnow().replace(microsecond=0)
        db.session.execute(update(EventSession).where(EventSession.id == today).values(
            starts_at=now - timedelta(minutes=30), ends_at=now + timedelta(hours=3)))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return venue


@pytest.fixture
def venue(database_url, tmp_path, monkeypatch) -> Iterator[Venue]:
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    venue = build_venue(database_url, instance)
    venue.server.start(ready_path="/api/v1/openapi.json")
    try:
        yield venue
    finally:
        venue.server.stop()
        with venue.app.app_context():
            db.engine.dispose()


# --- many clients at once ------------------------------------------------------------------------


@dataclass
class Reply:
    kind: str  # "register" or "scan"
    sent: dict
    status: int | None  # None: no answer at all (refused, reset, timed out)
    answer: Any
    started: float  # time.monotonic()
    seconds: float
    error: str = ""

    @property
    def acknowledged(self) -> bool:
        """A registration or admission the client was told about."""
        if self.kind == "register":
            return self.status == 201 and bool(self.answer.get("code"))
        return (self.status == 200 and self.answer.get("result") == "admitted"
                and self.answer.get("admission_id") is not None)


def send(venue: Venue, kind: str, body: dict, token: str | None = None) -> Reply:
    """One POST on a new connection, as a phone sends it; never raises."""
    path = venue.registrations_path if kind == "register" else "/api/v1/checkins?lang=en"
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", venue.server.port, timeout=HANG * 1.5)
    try:
        connection.request("POST", path, body=json.dumps(body), headers=headers)
        response = connection.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return Reply(kind, body, None, None, started, time.monotonic() - started, repr(exc))
    finally:
        connection.close()
    try:
        answer = json.loads(raw or b"null")
    except ValueError:
        answer = raw.decode(errors="replace")
    return Reply(kind, body, response.status, answer, started, time.monotonic() - started)


class Load:
    """Clients on their own threads, each sending one request after another until stopped."""

    def __init__(self, clients: list[Callable[[], Reply]]) -> None:
        self.replies: list[Reply] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(c,), daemon=True)
                         for c in clients]

    def _run(self, client: Callable[[], Reply]) -> None:
        while not self._stop.is_set():
            self.replies.append(client())  # list.append is atomic

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def wait_for(self, acknowledged: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while sum(r.acknowledged for r in self.replies) < acknowledged:
            assert time.monotonic() < deadline, Counter(r.status for r in self.replies)
            time.sleep(0.02)

    def stop_sending(self) -> None:
        """No client starts another request; those in flight go on."""
        self._stop.set()

    def stop(self) -> list[Reply]:
        self.stop_sending()
        for thread in self._threads:
            thread.join(timeout=HANG * 2)
        return list(self.replies)

    def __exit__(self, *exc) -> None:
        self.stop()


def registering(venue: Venue) -> Callable[[], Reply]:
    return lambda: send(venue, "register", venue.registration())


def scanning(venue: Venue, token: str, seed: int) -> Callable[[], Reply]:
    """A door phone scanning tickets at random, one person at a time (parties come in bits)."""
    rng = random.Random(seed)
    return lambda: send(venue, "scan", venue.scan(rng.choice(venue.tickets[:TICKETS])), token)


# --- what must hold afterwards ------------------------------------------------------------------


def assert_registrations_whole(venue: Venue, replies: list[Reply]) -> None:
    """Every acknowledged registration is there as told; every registration has its answers and
    its message; no answer or message without its registration; places equal people."""
    acked = {r.answer["code"]: r.sent for r in replies if r.kind == "register" and r.acknowledged}
    with venue.app.app_context():
        rows = {row.code: row for row in db.session.execute(
            select(Registration.id, Registration.code, Registration.status, Registration.phone,
                   Registration.party_size, Registration.session_id)
            .where(Registration.event_id == venue.event_id))}
        missing = [code for code in acked if code not in rows]
        assert not missing, f"{len(missing)} acknowledged registrations lost"
        for code, sent in acked.items():
            row = rows[code]
            assert (row.status, row.phone, row.party_size, row.session_id) == (
                RegistrationStatus.CONFIRMED, sent["phone"], sent["party_size"],
                sent["session_id"])

        answers = dict(db.session.execute(
            select(Registration.id, func.count(Answer.id))
            .outerjoin(Answer, Answer.registration_id == Registration.id)
            .where(Registration.event_id == venue.event_id).group_by(Registration.id)).all())
        assert set(answers.values()) == {len(venue.question_ids)}, Counter(answers.values())
        assert db.session.scalar(
            select(func.count(Answer.id))
            .outerjoin(Registration, Registration.id == Answer.registration_id)
            .where(Registration.id.is_(None))) == 0

        confirmed_messages = Counter(db.session.scalars(
            select(Notification.registration_id)
            .where(Notification.kind == NotificationKind.REGISTRATION_CONFIRMED)))
        assert confirmed_messages.pop(None, 0) == 0, "a message lost its registration"
        assert confirmed_messages == {row.id: 1 for row in rows.values()}

        for session_id in (venue.small, venue.roomy, venue.today):
            taken, capacity = db.session.execute(
                select(EventSession.places_taken, EventSession.capacity)
                .filter_by(id=session_id)).one()
            held = db.session.scalar(
                select(func.coalesce(func.sum(Registration.party_size), 0))
                .where(Registration.session_id == session_id,
                       Registration.status.in_(HOLDS_PLACES)))
            assert taken == held <= capacity, (session_id, taken, held)


def assert_admissions_whole(venue: Venue, replies: list[Reply]) -> None:
    """Every acknowledged admission is there as told; each ticket's count equals its entries'
    people and never passes its party."""
    acked = [r for r in replies if r.kind == "scan" and r.acknowledged]
    with venue.app.app_context():
        stored = {row.id: row for row in db.session.execute(
            select(Admission.id, Admission.people, Admission.kind, Registration.code)
            .join(Registration, Registration.id == Admission.registration_id)
            .where(Admission.event_id == venue.event_id))}
        missing = [r.answer["admission_id"] for r in acked
                   if r.answer["admission_id"] not in stored]
        assert not missing, f"{len(missing)} acknowledged admissions lost"
        for r in acked:
            row = stored[r.answer["admission_id"]]
            assert (row.code, row.people, row.kind) == (
                r.sent["code"], r.answer["admitted_people"], AdmissionKind.ENTRY)

        entered = dict(db.session.execute(
            select(Admission.registration_id, func.sum(Admission.people))
            .where(Admission.event_id == venue.event_id, Admission.kind == AdmissionKind.ENTRY)
            .group_by(Admission.registration_id)).all())
        for registration_id, admitted, party in db.session.execute(
                select(Registration.id, Registration.admitted_people, Registration.party_size)
                .where(Registration.event_id == venue.event_id)):
            assert admitted == entered.get(registration_id, 0) <= party, registration_id


def assert_answers_again(venue: Venue) -> None:
    """A new registration and a scan of a spare ticket go through."""
    registered = send(venue, "register", venue.registration(venue.roomy))
    assert registered.status == 201, (registered.answer, venue.server.errors())
    scanned = send(venue, "scan", venue.scan(venue.tickets[-1]), venue.tokens[0])
    assert scanned.acknowledged, (scanned.answer, venue.server.errors())


def kill_mid_load(venue: Venue, clients: list[Callable[[], Reply]],
                  acknowledged: int) -> list[Reply]:
    """Run the clients until `acknowledged` answers went out, then SIGKILL the whole server
    with requests in flight, and start it again on the same database."""
    with Load(clients) as load:
        load.wait_for(acknowledged)
        load.stop_sending()
        venue.server.kill()
        replies = load.stop()
    venue.server.restart(ready_path="/api/v1/openapi.json")
    return replies


# --- the stories --------------------------------------------------------------------------------


def test_a_server_killed_mid_surge_loses_no_acknowledged_registration(venue):
    replies = kill_mid_load(venue, [registering(venue) for _ in range(CLIENTS)], acknowledged=60)

    statuses = Counter(r.status for r in replies)
    assert set(statuses) <= {201, 409, None}, (statuses, venue.server.errors())
    assert statuses[None] >= 1, "the kill should catch requests in flight"
    assert_registrations_whole(venue, replies)
    assert_answers_again(venue)
    assert_registrations_whole(venue, [])


def test_a_server_killed_mid_scanning_burst_loses_no_acknowledged_admission(venue):
    clients = [scanning(venue, token, seed) for seed, token in enumerate(venue.tokens * 2)]
    replies = kill_mid_load(venue, clients, acknowledged=80)

    statuses = Counter(r.status for r in replies)
    assert set(statuses) <= {200, None}, (statuses, venue.server.errors())
    assert statuses[None] >= 1, "the kill should catch requests in flight"
    assert_admissions_whole(venue, replies)
    assert_answers_again(venue)
    assert_admissions_whole(venue, [])


def escaped(server: Gunicorn) -> str:
    """What gunicorn logged about an error that escaped the app (answered with its bare page)."""
    log = Path(server.log.name).read_text(errors="replace")
    at = log.find("Error handling request")
    return log[at:at + 8000] if at >= 0 else log[-4000:]


# --- PostgreSQL crashed under load ----------------------------------------------------------------


@pytest.fixture
def durable_pg_url(db_kind, postgres_url) -> Iterator[str]:
    """A database of its own on the test server, keeping every acknowledged commit through a
    crash (the test server runs synchronous_commit=off for speed). Made and dropped without a
    pooled connection, so none is left to die in the restart."""
    if db_kind != "postgresql":
        pytest.skip("restarts the PostgreSQL server: run with --db=postgresql")
    name = f"qmevents_crash_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(postgres_url).set(database="postgres"), poolclass=NullPool,
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = on'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        PostgresServer.serving(postgres_url).wait_ready()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_postgresql_crashed_mid_load_loses_nothing_and_the_app_recovers_by_itself(
        durable_pg_url, postgres_url, tmp_path, monkeypatch):
    pg = PostgresServer.serving(postgres_url)
    assert pg is not None, "the test PostgreSQL server is not this process's"
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    venue = build_venue(durable_pg_url, instance)  # the app's own engine options: pre-ping on
    venue.server.start(ready_path="/api/v1/openapi.json")
    try:
        clients = ([registering(venue) for _ in range(CLIENTS // 2)]
                   + [scanning(venue, token, seed) for seed, token in enumerate(venue.tokens)])
        with Load(clients) as load:
            load.wait_for(60)
            crashed_at = time.monotonic()
            down = pg.crash_and_restart(down_for=1.5)
            back_at = time.monotonic()
            time.sleep(2.0)
            replies = load.stop()
        assert not [r for r in replies if r.status is None], "a request hung or was dropped"
        assert max(r.seconds for r in replies) < HANG
        failed = [r for r in replies if r.status is not None and r.status >= 500]
        assert failed, f"no request saw the {down:.1f} s outage"
        assert {r.status for r in failed} == {503}, escaped(venue.server)
        assert all(isinstance(r.answer, dict) and r.answer.get("error") == "unavailable"
                   for r in failed), escaped(venue.server)
        assert all(crashed_at - 1 < r.started < back_at for r in failed)
        after = [r for r in replies if r.started > back_at]
        assert after and all(r.status in (200, 201, 409) for r in after), Counter(
            r.status for r in after)

        assert_registrations_whole(venue, replies)
        assert_admissions_whole(venue, replies)
        assert_answers_again(venue)
    finally:
        venue.server.stop()
        with venue.app.app_context():
            db.engine.dispose()
