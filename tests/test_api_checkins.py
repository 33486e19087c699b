"""The door's API as scanning devices and the door page use it: POST /api/v1/checkins with a
bearer token or a signed-in session with its CSRF header, undo, attendance, walk-ins, tallies,
search; who may use it; bad input; and every answer held to the OpenAPI document."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from qmevents.api import auth
from qmevents.extensions import db
from qmevents.models import Admission, DoorScan, Registration, Tally
from qmevents.services.registrations import cancellation, codes
from qmevents.timeutil import utcnow

from .conftest import csrf_from, login
from .test_api import assert_documented, bearer, check, event_body, token_for
from .test_checkin import BUREAU, Door, make_door

CHECKINS = "/api/v1/checkins"


@pytest.fixture
def tour(app, factory) -> Iterator[Door]:
    """The tour, its door scanning on the day of the event (tour.clock)."""
    tour = make_door(app, factory)
    with tour.clock():
        yield tour


@pytest.fixture
def staff_token(client, tour) -> dict[str, str]:
    """The assigned door staff's device."""
    return bearer(token_for(client, tour.staff_email))


@pytest.fixture
def doc(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def scan(client, tour: Door, headers: dict, code, **fields):
    body = {"code": code, "event_id": tour.event_id, "session_id": tour.morning, **fields}
    return client.post(CHECKINS + "?lang=en", json=body, headers=headers)


def door_path(tour: Door, rest: str) -> str:
    return f"/api/v1/events/{tour.event_id}/{rest}"


# --- scanning -----------------------------------------------------------------------------------


def test_a_device_scans_a_ticket_and_lets_the_family_in(client, tour, staff_token, doc):
    code = tour.ticket(party=3, name="张伟", phone="13812345678")
    response = scan(client, tour, staff_token, f"https://zlj.example.gov.cn/t/{code}")
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["result"] == "admitted"
    assert (answer["admitted_people"], answer["remaining_people"]) == (3, 0)
    assert answer["message"] == "Admit 3."
    assert answer["ticket"]["name"] == "张伟"
    assert answer["ticket"]["phone_masked"] == "138****5678"
    assert "13812345678" not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert_documented(doc, "post", "/checkins", response)
    assert not check(doc, {"$ref": "#/components/schemas/DoorTicket"}, answer["ticket"])


def test_already_admitted_says_when_where_and_by_whom(client, tour, staff_token, doc):
    code = tour.ticket()
    scan(client, tour, staff_token, code)
    response = scan(client, tour, staff_token, code)
    answer = response.get_json()
    assert answer["result"] == "already_admitted"
    assert answer["previous"]["checkpoint"] == "入口"
    assert answer["previous"]["by"] == tour.staff_email
    assert answer["previous"]["at"].endswith("+08:00")
    assert answer["message"].startswith("Already admitted at 入口")
    assert_documented(doc, "post", "/checkins", response)
    assert not check(doc, {"$ref": "#/components/schemas/PreviousAdmission"}, answer["previous"])


def test_every_answer_of_a_scan_is_a_200_naming_its_result(app, factory, client, tour,
                                                            staff_token, doc):
    cancelled, waiting, afternoon = tour.ticket(), tour.ticket(), tour.ticket(
        session=tour.afternoon)
    with app.app_context():
        cancellation.cancel(cancelled)
    tour.set_status(waiting, "waitlisted")
    elsewhere = make_door(app, factory, title="另一场活动").ticket()
    expected = {codes.new_code(): "unknown", cancelled: "cancelled", waiting: "not_confirmed",
                elsewhere: "wrong_event", afternoon: "wrong_session"}
    for code, result in expected.items():
        response = scan(client, tour, staff_token, code)
        assert (response.status_code, response.get_json()["result"]) == (200, result), code
        assert response.get_json()["admission_id"] is None
        assert_documented(doc, "post", "/checkins", response)


def test_a_family_comes_in_part_by_part(client, tour, staff_token):
    code = tour.ticket(party=4)
    first = scan(client, tour, staff_token, code, people=1).get_json()
    assert (first["admitted_people"], first["remaining_people"]) == (1, 3)
    rest = scan(client, tour, staff_token, code, people=None).get_json()
    assert (rest["admitted_people"], rest["remaining_people"]) == (3, 0)
    assert rest["ticket"]["admitted_people"] == 4


def test_a_station_of_the_tour_records_its_visit(client, tour, staff_token):
    code = tour.ticket(party=2)
    visit = scan(client, tour, staff_token, code, checkpoint_id=tour.station).get_json()
    assert (visit["result"], visit["admitted_people"]) == ("admitted", 2)
    again = scan(client, tour, staff_token, code, checkpoint_id=tour.station).get_json()
    assert again["result"] == "already_admitted"
    assert again["previous"]["checkpoint"] == "质量展厅"


@pytest.mark.parametrize("code", ["", "   ", "hello world", "\x00\x01\x02\xff\ufffe",
                                  "A" * 100_000, "https://evil.example/t/../../etc/passwd",
                                  "'; DROP TABLE registration; --", "😀" * 30])
def test_garbage_scans_are_unknown_never_an_error(client, tour, staff_token, code):
    response = scan(client, tour, staff_token, code)
    assert response.status_code == 200
    assert response.get_json()["result"] == "unknown"
    assert response.get_json()["message"].startswith("No ticket has this code")


MISSING = object()


@pytest.mark.parametrize("changes, field", [
    ({"code": MISSING}, "code"),
    ({"code": None}, "code"),
    ({"code": 12345}, "code"),
    ({"code": ["A"]}, "code"),
    ({"event_id": MISSING}, "event_id"),
    ({"event_id": "1"}, "event_id"),
    ({"event_id": 1.5}, "event_id"),
    ({"session_id": "morning"}, "session_id"),
    ({"checkpoint_id": True}, "checkpoint_id"),
    ({"people": 0}, "people"),
    ({"people": 99}, "people"),
    ({"people": "all"}, "people"),
])
def test_a_malformed_body_is_422_naming_the_field(client, tour, staff_token, doc, changes,
                                                  field):
    body = {"code": tour.ticket(), "event_id": tour.event_id, **changes}
    response = client.post(CHECKINS + "?lang=en", headers=staff_token,
                           json={k: v for k, v in body.items() if v is not MISSING})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert_documented(doc, "post", "/checkins", response)


def test_more_people_than_the_party_is_422_and_admits_nobody(client, tour, staff_token):
    code = tour.ticket(party=2)
    response = scan(client, tour, staff_token, code, people=3)
    assert response.status_code == 422
    assert response.get_json()["errors"]["people"] == "This ticket is for 2 people."
    assert tour.admitted(code) == 0


@pytest.mark.parametrize("raw", [b"", b"not json", b"\xff\xfe\x00", b"[1, 2]", b'"code"'])
def test_a_body_that_is_not_a_json_object_is_422(client, tour, staff_token, raw):
    response = client.post(CHECKINS, data=raw, headers={**staff_token,
                                                        "Content-Type": "application/json"})
    assert response.status_code == 422
    assert "body" in response.get_json()["errors"]


@pytest.mark.parametrize("event_id", [999_999, 2**31, 10**30])
def test_an_unknown_event_is_404(client, tour, staff_token, doc, event_id):
    response = scan(client, tour, staff_token, tour.ticket(), event_id=event_id)
    assert response.status_code == 404
    assert_documented(doc, "post", "/checkins", response)


# --- who may scan -------------------------------------------------------------------------------


def test_without_credentials_a_scan_is_401(client, tour, doc):
    response = scan(client, tour, {}, tour.ticket())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_documented(doc, "post", "/checkins", response)


def test_an_unknown_token_is_401(client, tour):
    response = scan(client, tour, bearer("qm_not-a-token"), tour.ticket())
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


@pytest.mark.parametrize("who", ["staff of another event", "organiser of another organisation"])
def test_those_without_rights_get_403_and_nothing_of_the_ticket(client, factory, tour, doc, who):
    if who.startswith("staff"):
        _id, email = factory.user("staff", org=BUREAU)  # not assigned to this event
    else:
        _id, email = factory.user("organiser", org="静安区市场监督管理局", district="静安区")
    code = tour.ticket(name="张伟")
    response = scan(client, tour, bearer(token_for(client, email)), code)
    assert response.status_code == 403
    assert "张伟" not in response.get_data(as_text=True)
    assert set(response.get_json()) == {"error", "message"}
    assert tour.admitted(code) == 0
    assert_documented(doc, "post", "/checkins", response)


@pytest.mark.parametrize("role", ["staff", "organiser", "admin"])
def test_assigned_staff_the_events_organisers_and_admins_may_scan(client, factory, tour, role):
    email = tour.staff_email if role == "staff" else factory.user(role, org=BUREAU)[1]
    response = scan(client, tour, bearer(token_for(client, email)), tour.ticket())
    assert (response.status_code, response.get_json()["result"]) == (200, "admitted")


@pytest.mark.parametrize("who", ["staff of another event", "organiser of another organisation"])
def test_a_scan_with_a_scan_id_from_those_without_rights_writes_nothing(app, client, factory,
                                                                         tour, who):
    """The door page's way (a scan_id): refused before its claim is written, so the id stays
    free and nothing of the ticket is said or counted."""
    if who.startswith("staff"):
        email = make_door(app, factory, title="另一场活动").staff_email
    else:
        email = factory.user("organiser", org="静安区市场监督管理局", district="静安区")[1]
    code = tour.ticket(name="张伟")
    response = scan(client, tour, bearer(token_for(client, email)), code, scan_id="intruder-1")
    assert response.status_code == 403
    assert "张伟" not in response.get_data(as_text=True)
    assert tour.admitted(code) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DoorScan)) == 0
    rightful = scan(client, tour, bearer(token_for(client, tour.staff_email)), code,
                    scan_id="intruder-1").get_json()
    assert (rightful["result"], rightful["repeated"]) == ("admitted", False)


def test_staff_assigned_to_another_event_may_not_scan_this_one(app, client, factory, tour):
    other = make_door(app, factory, title="另一场活动")
    response = scan(client, tour, bearer(token_for(client, other.staff_email)), tour.ticket())
    assert response.status_code == 403


def test_a_revoked_device_token_stops_scanning_within_the_cache_time(app, client, tour,
                                                                     monkeypatch):
    token = token_for(client, tour.staff_email)
    assert scan(client, tour, bearer(token), tour.ticket()).status_code == 200
    assert client.delete("/api/v1/token", headers=bearer(token)).status_code == 204
    assert scan(client, tour, bearer(token), tour.ticket()).status_code == 200  # remembered
    later = auth._clock() + app.config["DOOR_TOKEN_CACHE_SECONDS"] + 1
    monkeypatch.setattr(auth, "_clock", lambda: later)
    assert scan(client, tour, bearer(token), tour.ticket()).status_code == 401


def test_without_the_cache_a_revoked_device_token_stops_at_once(app, client, tour):
    app.config["DOOR_TOKEN_CACHE_SECONDS"] = 0
    token = token_for(client, tour.staff_email)
    assert scan(client, tour, bearer(token), tour.ticket()).status_code == 200
    client.delete("/api/v1/token", headers=bearer(token))
    assert scan(client, tour, bearer(token), tour.ticket()).status_code == 401


# --- the door page: a signed-in browser with its CSRF token ---------------------------------------


def page_token(client) -> str:
    """The CSRF token a page of the signed-in staff member carries (the sign-out form's)."""
    return csrf_from(client.get("/organiser/").get_data(as_text=True))


def test_the_door_page_scans_with_its_session_and_csrf_header(client, tour):
    login(client, tour.staff_email)
    response = scan(client, tour, {"X-CSRFToken": page_token(client)}, tour.ticket())
    assert (response.status_code, response.get_json()["result"]) == (200, "admitted")


@pytest.mark.parametrize("header", [None, "", "forged-token"])
def test_a_session_cookie_without_the_pages_csrf_token_is_401(client, tour, header):
    login(client, tour.staff_email)
    code = tour.ticket()
    headers = {} if header is None else {"X-CSRFToken": header}
    response = scan(client, tour, headers, code)
    assert response.status_code == 401
    assert tour.admitted(code) == 0


def test_a_signed_in_organiser_of_another_organisation_gets_403(client, factory, tour):
    _id, email = factory.user("organiser", org="静安区市场监督管理局", district="静安区")
    login(client, email)
    response = scan(client, tour, {"X-CSRFToken": page_token(client)}, tour.ticket())
    assert response.status_code == 403


# --- undo -----------------------------------------------------------------------------------------


def test_the_last_admission_is_undone_once(client, tour, staff_token, doc):
    code = tour.ticket()
    admission_id = scan(client, tour, staff_token, code).get_json()["admission_id"]
    undone = client.post(f"{CHECKINS}/{admission_id}/undo", headers=staff_token)
    assert (undone.status_code, undone.get_json()) == (200, {"undone": True})
    assert tour.admitted(code) == 0
    assert_documented(doc, "post", "/checkins/{admission_id}/undo", undone)
    gone = client.post(f"{CHECKINS}/{admission_id}/undo", headers=staff_token)
    assert gone.status_code == 404
    assert_documented(doc, "post", "/checkins/{admission_id}/undo", gone)


def test_undo_after_the_window_is_409(app, client, tour, staff_token, doc):
    admission_id = scan(client, tour, staff_token, tour.ticket()).get_json()["admission_id"]
    with app.app_context():
        db.session.get(Admission, admission_id).at = utcnow() - timedelta(minutes=6)
        db.session.commit()
    response = client.post(f"{CHECKINS}/{admission_id}/undo?lang=en", headers=staff_token)
    assert response.status_code == 409
    assert response.get_json()["error"] == "undo_refused"
    assert "5 minutes" in response.get_json()["message"]
    assert_documented(doc, "post", "/checkins/{admission_id}/undo", response)


def test_undo_by_someone_without_rights_is_403(client, factory, tour, staff_token):
    admission_id = scan(client, tour, staff_token, tour.ticket()).get_json()["admission_id"]
    _id, email = factory.user("staff", org=BUREAU)
    response = client.post(f"{CHECKINS}/{admission_id}/undo",
                           headers=bearer(token_for(client, email)))
    assert response.status_code == 403


# --- figures, walk-ins, tallies, search -----------------------------------------------------------


def tally_id(app, tour: Door, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Tally.id).filter_by(event_id=tour.event_id, name=name))


def test_walk_ins_tallies_and_admissions_show_in_the_live_figures(app, client, tour,
                                                                   staff_token, doc):
    scan(client, tour, staff_token, tour.ticket(party=3))
    tour.ticket(party=2)
    walk_in = client.post(door_path(tour, "walk-ins"), headers=staff_token,
                          json={"session_id": tour.morning, "people": 4})
    named = client.post(door_path(tour, "walk-ins"), headers=staff_token,
                        json={"session_id": tour.morning, "people": 1, "name": "王芳",
                              "phone": "13900001111"})
    handouts = tally_id(app, tour, "资料发放")
    bumped = client.post(door_path(tour, f"tallies/{handouts}/bump"), headers=staff_token,
                         json={})
    bumped = client.post(door_path(tour, f"tallies/{handouts}/bump"), headers=staff_token,
                         json={"by": 2})
    figures = client.get(door_path(tour, "attendance"), headers=staff_token)
    assert (walk_in.status_code, walk_in.get_json()["result"]) == (201, "admitted")
    assert "139****1111" in named.get_json()["message"]
    assert bumped.get_json() == {"id": handouts, "name": "资料发放", "count": 3}
    data = figures.get_json()
    assert (data["registered_people"], data["registered_parties"]) == (5, 2)
    assert (data["admitted_people"], data["admitted_parties"]) == (3, 1)
    assert data["walk_in_people"] == 5
    assert data["tallies"] == [{"id": handouts, "name": "资料发放", "count": 3},
                               {"id": tally_id(app, tour, "咨询"), "name": "咨询", "count": 0}]
    assert [c["people"] for c in data["checkpoints"]] == [8, 0]
    for method, path, response in [("post", "/events/{event_id}/walk-ins", walk_in),
                                   ("post", "/events/{event_id}/tallies/{tally_id}/bump", bumped),
                                   ("get", "/events/{event_id}/attendance", figures)]:
        assert_documented(doc, method, path, response)


def test_figures_of_one_session(client, tour, staff_token):
    with tour.clock(tour.afternoon):
        scan(client, tour, staff_token, tour.ticket(party=2, session=tour.afternoon),
             session_id=tour.afternoon)
    morning = client.get(door_path(tour, f"attendance?session_id={tour.morning}"),
                         headers=staff_token).get_json()
    afternoon = client.get(door_path(tour, f"attendance?session_id={tour.afternoon}"),
                           headers=staff_token).get_json()
    assert (morning["admitted_people"], afternoon["admitted_people"]) == (0, 2)
    assert afternoon["session_id"] == tour.afternoon


@pytest.mark.parametrize("query", ["session_id=abc", "session_id=99999999999",
                                   "session_id=999999"])
def test_figures_of_a_session_that_is_not_the_events_are_422(client, tour, staff_token, query):
    response = client.get(door_path(tour, f"attendance?{query}"), headers=staff_token)
    assert response.status_code == 422
    assert "session_id" in response.get_json()["errors"]


@pytest.mark.parametrize("body, field", [
    ({"people": 0}, "people"), ({}, "people"), ({"people": "many"}, "people"),
    ({"people": 2, "phone": "110"}, "phone"), ({"people": 2, "name": 7}, "name"),
    ({"people": 2, "session_id": 999_999}, "session_id"),
])
def test_a_bad_walk_in_is_422(client, tour, staff_token, doc, body, field):
    response = client.post(door_path(tour, "walk-ins"), headers=staff_token,
                           json={"session_id": tour.morning, **body})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert_documented(doc, "post", "/events/{event_id}/walk-ins", response)


@pytest.mark.parametrize("body", [{"by": 0}, {"by": "one"}, {"by": 5000}])
def test_a_bad_bump_is_422(app, client, tour, staff_token, body):
    response = client.post(door_path(tour, f"tallies/{tally_id(app, tour, '咨询')}/bump"),
                           headers=staff_token, json=body)
    assert response.status_code == 422


def test_a_tally_of_another_event_is_404(app, client, factory, tour, staff_token, doc):
    other = make_door(app, factory, title="另一场活动")
    response = client.post(door_path(tour, f"tallies/{tally_id(app, other, '咨询')}/bump"),
                           headers=staff_token, json={"by": 1})
    assert response.status_code == 404
    assert_documented(doc, "post", "/events/{event_id}/tallies/{tally_id}/bump", response)


def test_a_family_without_its_code_is_found_by_name_or_phone(client, tour, staff_token, doc):
    code = tour.ticket(name="欧阳娜娜", phone="13712345678")
    by_name = client.get(door_path(tour, "search?q=欧阳"), headers=staff_token)
    by_phone = client.get(door_path(tour, f"search?q=5678&session_id={tour.morning}"),
                          headers=staff_token)
    with tour.app.app_context():
        ticket_id = db.session.scalar(select(Registration.id).filter_by(code=code))
    assert [t["ticket_id"] for t in by_name.get_json()["tickets"]] == [ticket_id]
    assert [t["phone_masked"] for t in by_phone.get_json()["tickets"]] == ["137****5678"]
    assert "13712345678" not in by_phone.get_data(as_text=True)
    assert code not in by_name.get_data(as_text=True) + by_phone.get_data(as_text=True)
    assert_documented(doc, "get", "/events/{event_id}/search", by_name)


@pytest.mark.parametrize("path", ["attendance", "search?q=张", "walk-ins", "tallies/1/bump"])
def test_the_door_routes_need_rights_too(client, factory, tour, path):
    method = client.get if path.startswith(("attendance", "search")) else client.post
    assert method(door_path(tour, path), json={"people": 1}).status_code == 401
    _id, email = factory.user("organiser", org="静安区市场监督管理局", district="静安区")
    forbidden = method(door_path(tour, path), json={"people": 1},
                       headers=bearer(token_for(client, email)))
    assert forbidden.status_code == 403
    unknown = method(f"/api/v1/events/999999/{path}", json={"people": 1},
                     headers=bearer(token_for(client, tour.staff_email)))
    assert unknown.status_code == 404


# --- tallies and re-entry in the event's JSON -----------------------------------------------------


def test_an_event_is_created_with_tallies_and_re_entry_and_reads_them_back(client, factory,
                                                                           doc):
    _id, email = factory.user("organiser", org=BUREAU)
    headers = bearer(token_for(client, email))
    created = client.post("/api/v1/events", headers=headers, json=event_body(
        status="published", allow_reentry=True,
        tallies=[{"name": "血压测量"}, {"name": "资料发放"}]))
    assert created.status_code == 201, created.get_json()
    event = client.get(f"/api/v1/events/{created.get_json()['id']}").get_json()
    assert event["allow_reentry"] is True
    assert [t["name"] for t in event["tallies"]] == ["血压测量", "资料发放"]
    listed = client.get("/api/v1/events")
    assert listed.get_json()["events"][0]["tallies"] == event["tallies"]
    assert_documented(doc, "post", "/events", created)
    assert_documented(doc, "get", "/events", listed)


@pytest.mark.parametrize("body, field", [
    ({"allow_reentry": "yes"}, "allow_reentry"),
    ({"tallies": "血压测量"}, "tallies"),
    ({"tallies": [{"name": "咨询"}, {"name": "咨询"}]}, "tallies"),
    ({"tallies": [{"name": 3}]}, "tallies.0.name"),
])
def test_bad_tallies_or_re_entry_are_422(client, factory, body, field):
    _id, email = factory.user("organiser", org=BUREAU)
    response = client.post("/api/v1/events", headers=bearer(token_for(client, email)),
                           json=event_body(**body))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
