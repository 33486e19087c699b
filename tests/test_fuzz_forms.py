"""Property-based inputs (hypothesis) into the main forms, with CSRF on: Chinese, emoji, control
characters, NUL bytes, huge strings, numbers at the int64 edges and dates that do not exist.
Whatever is typed, the answer is a page (200, 303 after a save, or a 4xx with messages), never a
server error, and what was saved before is still there, unchanged and consistent.

Bounded for CI: a few dozen examples per form, derandomized, no deadline.
"""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmevents.extensions import db
from qmevents.models import (
    HOLDS_PLACES,
    Answer,
    Event,
    EventSession,
    Question,
    Registration,
    StaffAssignment,
    Tally,
)
from qmevents.services import events
from qmevents.services.registrations import questions
from qmevents.services.registrations import register as registrations
from qmevents.timeutil import utcnow

from .conftest import PASSWORD, csrf_from, login

EXAMPLES = int(os.environ.get("QMEVENTS_FUZZ_EXAMPLES", "30"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck), print_blob=True)

# What people, scripts and broken keyboards send.
ODD_TEXT = [
    "", " ", "\x00", "王\x00芳", "\r\n\r\n", "\t", "\x1b[31m红", "\u202e反向", "\ufeff", "\x7f",
    "😀" * 12, "👨‍👩‍👧‍👦", "测" * 400, "x" * 70_000, "<script>alert(1)</script>",
    "' OR 1=1 --", "%00", "{{ 7*7 }}", "null", "\\", "  王芳  ",
]
ODD_NUMBERS = [
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "2147483648",
    "-2147483649", "18446744073709551616", "-1", "0", "1e309", "NaN", "inf", "1.5", "²", "①",
    "１２３", "٣", "0x10", "+1", " 7 ", "99999999999999999999999999999999",
]
ODD_DATES = [
    "2025-02-30T10:00", "2025-13-01T10:00", "0000-01-01T00:00", "0001-01-01 00:00",
    "9999-12-31T23:59", "1970-01-01T00:00", "2038-01-19T03:14", "2025-09-20T24:00",
    "２０２５-09-20T10:00", "2025/09/20 10:00", "2025-09-20", "-2025-09-20T10:00",
]
CJK = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=30)
CONTROL = st.text(st.characters(codec="utf-8", categories=["Cc"]), max_size=8)
TEXT = st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=40), CJK, CONTROL,
                 st.sampled_from(ODD_NUMBERS), st.sampled_from(ODD_DATES))
NUMBER = st.one_of(st.sampled_from(ODD_NUMBERS), st.integers().map(str), TEXT)
DATE = st.one_of(st.sampled_from(ODD_DATES), st.datetimes().map(lambda d: d.isoformat()[:16]),
                 TEXT)
PHONE = st.one_of(st.from_regex(r"\A1[3-9][0-9]{9}\Z"), TEXT)


# --- the saved world that must survive -------------------------------------------------------


@pytest.fixture
def world(app, factory):
    """Org A's published event with a question, a tally, door staff and two families."""
    start = (utcnow() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    sessions = [events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=3),
                                    capacity=500)]
    event_id = factory.event(sessions=sessions, tallies=["血压测量"], checkpoints=["入口", "展厅"])
    _organiser, organiser_email = factory.user("organiser")
    staff_id, staff_email = factory.user("staff")
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        questions.set_questions(event, [questions.QuestionDraft("您的单位", "text", required=False)])
        db.session.add(StaffAssignment(user_id=staff_id, event_id=event_id))
        db.session.commit()
        session_id = event.sessions[0].id
        for name, phone in (("王芳", "13800001234"), ("李强", "13900005678")):
            registrations.register(registrations.RegistrationRequest(
                event_id=event_id, session_id=session_id, name=name, phone=phone, party_size=2,
                consent=True))
        return {"event_id": event_id, "session_id": session_id,
                "question_id": event.questions[0].id, "tally_id": event.tallies[0].id,
                "checkpoint_id": event.checkpoints[0].id, "organiser": organiser_email,
                "staff": staff_email, "saved": saved(app)}


def saved(app) -> dict:
    """The registrations as they were made, and the tallies."""
    with app.app_context():
        state = {
            "registrations": db.session.execute(
                db.select(Registration.code, Registration.name, Registration.phone,
                          Registration.party_size, Registration.session_id)
                .order_by(Registration.id).limit(2)).all(),
            "answers": db.session.scalar(db.select(db.func.count(Answer.id))),
        }
        db.session.remove()
        return state


def assert_consistent(app, world: dict) -> None:
    """Nothing saved before is lost or changed, and every session's places taken still equal
    the people holding places in it."""
    now = saved(app)
    assert now["registrations"] == world["saved"]["registrations"]
    assert now["answers"] >= world["saved"]["answers"]
    with app.app_context():
        held = dict(db.session.execute(
            db.select(Registration.session_id, db.func.sum(Registration.party_size))
            .where(Registration.status.in_(HOLDS_PLACES)).group_by(Registration.session_id)).all())
        for session in db.session.scalars(db.select(EventSession)):
            assert session.places_taken == (held.get(session.id) or 0), session
        assert db.session.scalar(db.select(db.func.count(Question.id))) >= 1
        assert all(t.count >= 0 for t in db.session.scalars(db.select(Tally)))
        db.session.remove()


def assert_answered(response, *ok: int) -> None:
    """A page with messages or a redirect after a save: never a server error."""
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    if ok:
        assert response.status_code in ok, response.status_code
    if response.status_code != 303 and response.status_code != 302:
        assert response.mimetype in ("text/html", "application/json"), response.mimetype


def browser(app, email: str | None = None, page: str = "/login"):
    client = app.test_client()
    client.set_cookie("lang", "en")
    if email:
        login(client, email, PASSWORD)
        page = "/organiser/" if page == "/login" else page
    return client, csrf_from(client.get(page).get_data(as_text=True))


# --- citizens ------------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_the_registration_form_takes_anything_typed(app, world, data):
    url = f"/events/{world['event_id']}/sessions/{world['session_id']}/register"
    client, token = browser(app, page=url)
    form = {"csrf_token": token, "name": data.draw(TEXT), "phone": data.draw(PHONE),
            "party_size": data.draw(NUMBER), "consent": data.draw(st.sampled_from(["y", ""]) | TEXT),
            f"q_{world['question_id']}": data.draw(TEXT)}
    assert_answered(client.post(url, data=form), 303, 400, 409)
    assert_consistent(app, world)


@FUZZ
@given(phone=PHONE, code=TEXT)
def test_find_my_tickets_takes_anything_typed(app, world, phone, code):
    client, token = browser(app, page="/my-tickets")
    assert_answered(client.post("/my-tickets", data={"csrf_token": token, "phone": phone}),
                    303, 400)
    assert_answered(client.post("/my-tickets/verify", data={"csrf_token": token, "code": code}),
                    200, 302, 303, 400)
    assert_consistent(app, world)


@FUZZ
@given(email=TEXT, password=TEXT, next_page=TEXT)
def test_the_sign_in_form_takes_anything_typed(app, world, email, password, next_page):
    client, token = browser(app)
    response = client.post("/login", data={"csrf_token": token, "email": email,
                                           "password": password, "next": next_page})
    assert_answered(response, 400)


@FUZZ
@given(district=TEXT, kind=TEXT, date_from=DATE, date_to=DATE, page=NUMBER)
def test_the_public_list_filters_take_anything(app, world, district, kind, date_from, date_to,
                                               page):
    response = app.test_client().get("/", query_string={
        "district": district, "kind": kind, "date_from": date_from, "date_to": date_to,
        "page": page})
    assert_answered(response, 200, 400)


# --- organisers ----------------------------------------------------------------------------------


def _event_form(data, token: str, session_id: str = "") -> dict:
    form = {"csrf_token": token, "title": data.draw(TEXT), "kind": data.draw(TEXT),
            "district": data.draw(st.sampled_from(["杨浦区", ""]) | TEXT),
            "venue": data.draw(TEXT), "address": data.draw(TEXT), "host": data.draw(TEXT),
            "description": data.draw(TEXT), "max_party_size": data.draw(NUMBER),
            "registration_mode": data.draw(st.sampled_from(["fcfs", "approval"]) | TEXT),
            "checkpoints": data.draw(TEXT), "tallies": data.draw(TEXT),
            "allow_reentry": data.draw(st.sampled_from(["y", ""]))}
    for n in range(data.draw(st.integers(1, 2))):
        row = f"sessions-{n}-"
        form |= {row + "id": session_id if n == 0 else data.draw(NUMBER),
                 row + "label": data.draw(TEXT), row + "starts_at": data.draw(DATE),
                 row + "ends_at": data.draw(DATE), row + "capacity": data.draw(NUMBER),
                 row + "registration_opens_at": data.draw(DATE),
                 row + "registration_closes_at": data.draw(DATE)}
    if data.draw(st.booleans()):
        form["action"] = "publish"
    return form


@FUZZ
@given(data=st.data())
def test_the_event_form_takes_anything_typed(app, world, data):
    client, token = browser(app, world["organiser"])
    assert_answered(client.post("/organiser/events/new", data=_event_form(data, token)),
                    302, 303, 400)
    edit = f"/organiser/events/{world['event_id']}/edit"
    keep_or_odd = st.sampled_from([str(world["session_id"])]) | NUMBER
    form = _event_form(data, token, session_id=data.draw(keep_or_odd))
    assert_answered(client.post(edit, data=form), 302, 303, 400)
    assert_consistent(app, world)
    assert client.get(f"/organiser/events/{world['event_id']}").status_code == 200


@FUZZ
@given(data=st.data())
def test_the_question_form_takes_anything_typed(app, world, data):
    client, token = browser(app, world["organiser"])
    form = {"csrf_token": token}
    for n in range(data.draw(st.integers(1, 3))):
        row = f"questions-{n}-"
        form |= {row + "id": data.draw(st.sampled_from([str(world["question_id"]), ""])
                                       | NUMBER),
                 row + "label": data.draw(TEXT),
                 row + "kind": data.draw(st.sampled_from(["text", "single", "multiple",
                                                          "number", "id_card"]) | TEXT),
                 row + "required": data.draw(st.sampled_from(["y", ""])),
                 row + "options": data.draw(TEXT)}
    url = f"/organiser/events/{world['event_id']}/questions"
    assert_answered(client.post(url, data=form), 302, 303, 400)
    assert_consistent(app, world)


@FUZZ
@given(session=NUMBER, status=TEXT, search=TEXT, page=NUMBER)
def test_the_registrant_filters_take_anything(app, world, session, status, search, page):
    client, _token = browser(app, world["organiser"])
    query = {"session": session, "status": status, "search": search, "page": page}
    for path in ("registrants", "applicants"):
        response = client.get(f"/organiser/events/{world['event_id']}/{path}",
                              query_string=query)
        assert_answered(response, 200, 400)


# --- the door -------------------------------------------------------------------------------------


@FUZZ
@given(code=TEXT, people=NUMBER, session_id=NUMBER, checkpoint_id=NUMBER)
def test_the_door_typed_code_takes_anything(app, world, code, people, session_id,
                                            checkpoint_id):
    scanner = f"/door/events/{world['event_id']}"
    client, token = browser(app, world["staff"], page=scanner)
    form = {"csrf_token": token, "code": code, "people": people, "session_id": session_id,
            "checkpoint_id": checkpoint_id}
    assert_answered(client.post(scanner, data=form), 200, 400, 404, 422)
    assert_consistent(app, world)


JSON_VALUE = st.one_of(TEXT, st.integers(min_value=-(2**64), max_value=2**64),
                       st.sampled_from([2**63 - 1, -(2**63), 2**63, 2**31, 1e309, -0.0, None,
                                        True, [], {}]),
                       st.floats(allow_nan=False, allow_infinity=False))


@FUZZ
@given(name=JSON_VALUE, phone=JSON_VALUE, people=JSON_VALUE, by=JSON_VALUE, q=TEXT)
def test_the_door_walk_in_and_tally_take_anything(app, world, name, phone, people, by, q):
    """The scanner page's own calls: its session cookie and CSRF header, JSON bodies."""
    scanner = f"/door/events/{world['event_id']}"
    client, token = browser(app, world["staff"], page=scanner)
    headers = {"X-CSRFToken": token}
    api = f"/api/v1/events/{world['event_id']}"
    walk_in = {"session_id": world["session_id"], "people": people, "name": name, "phone": phone}
    assert_answered(client.post(f"{api}/walk-ins", json=walk_in, headers=headers), 201, 409, 422)
    bump = client.post(f"{api}/tallies/{world['tally_id']}/bump", json={"by": by},
                       headers=headers)
    assert_answered(bump, 200, 409, 422)
    assert_answered(client.get(f"{api}/search", query_string={"q": q}, headers=headers), 200, 422)
    assert_consistent(app, world)


# --- what the fuzzer found, kept as plain stories ----------------------------------------------


def test_a_nul_character_typed_into_a_form_gets_a_page_that_says_so(app, world):
    client, token = browser(app, page="/my-tickets")
    response = client.post("/my-tickets?lang=en", data={"csrf_token": token,
                                                       "phone": "138\x0000001234"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert app.test_client().get("/t/AB%00CD").status_code == 400


def test_a_session_in_the_year_one_is_a_message_not_a_crash(app, world):
    client, token = browser(app, world["organiser"])
    form = {"csrf_token": token, "title": "开放日", "kind": "open_day", "district": "杨浦区",
            "venue": "厂区", "address": "上海市", "max_party_size": "2",
            "registration_mode": "fcfs", "checkpoints": "入口",
            "sessions-0-starts_at": "0001-01-01 00:00", "sessions-0-ends_at": "0001-01-01 02:00",
            "sessions-0-capacity": "30"}
    response = client.post("/organiser/events/new?lang=en", data=form)
    assert response.status_code == 400
    assert "Enter a date and time" in response.get_data(as_text=True)


def test_a_tampered_row_id_is_refused_with_a_message(app, world):
    client, token = browser(app, world["organiser"])
    url = f"/organiser/events/{world['event_id']}/questions?lang=en"
    response = client.post(url, data={"csrf_token": token, "questions-0-id": "²",
                                      "questions-0-label": "您的单位", "questions-0-kind": "text"})
    assert response.status_code == 400
    assert saved(app)["answers"] == world["saved"]["answers"]
