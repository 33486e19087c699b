"""The proxy asks /healthz whether a server can reach its database; every request leaves one JSON
log line with an id a citizen can quote, and nothing personal; gunicorn runs with our settings."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from werkzeug.serving import make_server

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


CODE = "ABCD2345EFGH6789JKMN"
# The same code as people type it (normalise_code forgives case, dashes, spaces, O/I/L).
CODE_AS_TYPED = ["ABCD2345EFGH6789JKMN", "abcd2345efgh6789jkmn", "ABCD-2345-EFGH-6789-JKMN",
                 "abcd 2345 efgh 6789 jkmn"]


def without_codes(text: str) -> bool:
    squeezed = "".join(text.split()).replace("-", "").replace("%20", "").upper()
    return CODE not in squeezed


@pytest.mark.parametrize("path", ["/t/{}/nope", "/t/{}.pngx", "/{}", "/t/x/{}/y",
                                  "/organiser/{}"])
def test_a_code_in_a_path_no_route_matched_stays_out_of_the_log(client, logged, caplog, path):
    for typed in CODE_AS_TYPED:
        assert client.get(path.format(typed)).status_code in (401, 404)
    lines = logged()
    assert len(lines) == len(CODE_AS_TYPED)
    assert all("<code>" in line["path"] for line in lines)
    assert without_codes(caplog.text), caplog.text


def test_an_error_on_a_path_with_a_code_is_logged_without_it(app, client, caplog):
    def broken(anything):
        raise RuntimeError("boom")

    app.add_url_rule("/broken/<path:anything>", view_func=broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get(f"/broken/{CODE}").status_code == 500
    assert "unhandled error on GET /broken/<code>" in caplog.text
    assert without_codes(caplog.text)


def test_the_development_servers_request_lines_leave_codes_and_query_values_out(app, caplog):
    """`make run` serves with Werkzeug, which logs every request line on the `werkzeug` logger."""
    caplog.set_level(logging.INFO, logger="werkzeug")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        for path in (f"/t/{CODE}?lang=en", f"/t/{CODE}/nope", f"/t/{CODE_AS_TYPED[3]}",
                     "/?q=13812345678"):
            try:
                urllib.request.urlopen(base + quote(path, safe="/?=&"), timeout=10).close()
            except urllib.error.HTTPError:
                pass
    finally:
        server.shutdown()
        thread.join(timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(lines) == 4, lines
    for target in ("/t/<code>?lang= ", "/t/<code>/nope ", "/t/<code> ", "/?q= "):
        assert any(f"GET {target}HTTP/1.1" in line for line in lines), lines
    assert without_codes(caplog.text) and "13812345678" not in caplog.text, caplog.text


def test_the_line_names_the_signed_in_user(client, factory, logged):
    user_id, email = factory.user("organiser")
    login(client, email)
    client.get("/organiser/")
    assert logged()[-1]["user_id"] == user_id


@pytest.fixture
def proxied(tmp_path, monkeypatch, app):
    """The app behind one trusted proxy (PROXY_COUNT=1), as behind nginx."""
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "proxied"))
    return create_app({"TESTING": True, "SECRET_KEY": "t", "PROXY_COUNT": 1,
                       "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})


def test_behind_a_trusted_proxy_its_sane_request_id_is_kept(proxied, logged):
    response = proxied.test_client().get(
        "/", headers={"X-Request-ID": "5f0c6a1e9b2d4c7e8a3f1b6d2e9c4a70"})
    assert response.headers["X-Request-ID"] == "5f0c6a1e9b2d4c7e8a3f1b6d2e9c4a70"
    assert logged()[-1]["request_id"] == "5f0c6a1e9b2d4c7e8a3f1b6d2e9c4a70"


def test_without_a_trusted_proxy_a_visitors_request_id_is_replaced(client, logged):
    """Nobody may choose the id their requests are logged under (to pass for someone else's, or
    to mix their lines in with a complaint's)."""
    response = client.get("/", headers={"X-Request-ID": "5f0c6a1e9b2d4c7e8a3f1b6d2e9c4a70"})
    answered = response.headers["X-Request-ID"]
    assert answered != "5f0c6a1e9b2d4c7e8a3f1b6d2e9c4a70" and len(answered) == 16
    assert logged()[-1]["request_id"] == answered


@pytest.mark.parametrize("incoming", ["short", "x" * 65, "has space in it", "abc\"<script>12",
                                      "ünïcödé-1234"])
def test_an_odd_request_id_is_replaced_even_from_the_proxy(proxied, incoming):
    answered = proxied.test_client().get(
        "/", headers={"X-Request-ID": incoming}).headers["X-Request-ID"]
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


def test_the_production_error_handler_keeps_codes_out_of_every_loggers_lines_and_tracebacks():
    """gunicorn_conf puts the filter on the handler every error line goes through: it sees the
    records of child loggers (qmevents.services.…) and gunicorn's own, and their tracebacks."""
    import io

    from qmevents import gunicorn_conf
    from qmevents.requestlog import RedactingFilter

    assert "no_codes" in gunicorn_conf.logconfig_dict["handlers"]["errors"]["filters"]
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    for name in ("qmevents.services.messaging.outbox", "gunicorn.error"):
        log = logging.getLogger(f"test.{name}")
        log.addHandler(handler)
        try:
            try:
                raise RuntimeError(f"while opening /t/{CODE}")
            except RuntimeError:
                log.exception("Error handling request /t/%s", CODE)
        finally:
            log.removeHandler(handler)
    text = out.getvalue()
    assert "Traceback" in text and "<code>" in text
    assert without_codes(text)
