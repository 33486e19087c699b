"""Several servers behind one proxy count a visitor's attempts together in one Redis; with the
embedded in-memory store each server counts alone. And when Redis goes down, citizens can still
register: each worker counts in its own memory until Redis is back."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
import redis
from sqlalchemy import func, select

from qmevents.extensions import db
from qmevents.models import EventSession, Registration

from .conftest import Factory, close_app, ready_app, submit
from .support.redisserver import RedisServer
from .support.server import Gunicorn, app_env

pytestmark = pytest.mark.skipif(not RedisServer.available(),
                                reason="redis-server is not installed (apt-get install redis-server)")

PHONE = "13812345678"


@pytest.fixture
def redis_server():
    with RedisServer() as server:
        yield server


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def two_servers(app, tmp_path, storage: str) -> tuple[Gunicorn, Gunicorn]:
    """Two separate gunicorn servers (one worker each) on the app's database, as behind a proxy
    that spreads visitors over them; the ticket lookup limit is 3 per minute per address."""
    servers = []
    for name in ("a", "b"):
        env = app_env(tmp_path / f"server-{name}", app.config["SQLALCHEMY_DATABASE_URI"])
        env.update(FLASK_RATELIMIT_ENABLED="true", REDIS_URL=storage,
                   FLASK_TICKET_RATE_LIMIT_PER_ADDRESS="3 per minute")
        servers.append(Gunicorn("wsgi:app", env, workers=1))
    return servers[0], servers[1]


def guess_tickets(first: Gunicorn, second: Gunicorn) -> list[int]:
    """Three guesses at ticket codes on one server, then one on the other."""
    codes = [status_of(f"{first.url}/t/GUESS{n}") for n in range(3)]
    return codes + [status_of(f"{second.url}/t/GUESS3")]


@pytest.mark.server
def test_servers_sharing_redis_count_one_visitors_guesses_together(app, tmp_path, redis_server):
    first, second = two_servers(app, tmp_path, redis_server.url)
    with first.start("/healthz"), second.start("/healthz"):
        assert guess_tickets(first, second) == [404, 404, 404, 429]


@pytest.mark.server
def test_servers_counting_in_their_own_memory_would_let_the_guesses_through(app, tmp_path):
    first, second = two_servers(app, tmp_path, "memory://")
    with first.start("/healthz"), second.start("/healthz"):
        assert guess_tickets(first, second) == [404, 404, 404, 404]


# --- Redis goes down in the middle of registration ---------------------------------------------


@pytest.fixture
def limited_app(tmp_path, monkeypatch, postgres_url, redis_server):
    """An app with the limits on and counted in the test's Redis: two registrations per phone."""
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "limited"))
    app = ready_app(postgres_url, SECRET_KEY="t", RATELIMIT_ENABLED=True,
                    RATELIMIT_STORAGE_URI=redis_server.url,
                    REGISTRATION_RATE_LIMIT_PER_PHONE="2 per hour")
    yield app
    close_app(app)


def register(client, url: str, name: str, phone: str = PHONE) -> int:
    data = {"name": name, "phone": phone, "party_size": "1", "consent": "y"}
    return submit(client, url, data).status_code


def test_registration_goes_on_when_redis_goes_down(limited_app, redis_server):
    factory = Factory(limited_app)
    event_id = factory.event(max_party_size=1)
    with limited_app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    url = f"/events/{event_id}/sessions/{session_id}/register"
    client = limited_app.test_client()

    assert register(client, url, "张伟", "13800000001") == 303
    assert redis.Redis.from_url(redis_server.url).keys("*qmevents*registration*")
    redis_server.stop()
    assert register(client, url, "王芳", "13800000002") == 303
    with limited_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 2


def test_with_redis_down_each_worker_still_limits_a_phone(limited_app, redis_server):
    factory = Factory(limited_app)
    event_id = factory.event(max_party_size=1)
    with limited_app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    url = f"/events/{event_id}/sessions/{session_id}/register"
    client = limited_app.test_client()

    redis_server.stop()
    attempts = [register(client, url, "张伟") for _ in range(3)]
    assert attempts[-1] == 429
    assert 429 not in attempts[:2]
