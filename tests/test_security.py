"""What a browser is told to enforce on every answer (no inline script, no framing, no sniffing),
cookies that only travel over HTTPS when the site is served over HTTPS, a fresh session on sign-in
and sign-out, and a production server that refuses the debugger and never shows a stack trace."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import EventSession
from qmevents.public.find import VERIFIED_KEY
from qmevents.security import UnsafeProductionConfig

from .conftest import PASSWORD, csrf_from, login, submit

HTTPS = "https://localhost"
PUBLIC = "https://zlj.example.gov.cn"
# What production asks for besides QMEVENTS_ENV: its address and a real message provider.
PRODUCTION = {"QMEVENTS_ENV": "production", "FLASK_PUBLIC_URL": PUBLIC,
              "FLASK_NOTIFY_BACKEND": "sms", "FLASK_SMS_API_URL": "https://sms.example.cn/send"}
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: sources}."""
    directives = [d.split() for d in response.headers["Content-Security-Policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


def set_cookies(response) -> dict[str, str]:
    """{cookie name: its whole Set-Cookie line}."""
    return {line.split("=", 1)[0]: line for line in response.headers.getlist("Set-Cookie")}


@pytest.fixture
def make_app(tmp_path, monkeypatch, app):
    """Another app on the test database, built from the environment like a real server."""

    def make(environment: dict[str, str] | None = None, **settings):
        for name, value in (environment or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "other-instance"))
        config = {"SECRET_KEY": "t", "PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 64,
                  "RATELIMIT_ENABLED": False,
                  "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **settings}
        return create_app(config)

    return make


# --- headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/t/NO-SUCH-TICKET", "/api/v1/events",
                                  "/static/css/site.css", "/healthz"])
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Ticket pages set their own, stricter policy (the code in their address is a secret).
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer"}
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    assert policy(response)["frame-ancestors"] == ["'none'"]


def test_the_policy_allows_no_inline_or_eval_script_only_webassembly(client):
    csp = policy(client.get("/"))
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert "blob:" in csp["img-src"]  # the door's photo of a ticket
    everything = " ".join(source for sources in csp.values() for source in sources)
    assert "'unsafe-inline'" not in everything and "'unsafe-eval'" not in everything


def test_no_template_has_inline_script_style_or_event_handlers():
    """The policy would block them: code and styles live in static/ files."""
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(template.read_text().splitlines(), 1):
            inline_script = re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", line)
            if inline_script or re.search(r"\sstyle=|<style|\son[a-z]+=|javascript:", line):
                found.append(f"{template.relative_to(TEMPLATES)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_hsts_is_sent_over_https_only(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_behind_nginx_hsts_follows_the_forwarded_scheme_of_a_trusted_proxy(make_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    behind_nginx = make_app(PROXY_COUNT=1).test_client().get("/", headers=forwarded)
    assert "Strict-Transport-Security" in behind_nginx.headers
    untrusted = make_app(PROXY_COUNT=0).test_client().get("/", headers=forwarded)
    assert "Strict-Transport-Security" not in untrusted.headers


def test_the_request_id_comes_back_in_a_header(client):
    assert re.fullmatch(r"[0-9a-f]{16}", client.get("/").headers["X-Request-ID"])


# --- cookies and sessions --------------------------------------------------------------------


def test_on_plain_http_cookies_are_http_only_and_lax_but_not_secure(client, factory):
    """`make run` on http://127.0.0.1:5000: a Secure cookie would never come back."""
    _, email = factory.user("organiser")
    session_cookie = set_cookies(login(client, email))["session"]
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie


def https_form(client, url: str, data: dict, page: str | None = None):
    """A form sent over HTTPS the way a browser sends it: with its token and the Referer of the
    page it was on when that page's Referrer-Policy lets one through (Flask-WTF requires it)."""
    page = page or url
    response = client.get(page, base_url=HTTPS)
    sends_referrer = response.headers["Referrer-Policy"] != "no-referrer"
    headers = {"Referer": HTTPS + page} if sends_referrer else {}
    return client.post(url, base_url=HTTPS, headers=headers,
                       data={"csrf_token": csrf_from(response.get_data(as_text=True)), **data})


def test_over_https_the_session_and_language_cookies_are_secure(make_app, factory):
    app = make_app(PREFERRED_URL_SCHEME="https")
    client = app.test_client()
    _, email = factory.user("organiser")
    signed_in = https_form(client, "/login", {"email": email, "password": PASSWORD})
    assert signed_in.status_code == 302
    session_cookie = set_cookies(signed_in)["session"]
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    assert app.config["REMEMBER_COOKIE_SECURE"] is True

    lang = set_cookies(client.get("/?lang=en", base_url=HTTPS))["lang"]
    assert "Secure" in lang and "HttpOnly" in lang and "SameSite=Lax" in lang


def test_over_https_a_citizen_can_cancel_from_the_ticket_pages(make_app, app, factory):
    from qmevents.services.registrations import register as registrations

    event_id = factory.event()
    with app.test_request_context("/"):
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
        code = registrations.register(registrations.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="张伟", phone="13812345678",
            party_size=1, consent=True)).code
    client = make_app(PREFERRED_URL_SCHEME="https").test_client()
    cancelled = https_form(client, f"/t/{code}/cancel", {})
    assert cancelled.status_code == 303


def test_a_session_planted_before_sign_in_is_replaced_not_extended(client, factory):
    """Someone who slipped a session cookie into a shared browser (say, with a phone proven for
    find-my-tickets) does not share the organiser's session after sign-in."""
    _user_id, email = factory.user("organiser")
    with client.session_transaction() as session:
        session[VERIFIED_KEY] = "a proof the planter holds"
    planted = client.get_cookie("session").value

    login(client, email)
    assert client.get_cookie("session").value != planted
    with client.session_transaction() as session:
        assert VERIFIED_KEY not in session
    assert client.get("/organiser/").status_code == 200


def test_sign_out_leaves_nothing_of_the_session(client, factory):
    _, email = factory.user("organiser")
    login(client, email)
    submit(client, "/logout", {}, page="/organiser/")
    with client.session_transaction() as session:
        assert "_user_id" not in session and "_id" not in session


# --- production ------------------------------------------------------------------------------


@pytest.mark.parametrize("switch", ["FLASK_DEBUG", "FLASK_TESTING"])
def test_production_refuses_to_start_with_debug_or_testing(make_app, switch):
    with pytest.raises(UnsafeProductionConfig):
        make_app({**PRODUCTION, switch: "true"})


def test_production_assumes_https(make_app):
    app = make_app(PRODUCTION)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["PREFERRED_URL_SCHEME"] == "https"
    assert not app.debug and not app.testing
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"]  # no phones in error logs


def test_production_refuses_the_outbox_that_sends_nothing(make_app):
    with pytest.raises(UnsafeProductionConfig, match="FLASK_NOTIFY_BACKEND"):
        make_app({**PRODUCTION, "FLASK_NOTIFY_BACKEND": "outbox"})


def test_development_keeps_plain_http(make_app):
    app = make_app()
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["PREFERRED_URL_SCHEME"] == "http"


def test_a_crash_in_production_shows_the_error_page_with_a_reference_not_a_trace(make_app):
    app = make_app(PRODUCTION)

    def broken():
        raise RuntimeError("secret detail of the crash")

    app.add_url_rule("/broken", view_func=broken)
    assert not app.config["PROPAGATE_EXCEPTIONS"]
    response = app.test_client().get("/broken?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "Traceback" not in page and "secret detail" not in page
    assert response.headers["X-Request-ID"] in page
