"""A citizen registers for a session from the event page, on a phone, without JavaScript: the
form, what it refuses and why, and the message with the ticket link afterwards."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from qmevents.extensions import db
from qmevents.models import (
    Answer,
    Event,
    EventSession,
    EventStatus,
    Notification,
    Question,
    QuestionKind,
    Registration,
    RegistrationStatus,
)
from qmevents.services.messaging import backends as notify_backends
from qmevents.services.messaging import messages
from qmevents.timeutil import utcnow

from .conftest import csrf_from, submit

PHONE = "13812345678"


@pytest.fixture
def en(client):
    """The visitor chose English once; the cookie keeps it for every request."""
    client.set_cookie("lang", "en")
    return client


def first_session(app, event_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))


def open_day(app, factory, **overrides) -> tuple[int, int]:
    event_id = factory.event(**overrides)
    return event_id, first_session(app, event_id)


def form_url(event_id: int, session_id: int) -> str:
    return f"/events/{event_id}/sessions/{session_id}/register"


def family(**overrides) -> dict:
    data = {"name": "张伟", "phone": PHONE, "party_size": "3", "consent": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def send_later(client, event_id: int, session_id: int, change) -> object:
    """The form is loaded while the session takes registrations; `change` happens while the
    citizen types; then the form is sent."""
    token = csrf_from(client.get(form_url(event_id, session_id)).get_data(as_text=True))
    change()
    return client.post(form_url(event_id, session_id), data={"csrf_token": token, **family()})


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def places_taken(app, session_id: int) -> int:
    with app.app_context():
        return db.session.get(EventSession, session_id).places_taken


def change_session(app, session_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(
            update(EventSession).where(EventSession.id == session_id).values(**values))
        db.session.commit()


def text(response) -> str:
    return response.get_data(as_text=True)


# --- the happy path -------------------------------------------------------------------------


def test_a_family_of_three_registers_and_lands_on_its_ticket(app, en, factory):
    event_id, session_id = open_day(app, factory, title="威派格智慧水务质量开放日")

    response = submit(en, form_url(event_id, session_id), family())

    assert response.status_code == 303
    assert re.fullmatch(r"/t/[0-9A-Z]{20}", response.headers["Location"])
    ticket = en.get(response.headers["Location"])
    page = text(ticket)
    assert "You are registered." in page
    assert "威派格智慧水务质量开放日" in page and "3 people" in page
    assert "138****5678" in page and PHONE not in page
    assert places_taken(app, session_id) == 3


def test_the_form_asks_only_for_what_the_event_needs(app, en, factory):
    app.config["PERSONAL_DATA_DAYS"] = 45
    event_id, session_id = open_day(app, factory, max_party_size=4)

    page = text(en.get(form_url(event_id, session_id)))

    names = set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', page))
    assert names == {"csrf_token", "name", "phone", "party_size", "consent"}
    assert re.search(r'<input[^>]*autocomplete="tel"[^>]*inputmode="numeric"[^>]*type="tel"', page)
    assert re.search(r'<input[^>]*autocomplete="name"', page)
    assert re.findall(r'<option[^>]*value="(\d+)"', page) == ["1", "2", "3", "4"]
    assert re.search(r'<input[^>]*name="consent"[^>]*required', page)
    assert 'href="/privacy"' in page
    assert "delete them 45 days after it ends" in page


def test_a_waiting_list_registration_is_told_where_it_stands(app, en, factory):
    event_id, session_id = open_day(app, factory, registration_mode="waitlist")
    change_session(app, session_id, capacity=2, places_taken=2)

    response = submit(en, form_url(event_id, session_id), family())

    assert response.status_code == 303
    assert "Registration received: On the waiting list" in text(en.get(response.headers["Location"]))
    with app.app_context():
        assert db.session.scalar(select(Registration.status)) == RegistrationStatus.WAITLISTED


# --- refusals -------------------------------------------------------------------------------


def test_the_same_phone_twice_is_told_where_to_find_the_first_ticket(app, en, factory):
    event_id, session_id = open_day(app, factory)
    submit(en, form_url(event_id, session_id), family())

    again = submit(en, form_url(event_id, session_id), family(phone="138 1234 5678",
                                                             party_size="1"))

    assert again.status_code == 409
    page = text(again)
    assert "This phone number already has a registration for this session." in page
    assert re.search(r'<a class="button small" href="/my-tickets">', page)
    assert count(app, Registration) == 1 and places_taken(app, session_id) == 3


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phone": "1381234567"}, "phone", "Enter a mainland mobile number of 11 digits"),
        ({"phone": "23812345678"}, "phone", "Enter a mainland mobile number of 11 digits"),
        ({"phone": "138-abcd-5678"}, "phone", "Enter a mainland mobile number of 11 digits"),
        ({"name": "    "}, "name", "Enter the name of the person registering."),
        ({"name": "张" * 500}, "name", "A name holds letters"),
        ({"name": "<script>alert(1)</script>"}, "name", "A name holds letters"),
        ({"party_size": "0"}, "party_size", "A party is 1 to 4 people for this event."),
        ({"party_size": "99"}, "party_size", "A party is 1 to 4 people for this event."),
        ({"party_size": "three"}, "party_size", "A party is 1 to 4 people for this event."),
        ({"consent": None}, "consent", "Please agree to the privacy notice to register."),
    ],
)
def test_bad_input_gets_its_message_and_nothing_is_saved(app, en, factory, overrides, field,
                                                          message):
    event_id, session_id = open_day(app, factory, max_party_size=4)

    response = submit(en, form_url(event_id, session_id), family(**overrides))

    assert response.status_code == 400
    page = text(response)
    assert re.search(rf'<p class="error" id="{field}-error">{re.escape(message)}', page)
    assert count(app, Registration) == 0 and places_taken(app, session_id) == 0


def test_what_was_typed_stays_in_the_form(app, en, factory):
    event_id, session_id = open_day(app, factory)

    page = text(submit(en, form_url(event_id, session_id), family(phone="1381234", consent=None)))

    assert 'value="张伟"' in page and 'value="1381234"' in page
    assert re.search(r'<option selected value="3">|<option value="3" selected', page)


def test_markup_in_the_name_is_refused_and_shown_as_text(app, en, factory):
    event_id, session_id = open_day(app, factory)

    page = text(submit(en, form_url(event_id, session_id),
                       family(name='"><img src=x onerror=alert(1)>')))

    assert "<img src=x" not in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert count(app, Registration) == 0


def test_a_session_of_another_event_is_not_found(app, en, factory):
    event_id, _ = open_day(app, factory)
    _, other_session = open_day(app, factory, title="另一场活动")

    assert en.get(form_url(event_id, other_session)).status_code == 404
    assert submit(en, form_url(event_id, other_session), family(),
                  page=form_url(*open_day(app, factory))).status_code == 404
    assert count(app, Registration) == 0


def test_a_draft_event_has_no_registration_page(app, en, factory):
    event_id, session_id = open_day(app, factory, publish=False)

    assert en.get(form_url(event_id, session_id)).status_code == 404


def test_a_closed_window_gives_its_reason_and_no_form(app, en, factory):
    event_id, session_id = open_day(app, factory)

    refused = send_later(en, event_id, session_id, lambda: change_session(
        app, session_id, registration_closes_at=utcnow() - timedelta(hours=1)))
    page = en.get(form_url(event_id, session_id))

    assert "Registration for this session has closed." in text(page)
    assert 'name="phone"' not in text(page)
    assert refused.status_code == 409
    assert "Registration for this session has closed." in text(refused)
    assert count(app, Registration) == 0


def test_a_window_not_yet_open_says_so(app, en, factory):
    event_id, session_id = open_day(app, factory)

    refused = send_later(en, event_id, session_id, lambda: change_session(
        app, session_id, registration_opens_at=utcnow() + timedelta(days=1)))

    assert refused.status_code == 409
    assert "Registration for this session has not opened yet." in text(refused)


def test_a_full_session_gives_its_reason(app, en, factory):
    event_id, session_id = open_day(app, factory)

    refused = send_later(en, event_id, session_id, lambda: change_session(
        app, session_id, capacity=5, places_taken=5))

    assert refused.status_code == 409
    assert "This session is full." in text(refused)
    assert count(app, Registration) == 0


def test_a_party_larger_than_the_places_left_keeps_the_form_to_choose_fewer(app, en, factory):
    event_id, session_id = open_day(app, factory)
    change_session(app, session_id, capacity=5, places_taken=3)

    refused = submit(en, form_url(event_id, session_id), family(party_size="3"))

    assert refused.status_code == 409
    page = text(refused)
    assert "Only 2 places are left in this session" in page
    assert 'name="party_size"' in page
    assert places_taken(app, session_id) == 3


def test_a_cancelled_event_gives_its_reason(app, en, factory):
    event_id, session_id = open_day(app, factory)

    def cancel_event():
        with app.app_context():
            db.session.get(Event, event_id).status = EventStatus.CANCELLED
            db.session.commit()

    refused = send_later(en, event_id, session_id, cancel_event)

    assert refused.status_code == 409
    assert "This event has been cancelled." in text(refused)


def test_a_session_that_has_started_gives_its_reason(app, en, factory):
    event_id, session_id = open_day(app, factory)
    start = utcnow() - timedelta(minutes=30)
    change_session(app, session_id, starts_at=start, ends_at=start + timedelta(hours=2))

    page = en.get(form_url(event_id, session_id))

    assert "This session has already started." in text(page)


# --- the event's own questions --------------------------------------------------------------


@pytest.fixture
def with_questions(app, factory):
    """An open day that asks for an ID card, an age group, interests, children and a remark."""
    event_id, session_id = open_day(app, factory)
    with app.app_context():
        questions = [
            Question(event_id=event_id, position=0, kind=QuestionKind.ID_CARD, label="身份证号"),
            Question(event_id=event_id, position=1, kind=QuestionKind.SINGLE, label="年龄段",
                     options="18岁以下\n18-60岁\n60岁以上"),
            Question(event_id=event_id, position=2, kind=QuestionKind.MULTIPLE, label="感兴趣的内容",
                     options="生产线\n检测实验室\n质量讲座", required=False),
            Question(event_id=event_id, position=3, kind=QuestionKind.NUMBER, label="儿童人数",
                     required=False),
            Question(event_id=event_id, position=4, kind=QuestionKind.TEXT, label="备注",
                     required=False),
        ]
        db.session.add_all(questions)
        db.session.commit()
        ids = [q.id for q in questions]
    return event_id, session_id, ids


def test_the_events_questions_are_asked_with_fitting_inputs(en, with_questions):
    event_id, session_id, (id_card, age, interests, children, remark) = with_questions

    page = text(en.get(form_url(event_id, session_id)))

    assert re.search(rf'<input[^>]*autocomplete="off"[^>]*id="q_{id_card}"[^>]*inputmode="text"',
                     page)
    assert len(re.findall(rf'<input[^>]*name="q_{age}"[^>]*type="radio"', page)) == 3
    assert len(re.findall(rf'<input[^>]*name="q_{interests}"[^>]*type="checkbox"', page)) == 3
    assert re.search(rf'<input[^>]*name="q_{children}"[^>]*type="number"', page)
    assert re.search(rf'<input[^>]*name="q_{remark}"[^>]*type="text"', page)
    assert "身份证号" in page and "感兴趣的内容 (optional)" in page


def test_an_id_card_number_is_checked_with_its_checksum(app, en, with_questions):
    event_id, session_id, (id_card, age, *_rest) = with_questions

    response = submit(en, form_url(event_id, session_id),
                      family(**{f"q_{id_card}": "110105194912310021", f"q_{age}": "60岁以上"}))

    assert response.status_code == 400
    assert re.search(rf'id="q_{id_card}-error">This is not a valid 18-character resident ID',
                     text(response))
    assert count(app, Registration) == 0


def test_answers_of_the_wrong_type_each_get_a_message(app, en, with_questions):
    event_id, session_id, (id_card, age, interests, children, remark) = with_questions

    response = submit(en, form_url(event_id, session_id), family(**{
        f"q_{id_card}": "11010519491231002X", f"q_{age}": "老年",
        f"q_{interests}": ["生产线", "食堂"], f"q_{children}": "三", f"q_{remark}": "<b>hi</b>"}))

    assert response.status_code == 400
    page = text(response)
    for qid, message in ((age, "Choose one of the options given."),
                         (interests, "Choose from the options given."),
                         (children, "Enter a number."),
                         (remark, "An answer cannot contain &lt; or &gt;.")):
        assert re.search(rf'id="q_{qid}-error">{re.escape(message)}', page), message
    assert f'id="q_{id_card}-error"' not in page
    assert count(app, Registration) == 0 and count(app, Answer) == 0


def test_valid_answers_are_kept_with_the_registration(app, en, with_questions):
    event_id, session_id, (id_card, age, interests, children, remark) = with_questions

    response = submit(en, form_url(event_id, session_id), family(**{
        f"q_{id_card}": "11010519491231002x", f"q_{age}": "60岁以上",
        f"q_{interests}": ["生产线", "质量讲座"], f"q_{children}": "2"}))

    assert response.status_code == 303
    with app.app_context():
        stored = dict(db.session.execute(select(Answer.question_id, Answer.value)).all())
    assert stored == {id_card: "11010519491231002X", age: "60岁以上",
                      interests: "生产线\n质量讲座", children: "2"}


def test_a_question_with_many_options_is_a_drop_down_that_starts_unchosen(app, en, factory):
    event_id, session_id = open_day(app, factory)
    districts = ["黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区"]
    with app.app_context():
        question = Question(event_id=event_id, position=0, kind=QuestionKind.SINGLE,
                            label="居住区", options="\n".join(districts))
        db.session.add(question)
        db.session.commit()
        qid = question.id

    page = text(en.get(form_url(event_id, session_id)))
    answered = submit(en, form_url(event_id, session_id), family(**{f"q_{qid}": "杨浦区"}))

    assert re.search(rf'<select[^>]*name="q_{qid}" required><option value="">Choose…</option>', page)
    assert answered.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Answer.value)) == "杨浦区"


# --- the message afterwards -----------------------------------------------------------------


def test_the_confirmation_in_the_outbox_holds_the_ticket_link(app, en, factory):
    event_id, session_id = open_day(app, factory)

    response = submit(en, form_url(event_id, session_id), family())

    with app.app_context():
        message = db.session.scalar(select(Notification))
    assert message.kind == "registration_confirmed" and message.recipient == PHONE
    assert f"http://localhost{response.headers['Location']}" in message.body


def test_the_link_in_the_message_uses_the_public_address_when_configured(app, en, factory):
    app.config["PUBLIC_URL"] = "https://zlj.example.cn/"
    event_id, session_id = open_day(app, factory)

    response = submit(en, form_url(event_id, session_id), family())

    with app.app_context():
        body = db.session.scalar(select(Notification.body))
    assert f"https://zlj.example.cn{response.headers['Location']}" in body


class CrashingBackend:
    name = "crashing"

    @classmethod
    def from_config(cls, config):
        return cls()

    def send(self, message):
        raise ConnectionError("the SMS provider is down")


def test_a_failing_notifier_does_not_block_the_registration(app, en, factory, monkeypatch):
    monkeypatch.setitem(notify_backends.BACKENDS, "crashing", CrashingBackend)
    app.config["NOTIFY_BACKEND"] = "crashing"
    event_id, session_id = open_day(app, factory)

    response = submit(en, form_url(event_id, session_id), family())

    assert response.status_code == 303
    assert "You are registered." in text(en.get(response.headers["Location"]))
    with app.app_context():
        assert db.session.scalar(select(Registration.status)) == RegistrationStatus.CONFIRMED
        assert db.session.scalar(select(Notification.status)) == "pending"  # retried later


def test_a_notifier_that_raises_does_not_block_the_registration(app, en, factory, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("bug in the notifier")

    monkeypatch.setattr(messages, "draft_registration_confirmed", broken)
    event_id, session_id = open_day(app, factory)

    response = submit(en, form_url(event_id, session_id), family())

    assert response.status_code == 303
    assert count(app, Registration) == 1 and places_taken(app, session_id) == 3


# --- the event page offers it ---------------------------------------------------------------


def test_an_open_session_has_a_register_button(app, en, factory):
    event_id, session_id = open_day(app, factory)

    page = text(en.get(f"/events/{event_id}"))

    assert re.search(rf'<a class="button primary wide" href="{form_url(event_id, session_id)}">'
                     r"Register</a>", page)


@pytest.mark.parametrize(("mode", "full", "label"), [
    ("waitlist", True, "Join the waiting list"),
    ("waitlist", False, "Register"),
    ("approval", False, "Apply"),
    ("lottery", True, "Enter the lottery"),
])
def test_the_button_says_what_it_does_in_the_events_mode(app, en, factory, mode, full, label):
    event_id, session_id = open_day(app, factory, registration_mode=mode)
    if full:
        change_session(app, session_id, capacity=4, places_taken=4)

    page = text(en.get(f"/events/{event_id}"))

    assert f'href="{form_url(event_id, session_id)}">{label}</a>' in page


@pytest.mark.parametrize(("change", "reason"), [
    ({"capacity": 4, "places_taken": 4}, "Full</span>"),
    ({"registration_closes_at": utcnow() - timedelta(hours=1)},
     "Registration for this session has closed."),
    ({"registration_opens_at": utcnow() + timedelta(days=1)}, "Registration opens"),
])
def test_a_session_not_taking_registrations_shows_why_instead_of_a_button(
    app, en, factory, change, reason
):
    event_id, session_id = open_day(app, factory)
    change_session(app, session_id, **change)

    page = text(en.get(f"/events/{event_id}"))

    assert reason in page
    assert form_url(event_id, session_id) not in page

