"""The door's ticket list for scanning offline (GET /api/v1/events/<id>/door-list): who may
download it, what it holds (verifiers, never a code; masked names; phone tails; the answers shown
at the door), its key per event and account, the delta after scans and cancellations, a forged
cursor, gzip; and the door answers in a single scan's answer."""
from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from qmevents.extensions import db
from qmevents.models import (
    Answer,
    DoorDevice,
    Event,
    EventSession,
    Question,
    QuestionKind,
    Registration,
    RegistrationMode,
    User,
)
from qmevents.services import devices, events, identity
from qmevents.services.door import ticket_list
from qmevents.services.registrations import cancellation
from qmevents.timeutil import utcnow

from .conftest import csrf_from, login, submit
from .test_api import assert_documented, bearer, token_for
from .test_api_checkins import CHECKINS, scan
from .test_checkin import BUREAU, Door, make_door

# The contract's test vector, shared with the door's JavaScript tests.
VECTOR_KEY = bytes(range(32))
VECTOR_CODE = "ABCDEFGHJKMNPQRSTVWX"
VECTOR_V = "4c5008bae18e9cc8"
ID_NUMBER = "11010519491231002X"  # a valid resident ID number (GB 11643 check digit)


@pytest.fixture
def tour(app, factory) -> Iterator[Door]:
    """The tour, its door working on the day of the event."""
    tour = make_door(app, factory)
    with tour.clock():
        yield tour


@pytest.fixture
def staff_token(client, tour) -> dict[str, str]:
    return bearer(token_for(client, tour.staff_email))


@pytest.fixture
def doc(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def door_list(client, tour, headers, since: str | None = None, **extra_headers):
    path = f"/api/v1/events/{tour.event_id}/door-list?lang=en"
    if since is not None:
        path += f"&since={since}"
    return client.get(path, headers={**headers, **extra_headers})


def ticket_id_of(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Registration.id).filter_by(code=code))


def add_question(app, event_id: int, label: str, kind: QuestionKind = QuestionKind.TEXT,
                 show_at_door: bool = True) -> int:
    with app.app_context():
        position = len(db.session.scalars(select(Question.id).filter_by(
            event_id=event_id)).all())
        question = Question(event_id=event_id, position=position, kind=kind, label=label,
                            required=False, show_at_door=show_at_door)
        db.session.add(question)
        db.session.commit()
        return question.id


def answer(app, code: str, question_id: int, value: str) -> None:
    with app.app_context():
        registration_id = db.session.scalar(select(Registration.id).filter_by(code=code))
        db.session.add(Answer(registration_id=registration_id, question_id=question_id,
                              value=value))
        db.session.commit()


def by_id(body: dict) -> dict[int, dict]:
    return {t["ticket_id"]: t for t in body["tickets"]}


# --- the test vector and the helpers ------------------------------------------------------------


def test_the_contracts_test_vector():
    assert ticket_list.verifier(VECTOR_KEY, VECTOR_CODE) == VECTOR_V
    assert hmac.new(VECTOR_KEY, VECTOR_CODE.encode(), hashlib.sha256).hexdigest()[:16] == VECTOR_V


@pytest.mark.parametrize("name, masked", [
    ("张明", "张*"), ("张小明", "张*明"), ("欧阳娜娜", "欧*娜"), ("王", "王*"),
    ("John Smith", "J*h"), ("Li", "L*"), ("买买提·艾力", "买*力"), ("", ""),
])
def test_names_are_masked(name, masked):
    assert identity.mask_name(name) == masked


@pytest.mark.parametrize("kind, value, shown", [
    (QuestionKind.TEXT, "002X", "002X"),  # 身份证后四位: as typed
    (QuestionKind.TEXT, ID_NUMBER, "…002X"),  # a whole ID number typed into a text question
    (QuestionKind.ID_CARD, ID_NUMBER, "…002X"),
    (QuestionKind.TEXT, "上海质检院", "上海质检院"),
])
def test_door_values(kind, value, shown):
    assert ticket_list.door_value(kind, value) == shown


# --- who may download it ------------------------------------------------------------------------


def test_without_credentials_it_is_401(client, tour, doc):
    response = door_list(client, tour, {})
    assert response.status_code == 401
    assert_documented(doc, "get", "/events/{event_id}/door-list", response)


@pytest.mark.parametrize("who", ["staff of another event", "organiser of another organisation"])
def test_those_without_rights_get_403_and_no_ticket(client, factory, tour, doc, who):
    if who.startswith("staff"):
        _id, email = factory.user("staff", org=BUREAU)
    else:
        _id, email = factory.user("organiser", org="静安区市场监督管理局", district="静安区")
    tour.ticket(name="张小明")
    response = door_list(client, tour, bearer(token_for(client, email)))
    assert response.status_code == 403
    assert set(response.get_json()) == {"error", "message"}
    assert "张" not in response.get_data(as_text=True)
    assert_documented(doc, "get", "/events/{event_id}/door-list", response)


def test_an_unknown_event_is_404(client, tour, staff_token, doc):
    response = client.get("/api/v1/events/999999/door-list", headers=staff_token)
    assert response.status_code == 404
    assert_documented(doc, "get", "/events/{event_id}/door-list", response)


def test_the_door_page_downloads_it_with_its_session_and_csrf_header(client, tour):
    tour.ticket()
    login(client, tour.staff_email)
    token = csrf_from(client.get("/organiser/").get_data(as_text=True))
    assert door_list(client, tour, {}).status_code == 401
    response = door_list(client, tour, {"X-CSRFToken": token})
    assert response.status_code == 200
    assert len(response.get_json()["tickets"]) == 1


# --- what it holds ------------------------------------------------------------------------------


def test_the_whole_list_masked_with_verifiers_and_never_a_code(app, client, tour, staff_token,
                                                               doc):
    shown = add_question(app, tour.event_id, "身份证后四位")
    id_card = add_question(app, tour.event_id, "身份证号码", QuestionKind.ID_CARD)
    hidden = add_question(app, tour.event_id, "您的单位", show_at_door=False)
    first = tour.ticket(party=3, name="张小明", phone="13812345678")
    second = tour.ticket(party=2, name="John Smith", phone="13900001111",
                         session=tour.afternoon)
    answer(app, first, shown, "002X")
    answer(app, first, id_card, ID_NUMBER)
    answer(app, first, hidden, "甲局机密单位")
    other = make_door(app, tour.factory, title="另一场活动")
    elsewhere = other.ticket(name="李四")
    response = door_list(client, tour, staff_token)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert_documented(doc, "get", "/events/{event_id}/door-list", response)
    body = response.get_json()
    text = response.get_data(as_text=True)
    for secret in (first, second, elsewhere, "13812345678", "13900001111", "张小明",
                   "John Smith", ID_NUMBER, "甲局机密单位", "您的单位"):
        assert secret not in text
    assert body["event_id"] == tour.event_id
    assert body["full"] is True
    key = base64.urlsafe_b64decode(body["key"] + "=")
    assert len(key) == 32
    tickets = by_id(body)
    assert set(tickets) == {ticket_id_of(app, first), ticket_id_of(app, second)}
    one = tickets[ticket_id_of(app, first)]
    assert one == {
        "ticket_id": ticket_id_of(app, first),
        "v": hmac.new(key, first.encode(), hashlib.sha256).hexdigest()[:16],
        "session_id": tour.morning, "status": "confirmed", "party_size": 3,
        "admitted_people": 0, "name": "张*明", "phone_tail": "5678",
        "door_answers": [{"label": "身份证后四位", "value": "002X"},
                         {"label": "身份证号码", "value": "…002X"}],
    }
    two = tickets[ticket_id_of(app, second)]
    assert (two["name"], two["phone_tail"], two["session_id"], two["door_answers"]) == (
        "J*h", "1111", tour.afternoon, [])
    assert two["v"] == ticket_list.verifier(key, second)


def test_the_key_differs_per_event_and_per_account(app, client, factory, tour, staff_token):
    tour.ticket()
    organiser = bearer(token_for(client, factory.user("organiser", org=BUREAU)[1]))
    other = make_door(app, factory, title="另一场活动")
    other.ticket()
    staff_other = bearer(token_for(client, other.staff_email))
    mine = door_list(client, tour, staff_token).get_json()
    theirs = door_list(client, tour, organiser).get_json()
    again = door_list(client, tour, staff_token).get_json()
    other_event = door_list(client, other, staff_other).get_json()
    assert mine["key"] == again["key"]
    assert len({mine["key"], theirs["key"], other_event["key"]}) == 3
    assert mine["tickets"][0]["v"] != theirs["tickets"][0]["v"]


# --- the delta ----------------------------------------------------------------------------------


def age(app, seconds: int = 3600) -> None:
    """Every registration last changed an hour ago (as if the list had been downloaded long
    after): a delta then shows only what changes now."""
    with app.app_context():
        db.session.execute(update(Registration).values(
            updated_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


def older_cursor(event_id: int, app, seconds: int = 600) -> str:
    with app.app_context():
        return ticket_list.make_cursor(event_id, utcnow() - timedelta(seconds=seconds))


def test_a_delta_after_a_scan_and_a_cancellation_shows_those_tickets(app, client, tour,
                                                                     staff_token, doc):
    scanned, cancelled, quiet = tour.ticket(), tour.ticket(), tour.ticket()
    age(app)
    cursor = older_cursor(tour.event_id, app)
    assert door_list(client, tour, staff_token, cursor).get_json()["tickets"] == []
    assert scan(client, tour, staff_token, scanned).get_json()["result"] == "admitted"
    with app.app_context():
        cancellation.cancel(cancelled)
    response = door_list(client, tour, staff_token, cursor)
    assert_documented(doc, "get", "/events/{event_id}/door-list", response)
    delta = response.get_json()
    assert delta["full"] is False
    tickets = by_id(delta)
    assert set(tickets) == {ticket_id_of(app, scanned), ticket_id_of(app, cancelled)}
    assert tickets[ticket_id_of(app, scanned)]["admitted_people"] == 3
    assert tickets[ticket_id_of(app, cancelled)]["status"] == "cancelled"
    assert ticket_id_of(app, quiet) not in tickets
    # The answer's own cursor: the same changes again within the minute's overlap.
    fresh = door_list(client, tour, staff_token, delta["cursor"]).get_json()
    assert set(by_id(fresh)) == set(tickets)


def test_an_undone_admission_comes_in_the_delta(app, client, tour, staff_token):
    code = tour.ticket()
    admission_id = scan(client, tour, staff_token, code).get_json()["admission_id"]
    age(app)
    cursor = older_cursor(tour.event_id, app)
    assert client.post(f"{CHECKINS}/{admission_id}/undo", headers=staff_token).status_code == 200
    tickets = by_id(door_list(client, tour, staff_token, cursor).get_json())
    assert tickets[ticket_id_of(app, code)]["admitted_people"] == 0


def test_a_promotion_from_the_waiting_list_comes_in_the_delta(app, client, tour, staff_token):
    with app.app_context():
        db.session.execute(update(Event).where(Event.id == tour.event_id).values(
            registration_mode=RegistrationMode.WAITLIST))
        db.session.execute(update(EventSession).where(EventSession.id == tour.morning).values(
            capacity=3))
        db.session.commit()
    first, waiting = tour.ticket(party=3), tour.ticket(party=2)
    statuses = by_id(door_list(client, tour, staff_token).get_json())
    assert statuses[ticket_id_of(app, waiting)]["status"] == "waitlisted"
    age(app)
    cursor = older_cursor(tour.event_id, app)
    with app.app_context():
        cancellation.cancel(first)
    tickets = by_id(door_list(client, tour, staff_token, cursor).get_json())
    assert tickets[ticket_id_of(app, first)]["status"] == "cancelled"
    assert tickets[ticket_id_of(app, waiting)]["status"] in ("offered", "confirmed")


def test_a_new_registration_comes_in_the_delta(app, client, tour, staff_token):
    tour.ticket()
    cursor = door_list(client, tour, staff_token).get_json()["cursor"]
    age(app)
    new = tour.ticket(name="王芳")
    tickets = by_id(door_list(client, tour, staff_token, cursor).get_json())
    assert list(tickets) == [ticket_id_of(app, new)]
    assert tickets[ticket_id_of(app, new)]["name"] == "王*"


def test_a_cancelled_event_sends_every_ticket_cancelled(app, client, tour, staff_token):
    codes = [tour.ticket(), tour.ticket()]
    age(app)
    cursor = older_cursor(tour.event_id, app)
    with app.app_context():
        events.cancel(db.session.get(Event, tour.event_id))
    for since in (None, cursor):
        body = door_list(client, tour, staff_token, since).get_json()
        assert set(by_id(body)) == {ticket_id_of(app, c) for c in codes}
        assert {t["status"] for t in body["tickets"]} == {"cancelled"}


@pytest.mark.parametrize("cursor", [
    "", "abc", "123", "1700000000000000.0000000000000000", "-5.abcdefabcdefabcd",
    "9" * 20 + ".0123456789abcdef", "1.2.3", "%00", "１２３.abcdefabcdefabcd",
])
def test_a_forged_cursor_is_422(app, client, tour, staff_token, doc, cursor):
    response = door_list(client, tour, staff_token, cursor)
    assert response.status_code == 422
    assert "since" in response.get_json()["errors"]
    assert_documented(doc, "get", "/events/{event_id}/door-list", response)


def test_a_cursor_of_another_event_is_422(app, client, factory, tour, staff_token):
    other = make_door(app, factory, title="另一场活动")
    cursor = door_list(client, other, bearer(token_for(client, other.staff_email))).get_json()[
        "cursor"]
    assert door_list(client, tour, staff_token, cursor).status_code == 422


# --- gzip ---------------------------------------------------------------------------------------


def test_gzip_round_trip(app, client, tour, staff_token):
    for n in range(30):
        tour.ticket(party=1, name=f"张{'一二三四五六七八九十'[n % 10]}明")
    plain = door_list(client, tour, staff_token)
    zipped = door_list(client, tour, staff_token, None, **{"Accept-Encoding": "gzip, br"})
    refused = door_list(client, tour, staff_token, None, **{"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in plain.headers
    assert "Content-Encoding" not in refused.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"].count("Accept-Encoding") == 1
    body = json.loads(gzip.decompress(zipped.get_data()))
    assert len(plain.get_data()) > 1400 > len(zipped.get_data())
    expected = plain.get_json()
    assert {k: v for k, v in body.items() if k not in ("cursor", "server_time")} == {
        k: v for k, v in expected.items() if k not in ("cursor", "server_time")}


def test_a_small_list_is_not_compressed(client, tour, staff_token):
    tour.ticket()
    response = door_list(client, tour, staff_token, None, **{"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
    assert len(response.get_json()["tickets"]) == 1


# --- the single scan's answer shows the door answers --------------------------------------------


def test_a_scan_answer_shows_the_door_answers_only(app, client, factory, tour, staff_token, doc):
    shown = add_question(app, tour.event_id, "身份证号码", QuestionKind.ID_CARD)
    hidden = add_question(app, tour.event_id, "您的单位", show_at_door=False)
    code = tour.ticket()
    answer(app, code, shown, ID_NUMBER)
    answer(app, code, hidden, "甲局机密单位")
    response = scan(client, tour, staff_token, code)
    assert response.get_json()["ticket"]["door_answers"] == [
        {"label": "身份证号码", "value": "…002X"}]
    assert ID_NUMBER not in response.get_data(as_text=True)
    assert "甲局机密单位" not in response.get_data(as_text=True)
    assert_documented(doc, "post", "/checkins", response)
    # Another event's ticket: nothing of its answers.
    other = make_door(app, factory, title="另一场活动")
    other_question = add_question(app, other.event_id, "身份证后四位")
    elsewhere = other.ticket()
    answer(app, elsewhere, other_question, "1234")
    foreign = scan(client, tour, staff_token, elsewhere).get_json()
    assert foreign["result"] == "wrong_event"
    assert foreign["ticket"]["door_answers"] == []


# --- the organiser chooses the questions shown at the door --------------------------------------


def ticked(html: str, name: str) -> bool | None:
    """Whether the page's checkbox `name` is ticked; None when the page has none."""
    match = re.search(f'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    return None if match is None else " checked" in match.group(0)


def test_the_organiser_ticks_show_at_door_and_the_door_lists_take_it(app, client, factory,
                                                                      tour, staff_token):
    code = tour.ticket()
    question = add_question(app, tour.event_id, "身份证后四位", show_at_door=False)
    answer(app, code, question, "002X")
    cursor = door_list(client, tour, staff_token).get_json()["cursor"]
    assert by_id(door_list(client, tour, staff_token).get_json())[
        ticket_id_of(app, code)]["door_answers"] == []
    age(app)
    login(client, factory.user("organiser", org=BUREAU)[1])
    page = f"/organiser/events/{tour.event_id}/questions"
    assert ticked(client.get(page).get_data(as_text=True), "questions-0-show_at_door") is False
    response = submit(client, page, {
        "action": "save", "questions-0-id": str(question), "questions-0-label": "身份证后四位",
        "questions-0-kind": "text", "questions-0-options": "",
        "questions-0-show_at_door": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert ticked(client.get(page).get_data(as_text=True), "questions-0-show_at_door") is True
    with app.app_context():
        assert db.session.get(Question, question).show_at_door is True
    # Nothing of the ticket changed, yet the devices' next delta brings its door answers.
    tickets = by_id(door_list(client, tour, staff_token, cursor).get_json())
    assert tickets[ticket_id_of(app, code)]["door_answers"] == [
        {"label": "身份证后四位", "value": "002X"}]


def test_the_door_page_without_javascript_shows_the_door_answers(app, client, tour):
    shown = add_question(app, tour.event_id, "身份证号码", QuestionKind.ID_CARD)
    hidden = add_question(app, tour.event_id, "您的单位", show_at_door=False)
    code = tour.ticket()
    answer(app, code, shown, ID_NUMBER)
    answer(app, code, hidden, "甲局机密单位")
    login(client, tour.staff_email)
    page = f"/door/events/{tour.event_id}?session_id={tour.morning}"
    response = submit(client, f"/door/events/{tour.event_id}",
                      {"code": code, "session_id": tour.morning,
                       "checkpoint_id": tour.entrance}, page=page)
    html = response.get_data(as_text=True)
    assert "tone-ok" in html
    assert '<dl class="answer-door"><dt>身份证号码</dt><dd>…002X</dd></dl>' in html
    assert ID_NUMBER not in html and "甲局机密单位" not in html


def test_the_list_costs_the_same_statements_whatever_its_size(app, client, tour):
    """Two statements for the tickets and their door answers, however many tickets: 5,000 are
    downloaded in tens of milliseconds (benchmarks/checkin.py measures it)."""
    question = add_question(app, tour.event_id, "身份证后四位")

    def statements() -> int:
        with app.app_context():
            seen: list[str] = []
            listen = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listen)
            try:
                staff = db.session.get(User, tour.staff_id)
                ticket_list.ticket_list(tour.event_id, staff)
            finally:
                event.remove(db.engine, "before_cursor_execute", listen)
            return len(seen)

    answer(app, tour.ticket(), question, "1234")
    few = statements()
    for _n in range(20):
        answer(app, tour.ticket(party=1), question, "5678")
    assert statements() == few


def test_a_paired_device_has_its_own_key_and_a_revoked_one_gets_no_list(app, client, tour,
                                                                        staff_token):
    tour.ticket()
    api = app.test_client()
    organiser_id = tour.factory.user("organiser", org=BUREAU)[0]
    with app.app_context():
        pairing = devices.add(db.session.get(Event, tour.event_id), "东门 2 号机",
                              db.session.get(User, organiser_id))
    answer_ = api.post("/api/v1/devices/pair", json={"secret": pairing.url.rsplit("/", 1)[1]})
    assert answer_.status_code == 201, answer_.get_json()
    device = bearer(answer_.get_json()["token"])
    mine = door_list(client, tour, device)
    assert mine.status_code == 200
    assert mine.get_json()["key"] != door_list(client, tour, staff_token).get_json()["key"]
    with app.app_context():
        device_id = db.session.scalar(select(DoorDevice.id))
        devices.revoke(db.session.get(Event, tour.event_id), device_id,
                       db.session.get(User, organiser_id))
    assert door_list(client, tour, device).status_code in (401, 403)
