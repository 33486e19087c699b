"""A place is final only for a phone that proved it is held by the registrant: the code texted to
it (POST /api/v1/phone-codes, or the form's 获取验证码) comes back with the registration and is
used in the same transaction that takes the places. Nobody can book out a session with made-up
numbers, nor make the official sender text a stranger anything but the code."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from qmevents.extensions import db
from qmevents.models import (
    EventSession,
    Notification,
    NotificationKind,
    OneTimeCode,
    OneTimeCodePurpose,
    Registration,
)
from qmevents.services import otp
from qmevents.timeutil import utcnow

from .conftest import submit
from .test_api import assert_documented

PHONE = "13812345678"
STRANGER = "13900001111"


@pytest.fixture
def open_day(app, factory) -> tuple[int, int, int]:
    """A published open day that verifies phones (the default for events), two sessions."""
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    from qmevents.services.events import SessionDraft

    sessions = [SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2), capacity=4),
                SessionDraft(starts_at=start + timedelta(hours=3),
                             ends_at=start + timedelta(hours=5), capacity=30)]
    event_id = factory.event(verify_phone=True, sessions=sessions)
    with app.app_context():
        small, roomy = db.session.scalars(
            select(EventSession.id).filter_by(event_id=event_id).order_by(EventSession.starts_at))
    return event_id, small, roomy


@pytest.fixture
def doc(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def ask(client, phone: str = PHONE):
    return client.post("/api/v1/phone-codes?lang=en", json={"phone": phone})


def texted(app, phone: str = PHONE) -> str:
    """The code as the citizen reads it in the text message (the outbox keeps its body)."""
    with app.app_context():
        body = db.session.scalar(
            select(Notification.body)
            .filter_by(recipient=phone, kind=NotificationKind.REGISTRATION_CODE)
            .order_by(Notification.id.desc()))
    return re.search(r"\d{6}", body).group(0)


def register(client, event_id: int, session_id: int, phone: str = PHONE, **fields):
    body = {"session_id": session_id, "name": "张伟", "phone": phone, "party_size": 2, **fields}
    return client.post(f"/api/v1/events/{event_id}/registrations?lang=en", json=body)


def counts(app) -> tuple[int, int, int]:
    """(registrations, places taken, confirmation messages)."""
    with app.app_context():
        return (db.session.scalar(select(func.count(Registration.id))),
                db.session.scalar(select(func.sum(EventSession.places_taken))),
                db.session.scalar(select(func.count(Notification.id)).filter_by(
                    kind=NotificationKind.REGISTRATION_CONFIRMED)))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- the API --------------------------------------------------------------------------------


def test_a_citizen_asks_for_a_code_and_registers_with_it(app, client, open_day, doc):
    event_id, small, _roomy = open_day
    asked = ask(client)
    assert asked.status_code == 202
    assert_documented(doc, "post", "/phone-codes", asked)
    assert "138****5678" in asked.get_json()["message"] and PHONE not in asked.get_data(True)
    response = register(client, event_id, small, phone_code=texted(app))
    assert response.status_code == 201, response.get_json()
    assert_documented(doc, "post", "/events/{event_id}/registrations", response)
    assert counts(app) == (1, 2, 1)


def test_the_answer_does_not_say_whether_the_number_is_known(app, client, open_day):
    event_id, small, _roomy = open_day
    register(client, event_id, small, phone_code=(ask(client), texted(app))[1])
    known, unknown = ask(client, PHONE), ask(client, STRANGER)
    assert (known.status_code, known.get_json().keys()) == (
        unknown.status_code, unknown.get_json().keys())


@pytest.mark.parametrize("code", [None, "", "12345", "1234567", "abcdef", 123456])
def test_without_a_readable_code_nothing_is_held(app, client, open_day, code):
    event_id, small, _roomy = open_day
    ask(client)
    response = register(client, event_id, small, phone_code=code)
    assert response.status_code == 422
    assert "phone_code" in response.get_json()["errors"]
    assert counts(app) == (0, 0, 0)


def test_a_wrong_code_is_422_on_the_field_holds_nothing_and_counts_against_the_code(
        app, client, open_day):
    event_id, small, _roomy = open_day
    ask(client)
    code = texted(app)
    response = register(client, event_id, small, phone_code=wrong(code))
    assert response.status_code == 422
    assert "This code is not right" in response.get_json()["errors"]["phone_code"]
    assert counts(app) == (0, 0, 0)
    with app.app_context():
        assert db.session.scalar(select(OneTimeCode.attempts)) == 1
    assert register(client, event_id, small, phone_code=code).status_code == 201


def test_after_too_many_wrong_codes_the_right_one_is_dead_too(app, client, open_day):
    event_id, small, _roomy = open_day
    ask(client)
    code = texted(app)
    for _ in range(app.config["OTP_MAX_ATTEMPTS"]):
        assert register(client, event_id, small, phone_code=wrong(code)).status_code == 422
    assert register(client, event_id, small, phone_code=code).status_code == 422
    assert counts(app) == (0, 0, 0)


def test_a_code_works_once(app, client, open_day):
    event_id, small, roomy = open_day
    ask(client)
    code = texted(app)
    assert register(client, event_id, small, phone_code=code).status_code == 201
    again = register(client, event_id, roomy, phone_code=code)
    assert again.status_code == 422 and "phone_code" in again.get_json()["errors"]
    assert counts(app)[0] == 1


def test_an_expired_code_is_refused(app, client, open_day):
    event_id, small, _roomy = open_day
    ask(client)
    with app.app_context():
        db.session.execute(update(OneTimeCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert register(client, event_id, small, phone_code=texted(app)).status_code == 422


def test_only_the_newest_code_counts(app, client, open_day):
    event_id, small, _roomy = open_day
    ask(client)
    first = texted(app)
    ask(client)
    assert register(client, event_id, small, phone_code=first).status_code == 422 or (
        first == texted(app))
    assert register(client, event_id, small, phone_code=texted(app)).status_code == 201


def test_a_code_for_one_phone_proves_nothing_for_another(app, client, open_day):
    event_id, small, _roomy = open_day
    ask(client, STRANGER)
    response = register(client, event_id, small, phone=PHONE, phone_code=texted(app, STRANGER))
    assert response.status_code == 422 and counts(app) == (0, 0, 0)


def test_a_code_to_find_tickets_does_not_register(app, client, open_day):
    event_id, small, _roomy = open_day
    with app.app_context():
        code = otp.issue(PHONE, OneTimeCodePurpose.FIND_TICKETS)
    assert register(client, event_id, small, phone_code=code).status_code == 422


def test_a_refusal_for_another_reason_leaves_the_code_for_another_session(app, client, open_day):
    """The small session has 4 places: a party of 5 is refused as full, and the same code then
    registers them for the roomy session: nothing was used by the refusal."""
    event_id, small, roomy = open_day
    ask(client)
    code = texted(app)
    full = register(client, event_id, small, party_size=4, phone_code=code)
    assert full.status_code == 201
    ask(client, STRANGER)
    other = texted(app, STRANGER)
    refused = register(client, event_id, small, phone=STRANGER, party_size=1, phone_code=other)
    assert refused.status_code == 409 and refused.get_json()["error"] == "full"
    moved = register(client, event_id, roomy, phone=STRANGER, party_size=1, phone_code=other)
    assert moved.status_code == 201


def test_a_script_booking_with_made_up_numbers_holds_no_place_and_texts_nobody(app, client,
                                                                              open_day):
    event_id, small, roomy = open_day
    for n in range(20):
        register(client, event_id, (small, roomy)[n % 2], phone=f"1390000{n:04d}",
                 phone_code=f"{n:06d}")
    assert counts(app) == (0, 0, 0)
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_an_event_that_does_not_verify_phones_registers_as_before(app, client, factory):
    event_id = factory.event(verify_phone=False)
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    assert register(client, event_id, session_id).status_code == 201


@pytest.mark.parametrize("body", [{}, {"phone": 13812345678}, {"phone": "12345"},
                                  {"phone": ["13812345678"]}])
def test_asking_for_a_code_for_what_is_not_a_phone_is_422(app, client, body):
    response = client.post("/api/v1/phone-codes?lang=en", json=body)
    assert response.status_code == 422 and "phone" in response.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count(OneTimeCode.id))) == 0


def test_the_code_text_holds_our_words_and_the_code_only(app, client):
    ask(client)
    with app.app_context():
        body = db.session.scalar(select(Notification.body))
    assert re.fullmatch(r"【质量月】您的报名验证码为\d{6}，10分钟内有效。如非本人操作，请忽略本短信。请勿告诉他人。",
                        body)


# --- the form -----------------------------------------------------------------------------


def form_url(event_id: int, session_id: int) -> str:
    return f"/events/{event_id}/sessions/{session_id}/register?lang=en"


def test_the_form_sends_the_code_keeps_what_was_typed_then_registers(app, client, open_day):
    event_id, small, _roomy = open_day
    typed = {"name": "王芳", "phone": "138 1234 5678", "party_size": "3", "consent": "y"}
    page = client.get(form_url(event_id, small)).get_data(as_text=True)
    assert "Get the code" in page and 'autocomplete="one-time-code"' in page
    sent = submit(client, f"/events/{event_id}/sessions/{small}/phone-code?lang=en", typed,
                  page=form_url(event_id, small))
    html = sent.get_data(as_text=True)
    assert sent.status_code == 200
    assert "A code has been sent to 138****5678" in html
    assert 'value="王芳"' in html and 'value="138 1234 5678"' in html
    assert "/organiser/outbox" in html  # the demo's outbox sends nothing: where to read it
    assert counts(app) == (0, 0, 0)
    done = submit(client, form_url(event_id, small), {**typed, "phone_code": texted(app)})
    assert done.status_code == 303 and "/t/" in done.headers["Location"]
    assert counts(app) == (1, 3, 1)


def test_the_form_without_the_code_says_so_next_to_the_field(app, client, open_day):
    event_id, small, _roomy = open_day
    response = submit(client, form_url(event_id, small), {
        "name": "王芳", "phone": PHONE, "party_size": "1", "consent": "y", "phone_code": ""})
    assert response.status_code == 400
    assert re.search(r'id="phone_code-error">Enter the 6-digit code', response.get_data(True))
    assert counts(app) == (0, 0, 0)


def test_the_form_of_an_event_without_verification_asks_for_no_code(client, factory, app):
    event_id = factory.event(verify_phone=False)
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    page = client.get(form_url(event_id, session_id)).get_data(as_text=True)
    assert "phone_code" not in page and "Get the code" not in page


def test_sending_a_code_to_a_bad_number_says_what_to_type(app, client, open_day):
    event_id, small, _roomy = open_day
    response = submit(client, f"/events/{event_id}/sessions/{small}/phone-code?lang=en",
                      {"name": "王芳", "phone": "12345"}, page=form_url(event_id, small))
    assert response.status_code == 400
    assert "Enter a mainland mobile number" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(OneTimeCode.id))) == 0


# --- the organiser's switch -------------------------------------------------------------------


def test_the_switch_and_the_door_window_are_in_the_events_json(client, factory, app):
    from .test_api import bearer, event_body, token_for

    _id, email = factory.user("organiser")
    headers = bearer(token_for(client, email))
    created = client.post("/api/v1/events", headers=headers, json=event_body(
        verify_phone=False, admission_opens_minutes=30))
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["verify_phone"], created.get_json()["admission_opens_minutes"]) \
        == (False, 30)
    default = client.post("/api/v1/events", headers=headers, json=event_body())
    assert (default.get_json()["verify_phone"], default.get_json()["admission_opens_minutes"]) \
        == (True, 60)
    bad = client.post("/api/v1/events?lang=en", headers=headers, json=event_body(
        verify_phone="yes", admission_opens_minutes=1441))
    assert bad.status_code == 422
    assert {"verify_phone", "admission_opens_minutes"} <= set(bad.get_json()["errors"])


# --- one code, many racing registrations, a real server ----------------------------------------


@pytest.mark.server
def test_one_code_sent_with_many_registrations_at_once_registers_once(database_url, tmp_path,
                                                                      monkeypatch):
    """Twelve registrations with the same phone and code for twelve sessions, at the same instant,
    through gunicorn's four workers: the code is used once, so one registration holds places and
    the eleven others hold nothing."""
    from qmevents import create_app
    from qmevents.models import ensure_districts
    from qmevents.services.events import SessionDraft

    from .conftest import Factory
    from .support.server import Gunicorn, app_env
    from .test_capacity_race import together

    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": database_url, "PASSWORD_TIME_COST": 1,
                      "PASSWORD_MEMORY_COST": 64})
    with app.app_context():
        db.create_all()
        ensure_districts()
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    event_id = Factory(app).event(verify_phone=True, sessions=[
        SessionDraft(starts_at=start + timedelta(hours=n), ends_at=start + timedelta(hours=n + 1),
                     capacity=10) for n in range(12)])
    with app.app_context():
        sessions = db.session.scalars(select(EventSession.id).filter_by(event_id=event_id)).all()
    server = Gunicorn("wsgi:app", app_env(instance, database_url), workers=4)
    server.start(ready_path="/api/v1/openapi.json")
    try:
        assert server.post_json("/api/v1/phone-codes", {"phone": PHONE})[0] == 202
        code = texted(app)
        path = f"/api/v1/events/{event_id}/registrations"
        answers = together([
            (lambda s=s: server.post_json(path, {"session_id": s, "name": "王芳", "phone": PHONE,
                                                 "party_size": 2, "phone_code": code}))
            for s in sessions])
    finally:
        server.stop()
    statuses = sorted(status for status, _body in answers)
    assert statuses == [201] + [422] * 11, (answers, server.errors())
    assert counts(app)[:2] == (1, 2)
    with app.app_context():
        db.engine.dispose()
