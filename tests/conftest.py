"""Fixtures: a fresh app and database for every test (a real SQLite file, or a real PostgreSQL
server with `--db=postgresql`), a client, a CLI runner, factories and signed-in users."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import EventSession, Role, ensure_districts
from qmevents.services import accounts, events
from qmevents.timeutil import utcnow

from .support.pgserver import PostgresServer

PASSWORD = "correct horse battery"


def pytest_addoption(parser):
    parser.addoption("--db", choices=["sqlite", "postgresql"], default="sqlite",
                     help="the database the suite runs on")


@pytest.fixture(scope="session")
def db_kind(request) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def postgres_url(db_kind):
    """One PostgreSQL server and database for the run, started by the test setup."""
    if db_kind != "postgresql":
        yield None
        return
    server = PostgresServer().start()
    try:
        yield server.create_database("qmevents_test")
    finally:
        server.stop()


@pytest.fixture
def database_url(tmp_path, postgres_url):
    """An empty database of this test's own, for a real server's workers or for migrations: a
    SQLite file, or a new database on the test PostgreSQL server, dropped afterwards."""
    if postgres_url is None:
        yield f"sqlite:///{tmp_path / 'own.sqlite3'}"
        return
    name = f"qmevents_own_{uuid.uuid4().hex[:12]}"
    server = create_engine(make_url(postgres_url).set(database="postgres"),
                           isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


_schema_ready: set[str] = set()


@pytest.fixture
def app(tmp_path, monkeypatch, postgres_url):
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = ready_app(postgres_url)
    yield app
    close_app(app)


# What every test app starts from: cheap password hashing, no limits, messages sent in the request.
TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PASSWORD_TIME_COST": 1,
    "PASSWORD_MEMORY_COST": 64,
    "RATELIMIT_ENABLED": False,
    "NOTIFY_IN_BACKGROUND": False,  # tests read what was sent right after the request
    # Tests of what a page shows read it right after changing the data; the render cache, which
    # may show a page up to a second old, is tested by itself (test_page_cache.py) and is on in
    # every test of the real server (gunicorn, the browser tests).
    "PAGE_CACHE_SECONDS": 0,
    "SERVER_NAME": None,
}


def ready_app(postgres_url: str | None, **settings) -> Flask:
    """An app on a fresh database (the SQLite file of QMEVENTS_INSTANCE, or the emptied
    PostgreSQL test database), with the districts; `settings` override TEST_CONFIG."""
    config = {**TEST_CONFIG, **settings}
    if postgres_url:
        config["SQLALCHEMY_DATABASE_URI"] = postgres_url
    app = create_app(config)
    with app.app_context():
        if postgres_url:
            _reset_postgres(postgres_url)
        else:
            db.create_all()
        ensure_districts()
    return app


def close_app(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _reset_postgres(url: str) -> None:
    if url not in _schema_ready:
        db.drop_all()
        db.create_all()
        _schema_ready.add(url)
        return
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables if t.name != "district")
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(runner) -> str:
    """The output of one `flask demo` run: the demo programme and last year's edition loaded."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return result.output


@contextmanager
def on_the_day(app, session_id: int, minutes: int = 10) -> Iterator[None]:
    """The door's clock (scans, walk-ins) `minutes` into a session: arrangements register for
    sessions days ahead, and the door admits a session's tickets on its day only
    (services.door.checkin)."""
    with app.app_context():
        start = db.session.get(EventSession, session_id).starts_at
    clock = lambda: start + timedelta(minutes=minutes)  # noqa: E731
    with mock.patch("qmevents.services.door.checkin.utcnow", clock), \
            mock.patch("qmevents.services.door.desk.utcnow", clock):
        yield


# --- forms with CSRF on ----------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def submit(client, url: str, data: dict, *, page: str | None = None, **kwargs):
    """Post a form the way a browser does: load the page that holds it, then send its token."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_from(html), **data}, **kwargs)


def login(client, email: str, password: str = PASSWORD):
    response = submit(client, "/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


# --- factories -----------------------------------------------------------------------------


class Factory:
    """Arrange through the services, as the app itself would."""

    def __init__(self, app):
        self.app = app
        self._n = 0

    def user(self, role: str = "organiser", org: str | None = "杨浦区市场监督管理局",
             district: str = "杨浦区", email: str | None = None):
        self._n += 1
        email = email or f"{role}{self._n}@example.cn"
        with self.app.app_context():
            user = accounts.create_user(email, PASSWORD, role,
                                        None if role == Role.ADMIN else org, district)
            return user.id, user.email

    def draft(self, **overrides) -> events.EventDraft:
        start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
        sessions = overrides.pop("sessions", None) or [
            events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2), capacity=30)
        ]
        if overrides.get("registration_mode") == "lottery":
            # A lottery is drawn when registration closes, so its sessions need that time.
            for s in sessions:
                if s.registration_closes_at is None and s.starts_at:
                    s.registration_closes_at = s.starts_at - timedelta(days=1)
        # Phones unverified unless a test asks: registering here is the arrangement, not the
        # story (the stories of verification are tests/test_phone_verification.py's).
        fields = dict(title="威派格智慧水务质量开放日", kind="open_day", district="杨浦区",
                      venue="威派格智慧水务", address="上海市嘉定区恒定路1号",
                      description="参观智慧水务生产线。", max_party_size=4,
                      sessions=sessions, checkpoints=["入口"], verify_phone=False)
        fields.update(overrides)
        return events.EventDraft(**fields)

    def event(self, org_name: str = "杨浦区市场监督管理局", publish: bool = True, **overrides) -> int:
        with self.app.app_context():
            org = accounts.find_or_create_organisation(org_name, overrides.get("district", "杨浦区"))
            db.session.commit()
            event = events.create_event(org.id, self.draft(**overrides), publish=publish)
            return event.id


@pytest.fixture
def factory(app) -> Factory:
    return Factory(app)


@pytest.fixture
def organiser(factory, client):
    """An organiser of the Yangpu bureau, signed in."""
    user_id, email = factory.user("organiser")
    login(client, email)
    return user_id
