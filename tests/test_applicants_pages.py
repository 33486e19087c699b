"""The organiser's pages for deciding who comes: the applications (filter, search, admit or decline
the selected ones with a note), inviting by phone number, and the audit log. Forms post with
their CSRF token, as a browser does."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import EventSession, Notification, Registration, RegistrationStatus
from qmevents.services import audit, events
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow

from .conftest import login, submit
from .test_organiser import signed_in
from .test_questions import assigned_staff


@pytest.fixture
def open_day(app, factory) -> tuple[int, int, int]:
    """An event by approval with a morning of 6 places and an afternoon of 20."""
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    event_id = factory.event(registration_mode="approval", sessions=[
        events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2), capacity=6,
                            label="上午场"),
        events.SessionDraft(starts_at=start + timedelta(hours=5),
                            ends_at=start + timedelta(hours=7), capacity=20, label="下午场"),
    ])
    with app.app_context():
        morning, afternoon = db.session.scalars(
            select(EventSession.id).filter_by(event_id=event_id).order_by(EventSession.starts_at))
    return event_id, morning, afternoon


@pytest.fixture
def browser(client, factory):
    """The organiser of the bureau, signed in, reading English."""
    _user_id, email = factory.user("organiser")
    login(client, email)
    client.set_cookie("lang", "en")
    return client


def apply(app, event_id: int, session_id: int, name: str, phone: str, people: int = 1) -> int:
    with app.app_context():
        return reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name=name, phone=phone,
            party_size=people, consent=True)).registration_id


@pytest.fixture
def families(app, open_day) -> dict[str, int]:
    event_id, morning, afternoon = open_day
    return {
        "张伟": apply(app, event_id, morning, "张伟", "13812345678", 3),
        "李娜": apply(app, event_id, morning, "李娜", "13900001111", 2),
        "王芳": apply(app, event_id, morning, "王芳", "13700002222", 4),
        "刘洋": apply(app, event_id, afternoon, "刘洋", "13600003333", 1),
    }


def page(event_id: int, **query) -> str:
    args = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/organiser/events/{event_id}/applicants" + (f"?{args}" if args else "")


def listed(html: str) -> list[str]:
    return re.findall(r'name="registration_id" value="\d+"[^>]*>\s*<span>([^<]+)</span>', html)


def checked(html: str) -> list[str]:
    return re.findall(r'name="registration_id" value="(\d+)"\s*checked', html)


def statuses(app, ids) -> list[RegistrationStatus]:
    with app.app_context():
        return [db.session.get(Registration, i).status for i in ids]


# --- reviewing ----------------------------------------------------------------------------------


def test_the_organiser_sees_the_applications_with_masked_phones_and_places_left(
        browser, open_day, families):
    html = browser.get(page(open_day[0])).get_data(as_text=True)
    assert listed(html) == ["张伟", "李娜", "王芳", "刘洋"]
    assert "138****5678" in html and "13812345678" not in html
    assert "6 places left" in html and "20 places left" in html
    assert "3 applications waiting" in html


def test_search_by_the_last_four_digits_and_filter_by_session(browser, open_day, families):
    event_id, _morning, afternoon = open_day
    assert listed(browser.get(page(event_id, search="1111")).get_data(as_text=True)) == ["李娜"]
    only = browser.get(page(event_id, session=afternoon)).get_data(as_text=True)
    assert listed(only) == ["刘洋"]


def test_select_all_ticks_every_application_on_the_page(browser, open_day, families):
    html = browser.get(page(open_day[0], select="all")).get_data(as_text=True)
    assert sorted(map(int, checked(html))) == sorted(families.values())


# --- deciding -----------------------------------------------------------------------------------


def test_admitting_the_selected_confirms_them_and_says_so(app, browser, open_day, families):
    event_id, morning, _afternoon = open_day
    chosen = [families["张伟"], families["李娜"]]
    response = submit(browser, page(event_id), {"registration_id": chosen, "decision": "admit",
                                                "message": "请从东门入场"})
    assert response.status_code == 302
    html = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 applications admitted (5 people)" in html
    assert listed(html) == ["王芳", "刘洋"]
    assert "1 place left" in html
    assert statuses(app, chosen) == [RegistrationStatus.CONFIRMED] * 2


def test_admitting_beyond_capacity_is_refused_keeping_the_selection_and_note(
        app, browser, open_day, families):
    event_id = open_day[0]
    chosen = [families["张伟"], families["王芳"]]  # 7 people for 6 places
    response = submit(browser, page(event_id), {"registration_id": chosen, "decision": "admit",
                                                "message": "请从东门入场"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Only 6 places are left" in html and "Nobody was admitted" in html
    assert sorted(map(int, checked(html))) == sorted(chosen)
    assert "请从东门入场</textarea>" in html
    assert statuses(app, chosen) == [RegistrationStatus.APPLIED] * 2


def test_declining_with_a_message_tells_the_applicants(app, browser, open_day, families):
    response = submit(browser, page(open_day[0]), {
        "registration_id": [families["王芳"]], "decision": "decline",
        "message": "本场名额有限，欢迎报名下午场"})
    assert response.status_code == 302
    assert statuses(app, [families["王芳"]]) == [RegistrationStatus.DECLINED]
    with app.app_context():
        body = db.session.scalar(select(Notification.body).filter_by(kind="application_declined"))
    assert "本场名额有限，欢迎报名下午场" in body


def test_deciding_with_nothing_selected_asks_to_select(browser, open_day, families):
    response = submit(browser, page(open_day[0]), {"decision": "admit", "message": "你好"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Select at least one applicant." in html and "你好</textarea>" in html


def test_a_decision_without_its_form_token_is_refused(app, browser, open_day, families):
    response = browser.post(page(open_day[0]), data={"registration_id": families["张伟"],
                                                     "decision": "admit"})
    assert response.status_code == 400
    assert statuses(app, [families["张伟"]]) == [RegistrationStatus.APPLIED]


def test_a_lottery_lists_its_applications_without_deciding_them(app, factory, browser):
    event_id = factory.event(registration_mode="lottery")
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    apply(app, event_id, session_id, "张伟", "13812345678")
    html = browser.get(page(event_id)).get_data(as_text=True)
    assert "张伟" in html and 'name="registration_id"' not in html
    assert "Admit selected" not in html


# --- inviting -----------------------------------------------------------------------------------


def invite_page(event_id: int) -> str:
    return f"/organiser/events/{event_id}/invite"


def test_an_invitation_gives_a_confirmed_ticket(app, browser, open_day):
    event_id, morning, _afternoon = open_day
    response = submit(browser, invite_page(event_id), {
        "session_id": morning, "name": "陈静", "phone": "13812345678", "party_size": "2"})
    assert response.status_code == 302
    assert "陈静 is invited" in browser.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        registration = db.session.scalar(select(Registration))
        assert (registration.status, registration.source) == (
            RegistrationStatus.CONFIRMED, "invite")
        assert db.session.get(EventSession, morning).places_taken == 2


def test_invitation_mistakes_are_400_with_what_was_typed_kept(app, browser, open_day):
    response = submit(browser, invite_page(open_day[0]), {
        "session_id": open_day[1], "name": "陈<静>", "phone": "1381234", "party_size": "9"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "A name holds letters" in html
    assert "Enter a mainland mobile number" in html
    assert "A party is 1 to 4 people" in html
    assert 'value="陈&lt;静&gt;"' in html and 'value="1381234"' in html and 'value="9"' in html
    with app.app_context():
        assert db.session.scalar(select(Registration)) is None


def test_an_invitation_that_does_not_fit_says_how_many_places_are_left(app, browser, open_day):
    event_id, morning, _afternoon = open_day
    for i, name in enumerate(["陈静", "周杰"]):
        submit(browser, invite_page(event_id), {"session_id": morning, "name": name,
                                                "phone": f"1381234567{i}", "party_size": "3"})
    response = submit(browser, invite_page(event_id), {
        "session_id": morning, "name": "吴磊", "phone": "13900001111", "party_size": "1"})
    assert response.status_code == 409
    assert "This session is full." in response.get_data(as_text=True)


# --- the audit log ------------------------------------------------------------------------------


def test_the_audit_log_lists_who_did_what_newest_first(app, browser, open_day, families):
    event_id = open_day[0]
    submit(browser, page(event_id), {"registration_id": [families["张伟"]], "decision": "admit"})
    submit(browser, page(event_id), {"registration_id": [families["李娜"]],
                                     "decision": "decline", "message": "名额已满"})
    html = browser.get(f"/organiser/events/{event_id}/audit").get_data(as_text=True)
    declined_at, admitted_at = html.index("Application declined"), html.index("Application admitted")
    assert declined_at < admitted_at
    assert "organiser" in html and "@example.cn" in html
    assert "李娜 139****1111" in html and "13900001111" not in html
    assert "名额已满" in html


def test_a_long_audit_log_is_paginated(app, browser, open_day):
    event_id = open_day[0]
    with app.app_context():
        for i in range(55):
            audit.record("promoted", event_id=event_id, position=i)
        db.session.commit()
    first = browser.get(f"/organiser/events/{event_id}/audit").get_data(as_text=True)
    assert "Page 1 of 2" in first and "55 entries" in first and "The system" in first
    second = browser.get(f"/organiser/events/{event_id}/audit?page=2").get_data(as_text=True)
    assert second.count("Promoted from the waiting list") == 5


# --- who may come in ----------------------------------------------------------------------------


@pytest.mark.parametrize("rest", ["applicants", "invite", "audit"])
def test_door_staff_get_403_and_other_organisations_404(app, factory, open_day, rest):
    event_id = open_day[0]
    url = f"/organiser/events/{event_id}/{rest}"
    assert assigned_staff(app, factory, event_id).get(url).status_code == 403
    stranger, _id = signed_in(app, factory, "organiser", org="浦东新区市场监督管理局",
                              district="浦东新区")
    assert stranger.get(url).status_code == 404


def test_the_event_page_links_to_the_applicants_the_invitation_and_the_log(browser, open_day):
    event_id = open_day[0]
    html = browser.get(f"/organiser/events/{event_id}").get_data(as_text=True)
    for rest in ("applicants", "invite", "audit"):
        assert f"/organiser/events/{event_id}/{rest}" in html
