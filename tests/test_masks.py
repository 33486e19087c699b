"""Personal data stays masked outside the audited export. Whoever may search (door staff, the
organiser) finds a phone only by what they see of it (138****5678: the last four digits) or by
the whole number typed in full, so nobody walks a masked number digit by digit; the door names a
ticket by an id that is not its bearer secret, so staff look and cannot cancel; and back-office
and API answers about people are never kept by a cache."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import AuditEntry, Registration
from qmevents.services.door import desk as door
from qmevents.services.registrations.registrants import name_or_phone_matches

from .conftest import login, submit
from .test_api import bearer, token_for
from .test_checkin import Door, make_door

PHONE = "13812345678"
TAIL = "5678"


@pytest.fixture
def tour(app, factory) -> Iterator[Door]:
    tour = make_door(app, factory)
    with tour.clock():
        yield tour


@pytest.fixture
def staff(client, tour) -> dict[str, str]:
    return bearer(token_for(client, tour.staff_email))


def search(client, tour: Door, headers: dict, q: str) -> list[dict]:
    response = client.get(f"/api/v1/events/{tour.event_id}/search", query_string={"q": q},
                          headers=headers)
    assert response.status_code == 200
    return response.get_json()["tickets"]


def ticket_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Registration.id).filter_by(code=code))


# --- searching by phone ---------------------------------------------------------------------


def test_the_last_four_digits_or_the_whole_number_find_the_ticket(client, tour, staff):
    tour.ticket(name="欧阳娜娜", phone=PHONE)
    for typed in (TAIL, PHONE, "138 1234 5678", "+86 13812345678", "٥٦٧٨"):
        assert [t["phone_masked"] for t in search(client, tour, staff, typed)] == [
            "138****5678"], typed


@pytest.mark.parametrize("probe", ["45678", "345678", "2345678", "12345678", "812345678",
                                   "3812345678", "38123", "1381", "138", "567", "8"])
def test_any_other_run_of_digits_finds_no_phone(client, tour, staff, probe):
    tour.ticket(name="欧阳娜娜", phone=PHONE)
    assert search(client, tour, staff, probe) == []


def test_walking_a_masked_number_digit_by_digit_learns_nothing(client, tour, staff):
    """The attack: the mask shows 138****5678; try each digit in front of the known tail and
    watch which still matches. Every try answers the same, so no digit is learnt."""
    tour.ticket(name="欧阳娜娜", phone=PHONE)
    known = TAIL
    for _position in range(4):
        answers = {d: bool(search(client, tour, staff, f"{d}{known}")) for d in "0123456789"}
        assert set(answers.values()) == {False}, answers
        known = "?" + known  # nothing to extend it with


def test_the_back_offices_registrant_search_holds_the_same_rule(app, client, factory, tour):
    tour.ticket(name="欧阳娜娜", phone=PHONE)
    _id, email = factory.user("organiser", org="杨浦区市场监督管理局")
    login(client, email)
    url = f"/organiser/events/{tour.event_id}/registrants?lang=en&search="
    assert "欧阳娜娜" in client.get(url + TAIL).get_data(as_text=True)
    assert "欧阳娜娜" in client.get(url + PHONE).get_data(as_text=True)
    for probe in ("45678", "2345678", "812345678"):
        assert "欧阳娜娜" not in client.get(url + probe).get_data(as_text=True), probe
    api = bearer(token_for(app.test_client(), email))
    applicants = client.get(f"/api/v1/events/{tour.event_id}/applicants?q=45678",
                            headers=api).get_json()
    assert applicants["applicants"] == []


def test_the_rule_is_one_sql_condition_whatever_the_digits(app):
    with app.app_context():
        for typed, phone_part in (("5678", True), ("١٢٣٤", True), ("45678", False),
                                  ("13812345678", True)):
            text = str(name_or_phone_matches(typed).compile(
                compile_kwargs={"literal_binds": True}))
            assert ("phone" in text) is phone_part, typed


# --- the door never gets a ticket's code --------------------------------------------------------


def test_a_search_and_a_scan_answer_name_the_ticket_without_its_code(app, client, tour, staff):
    code = tour.ticket(name="欧阳娜娜", phone=PHONE)
    found = client.get(f"/api/v1/events/{tour.event_id}/search?q=欧阳", headers=staff)
    assert code not in found.get_data(as_text=True)
    assert found.get_json()["tickets"][0]["ticket_id"] == ticket_id(app, code)
    scanned = client.post("/api/v1/checkins", headers=staff, json={
        "code": code, "event_id": tour.event_id, "session_id": tour.morning, "people": 1})
    assert scanned.get_json()["result"] == "admitted"
    assert code not in scanned.get_data(as_text=True)


def test_the_door_admits_a_ticket_found_by_search_by_its_id(app, client, tour, staff):
    code = tour.ticket(party=3, name="欧阳娜娜", phone=PHONE)
    found = search(client, tour, staff, "欧阳")[0]
    answer = client.post("/api/v1/checkins", headers=staff, json={
        "ticket_id": found["ticket_id"], "event_id": tour.event_id, "session_id": tour.morning,
        "people": 2}).get_json()
    assert (answer["result"], answer["admitted_people"]) == ("admitted", 2)
    assert tour.admitted(code) == 2


def test_an_id_of_another_events_ticket_is_unknown_at_this_door(app, client, factory, tour,
                                                               staff):
    other = make_door(app, factory, title="另一场活动")
    code = other.ticket(name="外人")
    answer = client.post("/api/v1/checkins", headers=staff, json={
        "ticket_id": ticket_id(app, code), "event_id": tour.event_id}).get_json()
    assert (answer["result"], answer["ticket"]) == ("unknown", None)
    assert other.admitted(code) == 0


def test_code_and_ticket_id_together_are_422(client, tour, staff):
    response = client.post("/api/v1/checkins?lang=en", headers=staff, json={
        "code": "x", "ticket_id": 1, "event_id": tour.event_id})
    assert response.status_code == 422 and "ticket_id" in response.get_json()["errors"]


def test_staff_look_and_cannot_cancel(app, client, tour):
    """Nothing a staff member sees at the door holds a ticket's code, and the organiser's cancel
    is not theirs (403); the ticket stays confirmed."""
    code = tour.ticket(name="欧阳娜娜", phone=PHONE)
    login(client, tour.staff_email)
    seen = client.get(f"/door/events/{tour.event_id}").get_data(as_text=True)
    seen += client.get(f"/organiser/events/{tour.event_id}/registrants").get_data(as_text=True)
    with app.test_request_context():
        seen += str([vars(t) for t in door.search(tour.event_id, None, "欧阳")])
    assert code not in seen
    rid = ticket_id(app, code)
    url = f"/organiser/events/{tour.event_id}/registrants/{rid}/cancel"
    assert client.get(url).status_code == 403
    assert submit(client, url, {}, page=f"/door/events/{tour.event_id}").status_code == 403
    with app.app_context():
        assert db.session.get(Registration, rid).status == "confirmed"
        assert db.session.scalar(select(AuditEntry.id)) is None


# --- nothing about people stays in a cache ------------------------------------------------------


def test_back_office_door_and_api_answers_are_not_stored(app, client, factory, tour, staff):
    _id, email = factory.user("organiser", org="杨浦区市场监督管理局")
    organiser = bearer(token_for(app.test_client(), email))
    answers = [
        client.get(f"/api/v1/events/{tour.event_id}/attendance", headers=staff),
        client.get(f"/api/v1/events/{tour.event_id}/applicants", headers=organiser),
        client.get("/api/v1/events", headers=organiser),
        client.get(f"/organiser/events/{tour.event_id}/registrants"),  # 401, sign-in form
        client.get("/door/"),
    ]
    login(client, email)
    answers += [client.get(path) for path in (
        "/organiser/", f"/organiser/events/{tour.event_id}",
        f"/organiser/events/{tour.event_id}/registrants",
        f"/organiser/events/{tour.event_id}/report", "/organiser/dashboard")]
    for response in answers:
        assert "no-store" in response.headers.get("Cache-Control", ""), response.request.path
    shared = client.get("/api/v1/openapi.json")
    assert "no-store" not in shared.headers.get("Cache-Control", "")


def test_whole_number_searches_are_few_per_user_across_every_search(tmp_path, monkeypatch,
                                                                    postgres_url):
    """10,000 tries of 138****5678's hidden digits would unmask it: whole-number searches are
    counted per user, shared by the door's, the registrants' and the applicants' searches;
    names and last four digits are not counted."""
    from .conftest import Factory, close_app, ready_app

    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "limited"))
    app = ready_app(postgres_url, RATELIMIT_ENABLED=True, NUMBER_SEARCH_RATE_LIMIT="3 per hour",
                    RATELIMIT_STORAGE_URI="memory://")
    try:
        tour = make_door(app, Factory(app))
        tour.ticket(name="欧阳娜娜", phone=PHONE)
        client = app.test_client()
        staff = bearer(token_for(client, tour.staff_email))
        door = f"/api/v1/events/{tour.event_id}/search"
        tries = [client.get(door, query_string={"q": f"138{n:04d}5678"}, headers=staff)
                 .status_code for n in range(3)]
        assert tries == [200, 200, 200]
        assert client.get(door, query_string={"q": "13800005678"},
                          headers=staff).status_code == 429
        assert client.get(door, query_string={"q": TAIL}, headers=staff).status_code == 200
        assert client.get(door, query_string={"q": "欧阳"}, headers=staff).status_code == 200
        login(client, tour.staff_email)  # the same person on the registrants page
        page = f"/organiser/events/{tour.event_id}/registrants"
        assert client.get(page, query_string={"search": PHONE}).status_code == 429
        assert client.get(page, query_string={"search": TAIL}).status_code == 200
    finally:
        close_app(app)
