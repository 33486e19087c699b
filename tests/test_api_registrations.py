"""A citizens' app registers a party through the JSON API: a ticket on success, a reason when
refused, a message per field when the body is wrong, and answers that match the OpenAPI document."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import (
    Event,
    EventSession,
    Notification,
    Question,
    QuestionKind,
    Registration,
    RegistrationStatus,
)
from qmevents.services import events
from qmevents.services.registrations import cancellation, codes
from qmevents.timeutil import utcnow

from .test_api import assert_documented

PHONE = "13812345678"


@pytest.fixture
def open_day(app, factory) -> tuple[int, int]:
    """A published open day with one session of 30 places, parties of up to 4."""
    event_id = factory.event(max_party_size=4)
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    return event_id, session_id


def body(session: int, **overrides) -> dict:
    fields = {"session_id": session, "name": "张伟", "phone": PHONE, "party_size": 2,
              "answers": {}}
    fields.update(overrides)
    return fields


def post(client, event_id: int, json, lang: str = "en"):
    return client.post(f"/api/v1/events/{event_id}/registrations?lang={lang}", json=json)


def places_taken(app, session_id: int) -> int:
    with app.app_context():
        return db.session.get(EventSession, session_id).places_taken


def set_session(app, session_id: int, **values) -> None:
    with app.app_context():
        session = db.session.get(EventSession, session_id)
        for key, value in values.items():
            setattr(session, key, value)
        db.session.commit()


# --- registering --------------------------------------------------------------------------------


def test_a_family_registers_and_gets_its_ticket(app, client, open_day):
    event_id, session_id = open_day
    response = post(client, event_id, body(session_id, party_size=3))
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["status"] == "confirmed"
    assert len(answer["code"]) == codes.CODE_LENGTH
    assert answer["code"] in answer["ticket_url"]
    assert response.headers["Location"] == answer["ticket_url"]
    assert response.headers["Cache-Control"] == "no-store"
    assert places_taken(app, session_id) == 3
    with app.app_context():
        stored = codes.ticket(answer["code"])
        assert (stored.name, stored.phone, stored.party_size) == ("张伟", PHONE, 3)
        assert stored.source == "api"
        assert stored.consent_at is not None


def test_the_ticket_link_is_sent_to_the_phone(app, client, open_day):
    event_id, session_id = open_day
    answer = post(client, event_id, body(session_id)).get_json()
    with app.app_context():
        message = db.session.scalar(select(Notification))
        assert message.recipient == PHONE
        assert answer["ticket_url"] in message.body


def test_the_ticket_url_opens_the_ticket(client, open_day):
    event_id, session_id = open_day
    ticket_url = post(client, event_id, body(session_id)).get_json()["ticket_url"]
    assert client.get(ticket_url).status_code == 200


def test_answers_to_the_events_questions_are_kept(app, client, open_day):
    event_id, session_id = open_day
    with app.app_context():
        question = Question(event_id=event_id, position=0, kind=QuestionKind.SINGLE,
                            label="年龄段", options="18岁以下\n18-60岁\n60岁以上")
        db.session.add(question)
        db.session.commit()
        question_id = question.id
    response = post(client, event_id, body(session_id, answers={str(question_id): "60岁以上"}))
    assert response.status_code == 201
    with app.app_context():
        stored = codes.ticket(response.get_json()["code"]).answers
        assert [(a.question_id, a.value) for a in stored] == [(question_id, "60岁以上")]


@pytest.mark.parametrize(("mode", "status"), [("approval", "applied"), ("lottery", "applied")])
def test_approval_and_lottery_events_record_an_application(app, factory, client, mode, status):
    event_id = factory.event(registration_mode=mode)
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    response = post(client, event_id, body(session_id))
    assert response.status_code == 201
    assert response.get_json()["status"] == status
    assert places_taken(app, session_id) == 0


def test_a_full_waitlist_event_puts_the_party_on_the_waiting_list(app, factory, client):
    event_id = factory.event(registration_mode="waitlist")
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    set_session(app, session_id, capacity=2)
    assert post(client, event_id, body(session_id)).get_json()["status"] == "confirmed"
    response = post(client, event_id, body(session_id, phone="13900000000"))
    assert response.status_code == 201
    assert response.get_json()["status"] == "waitlisted"
    assert places_taken(app, session_id) == 2


# --- refusals -----------------------------------------------------------------------------------


def test_a_full_session_is_409_full_and_takes_nothing(app, client, open_day):
    event_id, session_id = open_day
    set_session(app, session_id, capacity=3)
    assert post(client, event_id, body(session_id)).status_code == 201
    response = post(client, event_id, body(session_id, phone="13900000000"))
    assert response.status_code == 409
    assert response.get_json()["error"] == "full"
    assert "1" in response.get_json()["message"]  # says how many places are left
    assert places_taken(app, session_id) == 2


def test_the_same_phone_twice_is_409_duplicate(app, client, open_day):
    event_id, session_id = open_day
    assert post(client, event_id, body(session_id)).status_code == 201
    response = post(client, event_id, body(session_id, phone="138 1234 5678"))
    assert response.status_code == 409
    assert response.get_json()["error"] == "duplicate"
    assert places_taken(app, session_id) == 2


def test_a_closed_window_is_409_closed(app, client, open_day):
    event_id, session_id = open_day
    set_session(app, session_id, registration_closes_at=utcnow() - timedelta(minutes=1))
    response = post(client, event_id, body(session_id))
    assert response.status_code == 409
    assert response.get_json()["error"] == "closed"


def test_a_cancelled_event_is_409_closed(app, client, open_day):
    event_id, session_id = open_day
    with app.app_context():
        events.cancel(db.session.get(Event, event_id))
    response = post(client, event_id, body(session_id))
    assert response.status_code == 409
    assert response.get_json()["error"] == "closed"


def test_a_draft_or_unknown_event_is_404(factory, client):
    draft = factory.event(publish=False)
    for event_id in (draft, 999999, 10**30):
        for sent in (body(1), {"session_id": "one"}):
            response = post(client, event_id, sent)
            assert response.status_code == 404, (event_id, sent)
            assert response.get_json()["error"] == "not_found"


# --- what to fix --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"session_id": "first"}, "session_id"),
        ({"session_id": True}, "session_id"),
        ({"session_id": None}, "session_id"),
        ({"session_id": 10**30}, "session_id"),
        ({"name": ["张伟"]}, "name"),
        ({"phone": 13812345678}, "phone"),
        ({"party_size": "two"}, "party_size"),
        ({"party_size": [2]}, "party_size"),
        ({"party_size": 5}, "party_size"),
        ({"answers": ["60岁以上"]}, "answers"),
        ({"answers": {"999": "x"}}, "answers.999"),
        ({"consent": False}, "consent"),
        ({"consent": "yes"}, "consent"),
        ({"name": " "}, "name"),
        ({"phone": "1381234567"}, "phone"),
    ],
)
def test_a_wrong_field_is_422_with_its_path_and_nothing_saved(app, client, open_day,
                                                              overrides, field):
    event_id, session_id = open_day
    response = post(client, event_id, body(session_id, **overrides))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert response.get_json()["errors"][field]
    assert places_taken(app, session_id) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_type_errors_are_reported_together(client, open_day):
    event_id, session_id = open_day
    response = post(client, event_id, body(session_id, name=1, phone=2, answers=[], consent=0))
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"name", "phone", "answers", "consent"}


@pytest.mark.parametrize("raw", [b"[1, 2]", b"not json", b""])
def test_a_body_that_is_not_an_object_is_422_under_body(client, open_day, raw):
    event_id, _session_id = open_day
    response = client.post(f"/api/v1/events/{event_id}/registrations", data=raw,
                           content_type="application/json")
    assert response.status_code == 422
    assert "body" in response.get_json()["errors"]


def test_a_session_of_another_event_is_422(factory, client, open_day):
    event_id, _session_id = open_day
    other = factory.event(title="另一场活动")
    response = client.get(f"/api/v1/events/{other}")
    other_session = response.get_json()["sessions"][0]["id"]
    response = post(client, event_id, body(other_session))
    assert response.status_code == 422
    assert "session_id" in response.get_json()["errors"]


def test_a_party_size_typed_as_digits_is_accepted(client, open_day):
    event_id, session_id = open_day
    assert post(client, event_id, body(session_id, party_size="2")).status_code == 201


def test_consent_may_be_omitted(app, client, open_day):
    event_id, session_id = open_day
    sent = body(session_id)
    sent.pop("answers")
    assert post(client, event_id, sent).status_code == 201


# --- rate limit and the document ----------------------------------------------------------------


def test_one_phone_cannot_register_again_and_again(app, open_day):
    event_id, session_id = open_day
    limited = create_app({"TESTING": True, "SECRET_KEY": "test", "RATELIMIT_ENABLED": True,
                          "REGISTRATION_RATE_LIMIT_PER_PHONE": "3 per minute",
                          "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    client = limited.test_client()
    try:
        statuses = [post(client, event_id, body(session_id)).status_code for _ in range(3)]
        refused = post(client, event_id, body(session_id))
        doc = client.get("/api/v1/openapi.json").get_json()
    finally:
        with limited.app_context():
            db.engine.dispose()
    assert statuses == [201, 409, 409]
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "rate_limited"
    assert_documented(doc, "post", "/events/{event_id}/registrations", refused)


def test_answers_match_the_documented_schemas(app, client, open_day):
    event_id, session_id = open_day
    doc = client.get("/api/v1/openapi.json").get_json()
    path = "/events/{event_id}/registrations"
    created = post(client, event_id, body(session_id))
    duplicate = post(client, event_id, body(session_id))
    invalid = post(client, event_id, body(session_id, party_size="two"))
    unknown = post(client, 999999, body(session_id))
    for response in (created, duplicate, invalid, unknown):
        assert_documented(doc, "post", path, response)
    assert duplicate.get_json()["error"] in (
        doc["components"]["schemas"]["RegistrationRefused"]["properties"]["error"]["enum"])


def test_the_document_says_what_consent_means(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    consent = doc["components"]["schemas"]["RegistrationInput"]["properties"]["consent"]
    assert consent["default"] is True
    assert "privacy" in consent["description"]


def test_a_confirmed_registration_holds_its_places_until_cancelled(app, client, open_day):
    event_id, session_id = open_day
    code = post(client, event_id, body(session_id, party_size=4)).get_json()["code"]
    with app.app_context():
        cancellation.cancel(code)
        assert codes.ticket(code).status == RegistrationStatus.CANCELLED
    assert places_taken(app, session_id) == 0
    assert post(client, event_id, body(session_id, party_size=4)).status_code == 201
