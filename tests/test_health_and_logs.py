"""The proxy asks /healthz whether a server can reach its database; every request leaves one JSON
log line with an id a citizen can quote, and nothing personal; gunicorn runs with our settings."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from qmevents import create_app
from qmevents.requestlog import RequestIdFilter

from .conftest import login
from .support.pgserver import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def logged(caplog):
    """The request log lines of the test, decoded."""
    caplog.set_level(logging.INFO, logger="qmevents.request")

    def lines() -> list[dict]:
        return [json.loads(r.getMessage()) for r in caplog.records
                if r.name == "qmevents.request"]

    return lines


# --- /healthz --------------------------------------------------------------------------------


def test_health_says_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_health_sets_no_cookie_even_for_a_signed_in_browser(client, factory):
    _, email = factory.user("organiser")
    login(client, email)
    response = client.get("/healthz?lang=zh_CN")
    assert response.status_code == 200
    assert [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")] == []


def dead_database(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":  # a file in a folder that does not exist
        return f"sqlite:///{tmp_path / 'gone' / 'qmevents.sqlite3'}"
    return f"postgresql+psycopg://qmevents@127.0.0.1:{free_port()}/gone?connect_timeout=2"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_health_is_503_when_the_database_cannot_be_reached(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "instance"))
    app = create_app({"SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": dead_database(kind, tmp_path)})
    started = time.monotonic()
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unavailable"}
    assert time.monotonic() - started < 5


# --- the request log -------------------------------------------------------------------------


def test_each_request_leaves_one_json_line(client, logged):
    response = client.get("/privacy?lang=en")
    [line] = logged()
    assert line["method"] == "GET" and line["path"] == "/privacy" and line["status"] == 200
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["duration_ms"] >= 0
    assert line["remote_addr"] == "127.0.0.1"
    assert line["user_id"] is None


def test_query_values_and_ticket_codes_stay_out_of_the_log(client, logged, caplog):
    client.get("/?q=13812345678&lang=en")
    client.get("/t/ABCD2345EFGH6789JKLM")
    searched, ticket = logged()
    assert searched["query"] == ["lang", "q"]
    assert ticket["path"] == "/t/<code>" and ticket["status"] == 404
    assert "13812345678" not in caplog.text and "ABCD2345EFGH6789JKLM" not in caplog.text


def test_the_line_names_the_signed_in_user(client, factory, logged):
    user_id, email = factory.user("organiser")
    login(client, email)
    client.get("/organiser/")
    assert logged()[-1]["user_id"] == user_id


def test_a_sane_request_id_from_the_proxy_is_kept(client, logged):
    response = client.get("/", headers={"X-Request-ID": "5f0c6a1e9b2d4c7e8a3f1b6d2e9c4a70"})
    assert response.headers["X-Request-ID"] == "5f0c6a1e9b2d4c7e8a3f1b6d2e9c4a70"
    assert logged()[-1]["request_id"] == "5f0c6a1e9b2d4c7e8a3f1b6d2e9c4a70"


@pytest.mark.parametrize("incoming", ["short", "x" * 65, "has space in it", "abc\"<script>12",
                                      "ünïcödé-1234"])
def test_an_odd_request_id_is_replaced(client, incoming):
    answered = client.get("/", headers={"X-Request-ID": incoming}).headers["X-Request-ID"]
    assert answered != incoming and len(answered) == 16


def test_behind_the_proxy_the_log_shows_the_visitors_address(tmp_path, monkeypatch, app, logged):
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "proxied"))
    proxied = create_app({"TESTING": True, "SECRET_KEY": "t", "PROXY_COUNT": 1,
                          "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    proxied.test_client().get("/privacy", headers={"X-Forwarded-For": "203.0.113.7"})
    assert logged()[-1]["remote_addr"] == "203.0.113.7"


def test_an_error_is_logged_with_the_request_id_shown_to_the_citizen(app, client, caplog):
    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/broken", view_func=broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    caplog.handler.addFilter(RequestIdFilter())
    response = client.get("/broken?lang=en")
    rid = response.headers["X-Request-ID"]
    assert response.status_code == 500 and rid in response.get_data(as_text=True)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and all(r.request_id == rid for r in errors)


# --- gunicorn with the documented settings ---------------------------------------------------


@pytest.mark.server
def test_gunicorn_runs_with_the_documented_settings(app, tmp_path):
    port = free_port()
    env = {**os.environ, "QMEVENTS_INSTANCE": str(tmp_path / "gunicorn"),
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "FLASK_SECRET_KEY": "t",
           "QMEVENTS_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:qmevents.gunicorn_conf", "wsgi:app"],
            cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
        try:
            body = None
            for _ in range(150):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                                timeout=2) as response:
                        body = json.load(response)
                        break
                except OSError:
                    time.sleep(0.1)
            assert body == {"status": "ok", "database": "ok"}, err.read_text()[-2000:]
        finally:
            server.terminate()
            server.wait(timeout=30)
    request_lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert request_lines and request_lines[-1]["path"] == "/healthz"
    assert "Booting worker" in err.read_text()
