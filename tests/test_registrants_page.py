"""The organiser's list of who registered: per session, masked phones and ID numbers, totals by
status, filters and search, computed in the database by services.registrations.registrants."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event

from qmevents.demo.names import person_name
from qmevents.extensions import db
from qmevents.models import Event, EventSession, Registration
from qmevents.services import events
from qmevents.services.registrations import cancellation, registrants
from qmevents.services.registrations import register as reg
from qmevents.services.registrations.questions import QuestionDraft, set_questions
from qmevents.timeutil import SHANGHAI, utcnow

from .test_organiser import signed_in
from .test_questions import assigned_staff

ID_NUMBER = "11010519491231002X"


def path(event_id: int, **query) -> str:
    args = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/organiser/events/{event_id}/registrants" + (f"?{args}" if args else "")


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def open_day(app, factory) -> tuple[int, list[int]]:
    """A published open day with a morning and an afternoon session, and an ID-card question."""
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    event_id = factory.event(sessions=[
        events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2), capacity=30,
                            label="上午场"),
        events.SessionDraft(starts_at=start + timedelta(hours=5),
                            ends_at=start + timedelta(hours=7), capacity=30, label="下午场"),
    ])
    with app.app_context():
        set_questions(db.session.get(Event, event_id),
                      [QuestionDraft(label="身份证号码", kind="id_card", required=False)])
        sessions = list(db.session.scalars(
            db.select(EventSession.id).filter_by(event_id=event_id).order_by(EventSession.starts_at)))
    return event_id, sessions


def register(app, event_id: int, session_id: int, name: str, phone: str, people: int = 1,
             answers: dict | None = None) -> str:
    with app.app_context():
        if answers:
            question = db.session.get(Event, event_id).questions[0].id
            answers = {question: answers["id"]}
        return reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name=name, phone=phone,
            party_size=people, answers=answers or {}, consent=True)).code


@pytest.fixture
def families(app, open_day) -> tuple[int, list[int]]:
    """Three families in the morning (one cancelled since), one in the afternoon."""
    event_id, (morning, afternoon) = open_day
    register(app, event_id, morning, "张伟", "13812345678", 3, answers={"id": ID_NUMBER})
    register(app, event_id, morning, "李娜", "13900001111", 2)
    gone = register(app, event_id, morning, "王芳", "13700002222", 4)
    register(app, event_id, afternoon, "刘洋", "13600003333", 1)
    with app.app_context():
        cancellation.cancel(gone)
    return event_id, [morning, afternoon]


def names(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="office-title">([^<]+)</th>', html)


# --- what the page shows --------------------------------------------------------------------


def test_the_page_shows_masked_phones_and_never_the_full_number(client, organiser, families):
    event_id, _ = families
    html = client.get(path(event_id)).get_data(as_text=True)
    assert "138****5678" in html
    assert "13812345678" not in html and "13900001111" not in html


def test_an_id_number_answer_is_shown_masked(client, organiser, families):
    event_id, _ = families
    html = client.get(path(event_id)).get_data(as_text=True)
    assert "身份证号码" in html and "110105********002X" in html
    assert ID_NUMBER not in html


def test_registrations_are_listed_per_session_in_time_order(client, organiser, families):
    event_id, _ = families
    html = client.get(path(event_id)).get_data(as_text=True)
    assert names(html) == ["张伟", "李娜", "王芳", "刘洋"]
    headings = re.findall(r'<h2 class="office-session-heading">[^<]*· (\S+)</h2>', html)
    assert headings == ["上午场", "下午场"]
    morning, afternoon = html.split('<h2 class="office-session-heading">')[1:]
    assert "张伟" in morning and "刘洋" in afternoon and "刘洋" not in morning


def test_totals_count_people_by_status(client, organiser, families, english):
    event_id, _ = families
    html = client.get(path(event_id)).get_data(as_text=True)
    totals = html[html.index('id="totals-heading"'):html.index("</section>")]
    assert re.search(r"Confirmed</span>\s*<strong>6 people</strong>\s*"
                     r'<span class="muted small">3 registrations', totals)
    assert re.search(r"Cancelled</span>\s*<strong>4 people</strong>", totals)


# --- filters and search ---------------------------------------------------------------------


def test_search_by_the_last_four_digits_of_the_phone(client, organiser, families):
    event_id, _ = families
    html = client.get(path(event_id, search="1111")).get_data(as_text=True)
    assert names(html) == ["李娜"]


def test_search_by_part_of_a_name(client, organiser, families):
    event_id, _ = families
    assert names(client.get(path(event_id, search="洋")).get_data(as_text=True)) == ["刘洋"]


def test_filter_by_session_and_its_totals(client, organiser, families, english):
    event_id, (_, afternoon) = families
    html = client.get(path(event_id, session=afternoon)).get_data(as_text=True)
    assert names(html) == ["刘洋"]
    assert re.search(r"Confirmed</span>\s*<strong>1 person</strong>", html)
    assert "Cancelled</span>" not in html


def test_filter_by_status(client, organiser, families):
    event_id, _ = families
    assert names(client.get(path(event_id, status="cancelled")).get_data(as_text=True)) == ["王芳"]


def test_a_filter_that_makes_no_sense_gets_a_message_not_an_error_page(client, organiser,
                                                                        families, english):
    event_id, _ = families
    response = client.get(path(event_id, status="vip", session="abc"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose one of the statuses." in html and "Choose one of this event" in html


def test_a_long_list_is_paginated_with_the_filters_kept(app, client, organiser, open_day):
    event_id, (morning, _) = open_day
    for i in range(5):
        register(app, event_id, morning, person_name(i), f"1380000000{i}")
    app.config["REGISTRANTS_PER_PAGE"] = 2
    first = client.get(path(event_id, session=morning)).get_data(as_text=True)
    assert names(first) == [person_name(0), person_name(1)]
    assert f"session={morning}&amp;page=2" in first
    third = client.get(path(event_id, session=morning, page=3)).get_data(as_text=True)
    assert names(third) == [person_name(4)]


def test_one_page_costs_the_same_queries_however_many_answers(app, open_day):
    """The rows, their answers, the count and the totals: no query per registration."""
    event_id, (morning, _) = open_day
    for i in range(6):
        register(app, event_id, morning, person_name(i), f"1380000000{i}",
                 answers={"id": ID_NUMBER})
    with app.app_context():
        statements: list[str] = []

        def count(*args):
            statements.append(args[2])

        sa_event.listen(db.engine, "before_cursor_execute", count)
        try:
            small = registrants.registrants(event_id, limit=2)
            before = len(statements)
            large = registrants.registrants(event_id, limit=6)
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", count)
    assert len(small.rows) == 2 and len(large.rows) == 6
    assert len(statements) - before == before


# --- who may look ---------------------------------------------------------------------------


def test_another_organisations_registrants_are_not_found(client, organiser, factory):
    xuhui = factory.event(org_name="徐汇区市场监督管理局", district="徐汇区")
    assert client.get(path(xuhui)).status_code == 404


def test_assigned_door_staff_may_look_at_the_registrants(app, factory, families):
    event_id, _ = families
    staff = assigned_staff(app, factory, event_id)
    response = staff.get(path(event_id))
    assert response.status_code == 200 and "138****5678" in response.get_data(as_text=True)
    overview = staff.get(f"/organiser/events/{event_id}").get_data(as_text=True)
    assert path(event_id) in overview


def test_door_staff_of_other_events_do_not_find_them(app, factory, families):
    event_id, _ = families
    staff, _ = signed_in(app, factory, "staff")
    assert staff.get(path(event_id)).status_code == 404


def test_the_page_shows_who_has_arrived_and_when(app, client, organiser, families, english):
    """张伟's three all in, 李娜 one of two, 刘洋 nobody yet; the cancelled family expects nobody."""
    from qmevents.models import User
    from qmevents.services.door import checkin

    from .conftest import on_the_day

    event_id, (morning, _afternoon) = families
    with app.app_context():
        codes = dict(db.session.execute(
            db.select(Registration.name, Registration.code).filter_by(event_id=event_id)).all())
        staff = db.session.get(User, organiser)
        with on_the_day(app, morning):
            checkin.redeem(codes["张伟"], event_id=event_id, session_id=morning,
                           checkpoint_id=None, people=None, staff=staff)
            checkin.redeem(codes["李娜"], event_id=event_id, session_id=morning,
                           checkpoint_id=None, people=1, staff=staff)
    html = client.get(path(event_id)).get_data(as_text=True)
    cells = dict(re.findall(
        r'<th scope="row" class="office-title">([^<]+)</th>.*?registrant-arrival-(\w+)', html,
        flags=re.S))
    assert cells == {"张伟": "all", "李娜": "some", "王芳": "none", "刘洋": "none"}
    assert "All in" in html and "1 of 2 in" in html and "Not yet" in html
    with app.app_context():
        start = db.session.get(EventSession, morning).starts_at
    assert (start + timedelta(minutes=10)).astimezone(SHANGHAI).strftime("%H:%M") in html
