"""代报名 on the hotline: bureau staff register a citizen without a smartphone by phone, the
citizen is texted the ticket with a short door code, the door admits on that code at that
event only, and the short code opens nothing else."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import AuditEntry, EventSession, Notification, Registration, User
from qmevents.services.door import checkin, ticket_list
from qmevents.services.errors import ValidationFailed
from qmevents.services.registrations import hotline
from qmevents.services.registrations.short_codes import (
    check_letter,
    new_short_code,
    normalise_short_code,
)

from .conftest import login, on_the_day, submit
from .test_organiser import signed_in

CALLER = ("王阿姨", "13812345678")


@pytest.fixture
def open_day(app, factory) -> tuple[int, int]:
    event_id = factory.event(org_name="杨浦区市场监督管理局", title="杨浦区质量开放日",
                             verify_phone=True)
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    return event_id, session_id


def by_phone(app, user_id: int, event_id: int, session_id: int, people: int = 2,
             phone: str = CALLER[1]) -> Registration:
    with app.test_request_context("/"):
        made = hotline.register_by_phone(db.session.get(User, user_id), event_id, session_id,
                                         CALLER[0], phone, people, True)
        db.session.expunge(made)
        return made


# --- the short code ---------------------------------------------------------------------------


def test_a_short_code_is_six_digits_and_its_check_letter():
    for _ in range(200):
        code = new_short_code()
        assert re.fullmatch(r"[0-9]{6}[A-Z]", code) and normalise_short_code(code) == code
        assert not set(code[6]) & set("IOS")


def test_a_mistyped_digit_or_two_swapped_digits_are_caught():
    code = "482913" + check_letter("482913")
    for i in range(6):
        for d in "0123456789":
            if d != code[i]:
                assert normalise_short_code(code[:i] + d + code[i + 1:]) is None
    for i in range(5):
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
        if swapped != code:
            assert normalise_short_code(swapped) is None


@pytest.mark.parametrize("typed", ["482 913 {l}", "482-913-{l}", "４８２９１３{L}", " 482913{l} "])
def test_a_short_code_is_read_however_it_is_typed(typed):
    letter = check_letter("482913")
    assert normalise_short_code(typed.format(l=letter.lower(), L=chr(ord(letter) + 0xFEE0))) \
        == "482913" + letter


# --- registering by phone -----------------------------------------------------------------------


def test_bureau_staff_register_a_caller_who_gets_the_door_code_by_text(app, factory, open_day):
    event_id, session_id = open_day
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    made = by_phone(app, staff_id, event_id, session_id)
    assert made.source == "hotline" and made.short_code and made.party_size == 2
    with app.app_context():
        text = db.session.scalars(select(Notification.body)
                                  .order_by(Notification.id.desc())).first()
        spoken = f"{made.short_code[:3]} {made.short_code[3:6]} {made.short_code[6]}"
        assert "入场口令" in text and spoken in text and made.code in text
        entry = db.session.scalars(select(AuditEntry).filter_by(action="registered_by_phone")).one()
        assert entry.actor_id == staff_id and entry.registration_id == made.id
        assert db.session.get(EventSession, session_id).places_taken == 2


def test_the_districts_bureau_may_register_for_an_enterprises_event_others_may_not(
        app, factory):
    event_id = factory.event(org_name="上海电气集团", district="闵行区", title="上海电气开放日")
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    bureau, _ = factory.user("organiser", org="闵行区市场监督管理局", district="闵行区")
    assert by_phone(app, bureau, event_id, session_id).short_code
    other_bureau, _ = factory.user("organiser", org="徐汇区市场监督管理局", district="徐汇区")
    staff, _ = factory.user("staff")
    for user_id in (other_bureau, staff):
        with app.test_request_context("/"), pytest.raises(Exception) as refused:
            hotline.register_by_phone(db.session.get(User, user_id), event_id, session_id,
                                      "李四", "13900001111", 1, True)
        assert refused.type.__name__ in ("NotFound", "Forbidden")


def test_without_the_callers_agreement_nothing_is_registered(app, factory, open_day):
    event_id, session_id = open_day
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    with app.test_request_context("/?lang=en"), pytest.raises(ValidationFailed) as refused:
        hotline.register_by_phone(db.session.get(User, staff_id), event_id, session_id,
                                  *CALLER, 2, False)
    assert "consent" in refused.value.errors
    with app.app_context():
        assert db.session.scalar(select(Registration.id)) is None


def test_the_form_registers_and_shows_the_code_to_read_out(app, client, factory, open_day):
    event_id, session_id = open_day
    _staff_id, email = factory.user("organiser", org="杨浦区市场监督管理局")
    login(client, email)
    url = f"/organiser/events/{event_id}/hotline"
    assert "电话代报名" in client.get(f"/organiser/events/{event_id}").get_data(as_text=True)
    response = submit(client, url, {"session_id": str(session_id), "name": CALLER[0],
                                    "phone": CALLER[1], "party_size": "3", "consent": "y"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        made = db.session.scalar(select(Registration).filter_by(source="hotline"))
        spoken = f"{made.short_code[:3]} {made.short_code[3:6]} {made.short_code[6]}"
    assert f'<p class="hotline-door-code" translate="no">{spoken}</p>' in page
    assert "138****5678" in page and CALLER[1] not in page
    registrants = client.get(f"/organiser/events/{event_id}/registrants").get_data(as_text=True)
    assert made.short_code in registrants


def test_the_form_needs_its_token_and_says_what_is_missing(app, client, factory, open_day):
    event_id, session_id = open_day
    _staff_id, email = factory.user("organiser", org="杨浦区市场监督管理局")
    login(client, email)
    url = f"/organiser/events/{event_id}/hotline"
    assert client.post(url, data={"name": "x"}).status_code == 400
    response = submit(client, url, {"session_id": str(session_id), "name": "", "phone": "123",
                                    "party_size": "99"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count('class="error"') >= 3
    with app.app_context():
        assert db.session.scalar(select(Registration.id)) is None


def test_door_staff_and_other_organisations_cannot_open_the_form(app, factory, open_day):
    event_id, _session_id = open_day
    for role, kwargs in (("staff", {}), ("organiser", {"org": "徐汇区市场监督管理局",
                                                      "district": "徐汇区"})):
        browser, _user = signed_in(app, factory, role, **kwargs)
        assert browser.get(f"/organiser/events/{event_id}/hotline").status_code in (403, 404)


# --- at the door ----------------------------------------------------------------------------------


def test_the_short_code_admits_at_its_event_only(app, factory, open_day):
    event_id, session_id = open_day
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    made = by_phone(app, staff_id, event_id, session_id)
    other = factory.event(org_name="杨浦区市场监督管理局", title="另一个活动")
    with app.app_context():
        other_session = db.session.scalar(select(EventSession.id).filter_by(event_id=other))
        staff = db.session.get(User, staff_id)
        with on_the_day(app, other_session):
            elsewhere = checkin.redeem(made.short_code, event_id=other, session_id=other_session,
                                       checkpoint_id=None, people=None, staff=staff)
        assert elsewhere.result == checkin.Result.UNKNOWN
        typed = f"{made.short_code[:3]} {made.short_code[3:6]}-{made.short_code[6].lower()}"
        with on_the_day(app, session_id):
            wrong = checkin.redeem(made.short_code[:5] + str((int(made.short_code[5]) + 1) % 10)
                                   + made.short_code[6], event_id=event_id,
                                   session_id=session_id, checkpoint_id=None, people=None,
                                   staff=staff)
            admitted = checkin.redeem(typed, event_id=event_id, session_id=session_id,
                                      checkpoint_id=None, people=None, staff=staff)
        assert wrong.result == checkin.Result.UNKNOWN
        assert admitted.result == checkin.Result.ADMITTED and admitted.admitted_people == 2


def test_the_short_code_opens_nothing_else(app, client, factory, open_day):
    event_id, session_id = open_day
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    made = by_phone(app, staff_id, event_id, session_id)
    for path in ("", "/cancel", "/change", "/qr.png", "/ticket.png", "/ticket.pdf"):
        assert client.get(f"/t/{made.short_code}{path}").status_code == 404
    page = client.get(f"/t/{made.code}").get_data(as_text=True)
    assert f"{made.short_code[:3]} {made.short_code[3:6]} {made.short_code[6]}" in page


def test_the_api_takes_a_typed_short_code(app, factory, open_day):
    from .test_api import bearer, token_for
    event_id, session_id = open_day
    staff_id, email = factory.user("organiser", org="杨浦区市场监督管理局")
    made = by_phone(app, staff_id, event_id, session_id, people=1)
    client = app.test_client()
    headers = bearer(token_for(client, email))
    with on_the_day(app, session_id):
        answer = client.post("/api/v1/checkins", json={
            "code": made.short_code.lower(), "event_id": event_id, "session_id": session_id},
            headers=headers)
    assert answer.status_code in (200, 201) and answer.get_json()["result"] == "admitted"


def test_a_colliding_short_code_is_drawn_again(app, factory, open_day, monkeypatch):
    event_id, session_id = open_day
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    first = by_phone(app, staff_id, event_id, session_id, phone="13900001111")
    drawn = iter([first.short_code, first.short_code, "482913" + check_letter("482913")])
    monkeypatch.setattr("qmevents.services.registrations.register.new_short_code",
                        lambda: next(drawn))
    second = by_phone(app, staff_id, event_id, session_id, phone="13700002222")
    assert second.short_code == "482913" + check_letter("482913")
    with app.app_context():
        assert db.session.scalar(select(EventSession.places_taken)
                                 .filter_by(id=session_id)) == 4


def test_the_door_list_carries_the_short_codes_verifier_never_the_code(app, factory, open_day):
    from .test_api import assert_documented, bearer, token_for
    event_id, session_id = open_day
    staff_id, email = factory.user("organiser", org="杨浦区市场监督管理局")
    made = by_phone(app, staff_id, event_id, session_id)
    client = app.test_client()
    response = client.get(f"/api/v1/events/{event_id}/door-list",
                          headers=bearer(token_for(client, email)))
    assert response.status_code == 200
    assert_documented(client.get("/api/v1/openapi.json").get_json(), "get",
                      "/events/{event_id}/door-list", response)
    text = response.get_data(as_text=True)
    assert made.short_code not in text and made.code not in text
    body = response.get_json()
    key = ticket_list.base64.urlsafe_b64decode(body["key"] + "=")
    (ticket,) = body["tickets"]
    assert ticket["sv"] == ticket_list.verifier(key, made.short_code)
    assert ticket["v"] == ticket_list.verifier(key, made.code)


def test_cancelling_does_not_take_the_short_code(app, client, factory, open_day):
    event_id, session_id = open_day
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    made = by_phone(app, staff_id, event_id, session_id)
    for path in (f"/t/{made.short_code.lower()}", f"/t/{made.short_code[:3]}-"
                 f"{made.short_code[3:]}", f"/t/{made.short_code}/calendar.ics"):
        assert client.get(path).status_code == 404
    # With a real token from the real ticket's cancel page, the short code still cancels nothing.
    refused = submit(client, f"/t/{made.short_code}/cancel", {"confirm": "y"},
                     page=f"/t/{made.code}/cancel")
    assert refused.status_code == 404
    with app.app_context():
        assert db.session.get(Registration, made.id).status.value == "confirmed"


# --- later texts keep the door code ---------------------------------------------------------------


def texts_to(app, phone: str) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(select(Notification).filter_by(recipient=phone)
                                       .order_by(Notification.id)))


@pytest.mark.parametrize("offer_hours", [0, 24])
def test_a_caller_promoted_from_the_waiting_list_is_texted_the_door_code(app, factory,
                                                                         offer_hours):
    """Even where places are offered to confirm by a deadline (WAITLIST_OFFER_HOURS), a caller
    by phone, who has no link to open, gets the place at once."""
    from qmevents.services.registrations import cancellation

    from .test_reminders import make_event, register
    app.config["WAITLIST_OFFER_HOURS"] = offer_hours
    event_id = make_event(factory, capacity=2, org_name="杨浦区市场监督管理局")
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    first = register(app, event_id, "13800138001", party_size=2)
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    made = by_phone(app, staff_id, event_id, session_id)
    (waiting,) = texts_to(app, CALLER[1])
    assert waiting.template == "registration_waitlisted"
    with app.test_request_context("/"):
        cancellation.cancel(first)
    promoted = texts_to(app, CALLER[1])[-1]
    assert promoted.template == "place_by_phone"
    assert f"入场口令：{made.short_code[:3]} {made.short_code[3:6]} {made.short_code[6]}" \
        in promoted.body
    with app.app_context():
        assert db.session.get(Registration, made.id).status.value == "confirmed"
        assert db.session.get(EventSession, session_id).places_taken == 2


def test_an_admitted_application_by_phone_is_texted_the_door_code(app, factory):
    from qmevents.services.registrations import approval
    event_id = factory.event(registration_mode="approval")
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    made = by_phone(app, staff_id, event_id, session_id)
    assert texts_to(app, CALLER[1])[-1].template == "registration_applied"
    with app.test_request_context("/"):
        approval.admit(event_id, [made.id], db.session.get(User, staff_id))
    admitted = texts_to(app, CALLER[1])[-1]
    assert admitted.template == "place_by_phone" and made.short_code[:3] in admitted.body


def test_the_reminder_repeats_the_door_code(app, factory):
    from .test_reminders import DUE, make_event, run_at
    event_id = make_event(factory)
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    made = by_phone(app, staff_id, event_id, session_id)
    assert run_at(app, DUE) == 1
    reminder = texts_to(app, CALLER[1])[-1]
    assert reminder.template == "reminder_by_phone"
    spoken = f"{made.short_code[:3]} {made.short_code[3:6]} {made.short_code[6]}"
    assert f"入场口令：{spoken}" in reminder.body and f"/t/{made.code}/cancel" in reminder.body
