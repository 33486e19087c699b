"""A citizen who lost the link to their ticket finds it again with their phone number and a
one-time code texted to it, without the page ever telling a stranger who has registered."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from qmevents.extensions import db
from qmevents.models import EventSession, Notification, NotificationKind, OneTimeCode
from qmevents.public import find
from qmevents.services import otp, signins
from qmevents.services.events import SessionDraft
from qmevents.services.registrations import cancellation
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow

from .conftest import csrf_from, submit

PHONE = "13812345678"
MASKED = "138****5678"
STRANGER = "13900001111"


def register(app, event_id: int, phone: str = PHONE, name: str = "张伟", party: int = 2) -> str:
    with app.app_context():
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))
        return reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name=name, phone=phone, party_size=party,
            consent=True)).code


@pytest.fixture
def ticket(app, factory) -> str:
    """张伟 (13812345678) has registered two people for the open day: the ticket code."""
    return register(app, factory.event(title="威派格智慧水务质量开放日"))


def ask_for_code(client, phone: str = PHONE):
    return submit(client, "/my-tickets?lang=en", {"phone": phone})


def texted_code(app, phone: str = PHONE) -> str:
    """The code as the citizen reads it in the text message (the outbox keeps its body)."""
    with app.app_context():
        body = db.session.scalar(
            db.select(Notification.body)
            .filter_by(recipient=phone, kind=NotificationKind.ONE_TIME_CODE)
            .order_by(Notification.id.desc()))
    return re.search(r"\d{6}", body).group(0)


def enter_code(client, code: str):
    return submit(client, "/my-tickets/verify?lang=en", {"code": code})


def sign_in_with_code(app, client, phone: str = PHONE):
    ask_for_code(client, phone)
    response = enter_code(client, texted_code(app, phone))
    assert response.status_code == 303
    return response


def test_a_citizen_finds_their_ticket_with_a_code_sent_to_their_phone(app, client, ticket):
    page = client.get("/my-tickets?lang=en").get_data(as_text=True)
    assert 'type="tel"' in page and 'name="phone"' in page

    asked = ask_for_code(client, "138 1234 5678")
    assert asked.status_code == 303
    assert asked.headers["Location"].endswith("/my-tickets/verify")

    code_page = client.get("/my-tickets/verify?lang=en").get_data(as_text=True)
    assert MASKED in code_page and PHONE not in code_page
    assert 'inputmode="numeric"' in code_page and 'autocomplete="one-time-code"' in code_page

    entered = enter_code(client, texted_code(app))
    assert entered.status_code == 303
    assert entered.headers["Location"].endswith("/my-tickets/list")

    tickets = client.get("/my-tickets/list?lang=en")
    html = tickets.get_data(as_text=True)
    assert tickets.status_code == 200
    assert "威派格智慧水务质量开放日" in html
    assert "2 people" in html and "Confirmed" in html
    with app.test_request_context():
        assert f'href="{find.ticket_url(ticket)}"' in html
    assert tickets.headers["Cache-Control"] == "no-store"


def test_the_answer_is_the_same_whether_or_not_the_number_registered(app, client, ticket):
    known = ask_for_code(client, PHONE)
    known_page = client.get("/my-tickets/verify?lang=en").get_data(as_text=True)
    other = app.test_client()
    unknown = ask_for_code(other, STRANGER)
    unknown_page = other.get("/my-tickets/verify?lang=en").get_data(as_text=True)

    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code, unknown.headers["Location"])
    strip = re.compile(r'name="csrf_token"[^>]*>|\d{3}\*{4}\d{4}')
    assert strip.sub("", known_page) == strip.sub("", unknown_page)
    assert "If 139****1111 has registrations, a code was sent" in unknown_page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Notification.id))
                                 .filter_by(recipient=STRANGER)) == 0
        assert db.session.scalar(db.select(db.func.count(OneTimeCode.id))
                                 .filter_by(phone=STRANGER)) == 0


def test_a_number_that_is_not_a_mobile_number_is_refused_with_what_to_type(client):
    response = ask_for_code(client, "021-1234567")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter a mainland mobile number of 11 digits" in html
    assert 'value="021-1234567"' in html  # what was typed stays


def test_a_wrong_code_is_refused(app, client, ticket):
    ask_for_code(client)
    code = texted_code(app)
    response = enter_code(client, f"{(int(code) + 1) % 1_000_000:06d}")
    assert response.status_code == 400
    assert "This code is not right" in response.get_data(as_text=True)
    assert client.get("/my-tickets/list").status_code == 303


def test_a_code_that_is_too_short_is_refused_without_using_up_a_try(app, client, ticket):
    ask_for_code(client)
    response = enter_code(client, "1234")
    assert response.status_code == 400
    assert "Enter the 6 digits of the code" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(OneTimeCode.attempts)) == 0


def test_an_expired_code_offers_a_new_one(app, client, ticket, monkeypatch):
    ask_for_code(client)
    code = texted_code(app)
    later = utcnow() + timedelta(seconds=app.config["OTP_TTL_SECONDS"] + 1)
    monkeypatch.setattr(otp, "utcnow", lambda: later)
    response = enter_code(client, code)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "expired" in html and "ask for a new code" in html
    assert 'href="/my-tickets"' in html and "Send a new code" in html


def test_asking_for_a_new_code_keeps_the_number_typed(client, ticket):
    ask_for_code(client)
    page = client.get("/my-tickets?lang=en").get_data(as_text=True)
    assert f'value="{PHONE}"' in page


def test_a_code_works_only_once(app, client, ticket):
    ask_for_code(client)
    code = texted_code(app)
    assert enter_code(client, code).status_code == 303

    someone_else = app.test_client()  # who saw the text message over the citizen's shoulder
    with someone_else.session_transaction() as session:
        session["find_phone"] = PHONE
    again = enter_code(someone_else, code)
    assert again.status_code == 400
    assert someone_else.get("/my-tickets/list").status_code == 303


def test_the_list_closes_after_the_configured_minutes(app, client, ticket, monkeypatch):
    sign_in_with_code(app, client)
    assert client.get("/my-tickets/list").status_code == 200
    minutes = app.config["FIND_SESSION_MINUTES"]
    later = utcnow() + timedelta(minutes=minutes, seconds=1)
    monkeypatch.setattr(signins, "utcnow", lambda: later)
    response = client.get("/my-tickets/list?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/my-tickets")
    assert "Enter your number again" in client.get("/my-tickets?lang=en").get_data(as_text=True)


def test_the_list_shows_only_this_phones_tickets_and_masks_the_number(app, client, factory,
                                                                      ticket):
    register(app, factory.event(title="长阳创谷质量开放日"), phone=STRANGER, name="李娜")
    sign_in_with_code(app, client)
    html = client.get("/my-tickets/list?lang=en").get_data(as_text=True)
    assert "威派格智慧水务质量开放日" in html
    assert "长阳创谷质量开放日" not in html and "李娜" not in html
    assert MASKED in html and PHONE not in html


def test_upcoming_tickets_come_first_and_cancelled_ones_are_marked(app, client, factory):
    soon = utcnow().replace(microsecond=0) + timedelta(days=2)
    later = soon + timedelta(days=10)
    first = register(app, factory.event(title="晚些的讲座", sessions=[
        SessionDraft(starts_at=later, ends_at=later + timedelta(hours=1), capacity=10)]))
    register(app, factory.event(title="早些的开放日", sessions=[
        SessionDraft(starts_at=soon, ends_at=soon + timedelta(hours=1), capacity=10)]))
    with app.app_context():
        cancellation.cancel(first)
    sign_in_with_code(app, client)
    html = client.get("/my-tickets/list?lang=en").get_data(as_text=True)
    assert html.index("早些的开放日") < html.index("晚些的讲座")
    assert "Cancelled" in html


def test_without_a_code_the_list_sends_to_the_find_page(client, ticket):
    response = client.get("/my-tickets/list")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/my-tickets")


def test_the_code_step_without_a_number_sends_to_the_find_page(client):
    response = client.get("/my-tickets/verify")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/my-tickets")


def test_forgetting_the_phone_closes_the_list(app, client, ticket):
    sign_in_with_code(app, client)
    html = client.get("/my-tickets/list?lang=en").get_data(as_text=True)
    response = client.post("/my-tickets/forget", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 303
    assert client.get("/my-tickets/list").status_code == 303


def test_a_copied_cookie_no_longer_lists_the_tickets_once_the_phone_is_forgotten(app, client,
                                                                                ticket):
    """A shared phone or computer: whoever copied the cookie before "forget this phone" sees
    nothing after it."""
    sign_in_with_code(app, client)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/my-tickets/list").status_code == 200

    html = client.get("/my-tickets/list?lang=en").get_data(as_text=True)
    client.post("/my-tickets/forget", data={"csrf_token": csrf_from(html)})
    replayed = copy.get("/my-tickets/list")
    assert replayed.status_code == 303
    assert replayed.headers["Location"].endswith("/my-tickets")


def test_the_cookie_holds_a_token_not_the_phone(app, client, ticket):
    sign_in_with_code(app, client)
    serializer = app.session_interface.get_signing_serializer(app)
    content = serializer.loads(client.get_cookie("session").value)
    assert PHONE not in repr(content)
    assert isinstance(content[find.VERIFIED_KEY], str)


def test_proving_another_phone_ends_the_proof_of_the_first(app, client, factory, ticket):
    register(app, factory.event(title="长阳创谷质量开放日"), phone=STRANGER, name="李娜")
    sign_in_with_code(app, client)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    ask_for_code(client, STRANGER)
    assert copy.get("/my-tickets/list").status_code == 303


def test_forgetting_needs_the_forms_token(app, client, ticket):
    sign_in_with_code(app, client)
    assert client.post("/my-tickets/forget").status_code == 400
    assert client.get("/my-tickets/list").status_code == 200


def test_the_ticket_link_leads_to_the_ticket_page(app):
    with app.test_request_context():
        url = find.ticket_url("ABCDEFGHJKMNPQRSTVWX")
    assert url.endswith("/ABCDEFGHJKMNPQRSTVWX")
