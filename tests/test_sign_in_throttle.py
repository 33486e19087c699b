"""Guessing passwords: one budget of failed attempts per account and one per address, whether the
guesses go to the sign-in page or to POST /api/v1/token, counted together by every gunicorn worker
(in Redis); and a production server whose workers would each count alone refuses to start."""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .conftest import PASSWORD, Factory, close_app, login, ready_app, submit
from .support.pgserver import free_port
from .support.redisserver import RedisServer
from .support.server import Gunicorn, app_env

ROOT = Path(__file__).resolve().parents[1]
needs_redis = pytest.mark.skipif(not RedisServer.available(),
                                 reason="redis-server is not installed (apt-get install redis-server)")


@pytest.fixture
def limited(tmp_path, monkeypatch, postgres_url):
    """An app with the limits on, in memory: 4 failed sign-in attempts a minute."""
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "limited"))
    app = ready_app(postgres_url, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="4 per minute")
    yield app
    close_app(app)


def page_attempt(client, email: str, password: str = "wrong guess 123") -> int:
    return submit(client, "/login", {"email": email, "password": password}).status_code


def api_attempt(client, email: str, password: str = "wrong guess 123") -> int:
    return client.post("/api/v1/token", json={"email": email, "password": password}).status_code


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_the_page_and_the_api_spend_one_budget_per_account(limited):
    _, email = Factory(limited).user("organiser")
    client = limited.test_client()
    tries = [page_attempt(client, email), page_attempt(client, email),
             api_attempt(client, email), api_attempt(client, email)]
    assert tries == [400, 400, 401, 401]
    assert page_attempt(client, email) == 429
    assert api_attempt(client, email) == 429
    # Spent is spent: even the right password waits, or guessing could go on to find it.
    assert page_attempt(client, email, PASSWORD) == 429
    assert api_attempt(client, email, PASSWORD) == 429


def test_an_accounts_budget_follows_it_to_another_address(limited):
    factory = Factory(limited)
    _, target = factory.user("organiser")
    _, bystander = factory.user("organiser")
    first, second = from_address(limited, "10.0.0.1"), from_address(limited, "10.0.0.2")
    assert [page_attempt(first, target) for _ in range(2)] == [400, 400]
    assert [api_attempt(second, target.upper()) for _ in range(2)] == [401, 401]  # same account
    assert api_attempt(second, target) == 429
    assert api_attempt(second, bystander, PASSWORD) == 201  # the address itself is not spent


def test_an_address_has_one_budget_across_accounts_and_doors(limited):
    factory = Factory(limited)
    emails = [factory.user("organiser")[1] for _ in range(5)]
    client = limited.test_client()
    assert [page_attempt(client, emails[0]), api_attempt(client, emails[1]),
            page_attempt(client, emails[2]), api_attempt(client, emails[3])] == [400, 401, 400, 401]
    assert page_attempt(client, emails[4], PASSWORD) == 429
    assert from_address(limited, "10.0.0.9").post(
        "/api/v1/token", json={"email": emails[4], "password": PASSWORD}).status_code == 201


def test_staff_signing_in_one_after_another_at_one_venue_spend_nothing(limited):
    """One Wi-Fi, one address: only failed attempts count."""
    factory = Factory(limited)
    for _ in range(6):
        login(limited.test_client(), factory.user("staff")[1])


def test_wrong_current_passwords_on_the_change_page_spend_the_accounts_budget(limited):
    _, email = Factory(limited).user("organiser")
    client = limited.test_client()
    login(client, email)
    codes = [submit(client, "/account/password", {
        "current_password": "not it at all", "password": "tea garden river stone",
        "password_again": "tea garden river stone"}).status_code for _ in range(5)]
    assert codes == [400, 400, 400, 400, 429]
    assert api_attempt(from_address(limited, "10.0.0.3"), email, PASSWORD) == 429


def test_weak_new_passwords_typed_after_the_right_current_one_spend_nothing(limited):
    """Ten tries at a new password the rule refuses, each with the right current password: the
    account is not locked out of /login on every phone that shares it."""
    _, email = Factory(limited).user("organiser")
    client = limited.test_client()
    login(client, email)
    codes = [submit(client, "/account/password", {
        "current_password": PASSWORD, "password": "password123456",
        "password_again": "password123456"}).status_code for _ in range(10)]
    assert codes == [400] * 10
    assert api_attempt(from_address(limited, "10.0.0.4"), email, PASSWORD) == 201


# --- across gunicorn workers, counted in Redis -----------------------------------------------


@pytest.fixture
def redis_server():
    with RedisServer() as server:
        yield server


def hold_a_worker(server: Gunicorn) -> socket.socket:
    """A connection that sends half a request: the sync worker that takes it waits for the rest,
    so the next requests go to the other worker."""
    held = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    held.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    time.sleep(0.5)  # accepted by an idle worker
    return held


class Browser:
    """A cookie-keeping client for a real server: the sign-in form with its CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def status(self, request: urllib.request.Request) -> int:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def sign_in(self, email: str, password: str = "wrong guess 123") -> int:
        with self.opener.open(self.base + "/login", timeout=30) as response:
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                              response.read().decode()).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, "email": email,
                                       "password": password}).encode()
        return self.status(urllib.request.Request(self.base + "/login", data=body))

    def token(self, email: str, password: str = "wrong guess 123") -> int:
        return self.status(urllib.request.Request(
            self.base + "/api/v1/token", method="POST",
            data=f'{{"email": "{email}", "password": "{password}"}}'.encode(),
            headers={"Content-Type": "application/json"}))


@needs_redis
@pytest.mark.server
def test_two_workers_sharing_redis_count_one_budget(app, factory, tmp_path, redis_server):
    _, email = factory.user("organiser")
    access_log = tmp_path / "access.log"
    env = app_env(tmp_path / "workers", app.config["SQLALCHEMY_DATABASE_URI"])
    env.update(FLASK_RATELIMIT_ENABLED="true", REDIS_URL=redis_server.url,
               FLASK_LOGIN_RATE_LIMIT="5 per minute",
               GUNICORN_CMD_ARGS=f"--access-logfile {access_log} --access-logformat "
                                 "'%(p)s %(m)s %(U)s %(s)s'")
    with Gunicorn("wsgi:app", env, workers=2).start("/healthz") as server:
        browser = Browser(server.url)
        first = hold_a_worker(server)  # worker A waits: B answers
        page = [browser.sign_in(email) for _ in range(3)]
        second = hold_a_worker(server)  # B waits now…
        first.close()  # …and A answers
        time.sleep(0.5)
        api = [browser.token(email) for _ in range(2)]
        after = [browser.sign_in(email), browser.token(email, PASSWORD)]
        second.close()
    assert (page, api) == ([400, 400, 400], [401, 401])
    assert after == [429, 429]
    posts = [line.strip("'").split() for line in access_log.read_text().splitlines()
             if " POST " in line]
    by_page = {pid for pid, _method, _path, _status in posts[:3]}
    by_api = {pid for pid, _method, _path, _status in posts[3:5]}
    assert len(by_page) == len(by_api) == 1 and by_page != by_api, posts  # two workers


# --- production refuses workers that would each count alone ----------------------------------


def production_gunicorn(app, tmp_path, **environment: str) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    env = {name: value for name, value in os.environ.items()
           if name not in ("REDIS_URL", "FLASK_RATELIMIT_STORAGE_URI", "FLASK_RATELIMIT_ENABLED",
                           "FLASK_DEBUG", "FLASK_TESTING")}
    env.update(QMEVENTS_ENV="production", QMEVENTS_INSTANCE=str(tmp_path / "production"),
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], FLASK_SECRET_KEY="t",
               FLASK_PUBLIC_URL="https://zlj.example.gov.cn", FLASK_NOTIFY_BACKEND="sms",
               FLASK_SMS_API_URL="https://sms.example.cn/send",
               QMEVENTS_BIND=f"127.0.0.1:{port}", **environment)
    log = tmp_path / f"gunicorn-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:qmevents.gunicorn_conf", "wsgi:app"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}", log


def answers(process: subprocess.Popen, url: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            time.sleep(0.1)
    return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.server
def test_production_refuses_several_workers_counting_limits_in_memory(app, tmp_path):
    process, _url, log = production_gunicorn(app, tmp_path, WEB_CONCURRENCY="2")
    try:
        exit_code = process.wait(timeout=60)
    finally:
        stop(process)
    output = log.read_text()
    assert exit_code != 0, output
    assert "each worker would count alone" in output
    assert "REDIS_URL" in output


@needs_redis
@pytest.mark.server
def test_production_starts_several_workers_with_redis(app, tmp_path, redis_server):
    process, url, log = production_gunicorn(app, tmp_path, WEB_CONCURRENCY="2",
                                            REDIS_URL=redis_server.url)
    try:
        assert answers(process, url), log.read_text()
    finally:
        stop(process)


@pytest.mark.server
def test_production_starts_one_worker_without_redis(app, tmp_path):
    process, url, log = production_gunicorn(app, tmp_path, WEB_CONCURRENCY="1")
    try:
        assert answers(process, url), log.read_text()
    finally:
        stop(process)
