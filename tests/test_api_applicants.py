"""The organiser's decisions through the API: list the applications, admit or decline them, invite
by phone number. Every answer matches the OpenAPI document."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from qmevents.demo.names import person_name
from qmevents.extensions import db
from qmevents.models import EventSession, Registration, RegistrationStatus
from qmevents.services import events
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow

from .test_api import assert_documented, bearer, token_for


@pytest.fixture
def doc(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def open_day(app, factory) -> tuple[int, int]:
    """An event by approval with one session of 6 places."""
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    event_id = factory.event(registration_mode="approval", sessions=[
        events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2), capacity=6)])
    with app.app_context():
        return event_id, db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))


@pytest.fixture
def organiser(factory, client) -> dict[str, str]:
    _id, email = factory.user("organiser")
    return bearer(token_for(client, email))


def apply(app, open_day, name: str, phone: str, people: int = 1) -> int:
    event_id, session_id = open_day
    with app.app_context():
        return reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name=name, phone=phone,
            party_size=people, consent=True)).registration_id


def url(event_id: int, rest: str) -> str:
    return f"/api/v1/events/{event_id}/{rest}?lang=en"


def test_an_organiser_lists_the_applications_with_masked_phones(app, client, open_day,
                                                                organiser, doc):
    zhang = apply(app, open_day, "张伟", "13812345678", 3)
    response = client.get(url(open_day[0], "applicants"), headers=organiser)
    assert_documented(doc, "get", "/events/{event_id}/applicants", response)
    body = response.get_json()
    assert [(a["registration_id"], a["phone_masked"], a["party_size"], a["status"])
            for a in body["applicants"]] == [(zhang, "138****5678", 3, "applied")]
    assert body["sessions"] == [{"id": open_day[1], "places_left": 6, "applied_parties": 1,
                                 "applied_people": 3}]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_list_is_searched_and_paginated(app, client, open_day, organiser):
    for i in range(3):
        apply(app, open_day, person_name(i), f"1390000000{i}")
    body = client.get(url(open_day[0], "applicants") + "&per_page=2&page=2",
                      headers=organiser).get_json()
    assert (body["total"], len(body["applicants"]), body["page"]) == (3, 1, 2)
    found = client.get(url(open_day[0], "applicants") + "&q=0001", headers=organiser).get_json()
    assert [a["name"] for a in found["applicants"]] == [person_name(1)]


def test_admitting_confirms_the_applications(app, client, open_day, organiser, doc):
    zhang = apply(app, open_day, "张伟", "13812345678", 3)
    response = client.post(url(open_day[0], "applicants/admit"), headers=organiser,
                           json={"registration_ids": [zhang], "message": "东门入场"})
    assert_documented(doc, "post", "/events/{event_id}/applicants/admit", response)
    assert response.get_json() == {"admitted": [zhang], "people": 3, "unchanged": []}
    again = client.post(url(open_day[0], "applicants/admit"), headers=organiser,
                        json={"registration_ids": [zhang]})
    assert again.get_json() == {"admitted": [], "people": 0, "unchanged": [zhang]}


def test_admitting_beyond_capacity_is_409_with_the_places_left(app, client, open_day,
                                                               organiser, doc):
    batch = [apply(app, open_day, "张伟", "13812345678", 4),
             apply(app, open_day, "李娜", "13900001111", 3)]
    response = client.post(url(open_day[0], "applicants/admit"), headers=organiser,
                           json={"registration_ids": batch})
    assert response.status_code == 409
    assert_documented(doc, "post", "/events/{event_id}/applicants/admit", response)
    body = response.get_json()
    assert (body["error"], body["places_left"], body["needed"]) == ("full", 6, 7)
    assert "Only 6 places are left" in body["message"]
    with app.app_context():
        assert {r.status for r in db.session.scalars(select(Registration))} == {
            RegistrationStatus.APPLIED}


def test_declining_answers_what_was_declined(app, client, open_day, organiser, doc):
    li = apply(app, open_day, "李娜", "13900001111")
    response = client.post(url(open_day[0], "applicants/decline"), headers=organiser,
                           json={"registration_ids": [li], "message": None})
    assert_documented(doc, "post", "/events/{event_id}/applicants/decline", response)
    assert response.get_json() == {"declined": [li], "unchanged": []}


@pytest.mark.parametrize("body, field", [
    ({}, "registration_ids"),
    ({"registration_ids": "1"}, "registration_ids"),
    ({"registration_ids": [1], "message": 5}, "message"),
    ([1, 2], "body"),
])
def test_a_malformed_decision_is_422_naming_the_field(client, open_day, organiser, doc, body,
                                                      field):
    response = client.post(url(open_day[0], "applicants/decline"), headers=organiser, json=body)
    assert response.status_code == 422
    assert_documented(doc, "post", "/events/{event_id}/applicants/decline", response)
    assert field in response.get_json()["errors"]


def test_an_invitation_is_201_with_a_confirmed_ticket(app, client, open_day, organiser, doc):
    response = client.post(url(open_day[0], "invitations"), headers=organiser, json={
        "session_id": open_day[1], "name": "陈静", "phone": "13812345678", "party_size": 2})
    assert response.status_code == 201
    assert_documented(doc, "post", "/events/{event_id}/invitations", response)
    body = response.get_json()
    assert body["status"] == "confirmed" and body["ticket_url"].endswith(f"/t/{body['code']}")
    with app.app_context():
        assert db.session.get(EventSession, open_day[1]).places_taken == 2


def test_an_invitation_that_does_not_fit_is_409_full(client, open_day, organiser, doc):
    body = {"session_id": open_day[1], "name": "陈静", "phone": "13812345678", "party_size": 4}
    client.post(url(open_day[0], "invitations"), headers=organiser, json=body)
    response = client.post(url(open_day[0], "invitations"), headers=organiser,
                           json={**body, "phone": "13900001111", "party_size": 3})
    assert response.status_code == 409
    assert_documented(doc, "post", "/events/{event_id}/invitations", response)
    assert (response.get_json()["error"], response.get_json()["places_left"]) == ("full", 2)


def test_invitation_mistakes_are_422_per_field(client, open_day, organiser, doc):
    response = client.post(url(open_day[0], "invitations"), headers=organiser, json={
        "session_id": "x", "name": 5, "phone": "123", "party_size": 9})
    assert response.status_code == 422
    assert_documented(doc, "post", "/events/{event_id}/invitations", response)
    assert set(response.get_json()["errors"]) == {"session_id", "name"}


@pytest.mark.parametrize("method, rest", [("get", "applicants"), ("post", "applicants/admit"),
                                          ("post", "applicants/decline"),
                                          ("post", "invitations")])
def test_another_organisation_gets_404_door_staff_403_and_no_token_401(
        client, factory, open_day, method, rest):
    _id, stranger = factory.user("organiser", org="浦东新区市场监督管理局", district="浦东新区")
    _id, staff = factory.user("staff")
    call = getattr(client, method)
    kwargs = {"json": {"registration_ids": [1]}} if method == "post" else {}
    assert call(url(open_day[0], rest), headers=bearer(token_for(client, stranger)),
                **kwargs).status_code == 404
    assert call(url(open_day[0], rest), headers=bearer(token_for(client, staff)),
                **kwargs).status_code == 403
    assert call(url(open_day[0], rest), **kwargs).status_code == 401
