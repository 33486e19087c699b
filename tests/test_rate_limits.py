"""Nobody can flood a citizen's phone with codes or hammer registration from one address, while a
district behind one carrier address still gets through; load tests switch the limits off."""
from __future__ import annotations

import pytest
from flask import jsonify

from qmevents import create_app
from qmevents.extensions import csrf, db
from qmevents.models import ensure_districts
from qmevents.ratelimits import limit_registration, limit_ticket_lookup

from .conftest import _reset_postgres, submit

PHONE = "13812345678"


# Stand-ins for the registration and ticket views (written elsewhere), decorated once: a limit is
# registered on the shared limiter each time a view is decorated.
@limit_registration
def registration_probe():
    return jsonify(ok=True), 201


@limit_ticket_lookup
def ticket_probe(code: str):
    return code


@pytest.fixture
def make_app(tmp_path, monkeypatch, postgres_url):
    """An app with the limits on, as in production, and the given settings."""
    built = []

    def make(switch_from_environment: bool = False, **settings):
        monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / f"limits{len(built)}"))
        config = {"TESTING": True, "SECRET_KEY": "t", "PASSWORD_TIME_COST": 1,
                  "PASSWORD_MEMORY_COST": 64, **settings}
        if not switch_from_environment:
            config["RATELIMIT_ENABLED"] = True
        if postgres_url:
            config["SQLALCHEMY_DATABASE_URI"] = postgres_url
        app = create_app(config)
        # A form-less endpoint like the API's (which is CSRF-exempt), and a ticket page.
        app.add_url_rule("/api/v1/probe/registrations", view_func=registration_probe,
                         methods=["POST"])
        csrf.exempt(registration_probe)
        app.add_url_rule("/probe/t/<code>", view_func=ticket_probe)
        with app.app_context():
            if postgres_url:
                _reset_postgres(postgres_url)
            else:
                db.create_all()
            ensure_districts()
        built.append(app)
        return app

    yield make
    for app in built:
        with app.app_context():
            db.engine.dispose()


def ask(client, phone: str, address: str = "127.0.0.1") -> int:
    return submit(client, "/my-tickets?lang=en", {"phone": phone},
                  environ_base={"REMOTE_ADDR": address}).status_code


def test_codes_for_one_phone_are_limited_however_it_is_typed(make_app):
    client = make_app(OTP_RATE_LIMIT_PER_PHONE="2 per minute").test_client()
    assert [ask(client, PHONE), ask(client, "138 1234 5678"), ask(client, "+8613812345678")] == [
        303, 303, 429]
    assert ask(client, "13900001111") == 303, "another citizen at the same address is not held up"


def test_too_many_codes_from_one_address_are_refused_and_another_address_is_not(make_app):
    client = make_app(OTP_RATE_LIMIT_PER_ADDRESS="3 per minute").test_client()
    codes = [ask(client, f"1390000{n:04d}", "10.1.1.1") for n in range(4)]
    assert codes == [303, 303, 303, 429]
    assert ask(client, "13700001111", "10.2.2.2") == 303


def test_a_refusal_is_a_page_in_the_visitors_language(make_app):
    client = make_app(OTP_RATE_LIMIT_PER_PHONE="1 per minute").test_client()
    ask(client, PHONE)
    response = submit(client, "/my-tickets?lang=en", {"phone": PHONE})
    assert response.status_code == 429
    assert "Too many attempts. Please wait a moment and try again." in response.get_data(
        as_text=True)


def test_typing_codes_from_one_address_is_limited(make_app):
    client = make_app(OTP_RATE_LIMIT_PER_ADDRESS="2 per minute").test_client()
    ask(client, PHONE, "10.9.9.9")
    tries = [submit(client, "/my-tickets/verify", {"code": "000000"}).status_code
             for _ in range(3)]
    assert tries == [400, 400, 429]


def test_registrations_are_limited_per_phone_from_the_form_or_the_json_body(make_app):
    client = make_app(REGISTRATION_RATE_LIMIT_PER_PHONE="2 per hour").test_client()
    url = "/api/v1/probe/registrations"
    codes = [client.post(url, json={"phone": PHONE}).status_code,
             client.post(url, data={"phone": "138-1234-5678"}).status_code,
             client.post(url, json={"phone": "+86 13812345678"}).status_code]
    assert codes == [201, 201, 429]
    refused = client.post(url, json={"phone": PHONE})
    assert refused.get_json()["error"] == "rate_limited"
    assert client.post(url, json={"phone": "13900001111"}).status_code == 201


def test_a_carrier_address_shared_by_many_citizens_gets_its_generous_allowance(make_app):
    client = make_app(REGISTRATION_RATE_LIMIT_PER_ADDRESS="5 per minute").test_client()
    codes = [client.post("/api/v1/probe/registrations", json={"phone": f"1390000{n:04d}"},
                         environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code for n in range(6)]
    assert codes == [201] * 5 + [429]


def test_typos_in_the_phone_do_not_lock_out_everyone_else(make_app):
    client = make_app(REGISTRATION_RATE_LIMIT_PER_PHONE="1 per hour").test_client()
    url = "/api/v1/probe/registrations"
    client.post(url, json={"phone": "12345"}, environ_base={"REMOTE_ADDR": "10.3.3.3"})
    assert client.post(url, json={"phone": "nonsense"},
                       environ_base={"REMOTE_ADDR": "10.4.4.4"}).status_code == 201


def test_ticket_lookups_are_limited_per_address(make_app):
    client = make_app(TICKET_RATE_LIMIT_PER_ADDRESS="3 per minute").test_client()
    codes = [client.get(f"/probe/t/GUESS{n}").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]


def test_the_environment_switch_lifts_every_limit_for_load_tests(make_app, monkeypatch):
    monkeypatch.setenv("FLASK_RATELIMIT_ENABLED", "false")
    client = make_app(switch_from_environment=True, OTP_RATE_LIMIT_PER_PHONE="1 per minute",
                      REGISTRATION_RATE_LIMIT_PER_ADDRESS="1 per minute").test_client()
    assert [ask(client, PHONE) for _ in range(3)] == [303, 303, 303]
    assert [client.post("/api/v1/probe/registrations", json={"phone": PHONE}).status_code
            for _ in range(3)] == [201, 201, 201]


def test_without_the_switch_the_limits_are_on(make_app, monkeypatch):
    monkeypatch.delenv("FLASK_RATELIMIT_ENABLED", raising=False)
    client = make_app(switch_from_environment=True,
                      OTP_RATE_LIMIT_PER_PHONE="1 per minute").test_client()
    assert [ask(client, PHONE) for _ in range(2)] == [303, 429]
