"""A citizen changes a registration from the ticket page without losing the place: fewer people
(the places go to the waiting list at once), or another session of the same event (atomic: never
both places, never neither). Races run against gunicorn with four workers, through the page with
its CSRF token, as phones would."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import (
    HOLDS_PLACES,
    AuditEntry,
    EventSession,
    Notification,
    Registration,
    RegistrationStatus,
    ensure_districts,
)
from qmevents.services import events
from qmevents.services.errors import (
    DuplicateRegistration,
    NotFound,
    RegistrationClosed,
    SessionFull,
    ValidationFailed,
)
from qmevents.services.messaging import templates
from qmevents.services.registrations import amend
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow

from .conftest import Factory, csrf_from, submit
from .support.server import Gunicorn, app_env
from .test_capacity_race import together


def sessions(*capacities: int) -> list[events.SessionDraft]:
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    return [events.SessionDraft(starts_at=start + timedelta(hours=3 * i),
                                ends_at=start + timedelta(hours=3 * i + 2), capacity=c,
                                label=f"第{i + 1}场")
            for i, c in enumerate(capacities)]


def session_ids(app, event_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(EventSession.id).filter_by(event_id=event_id)
                                       .order_by(EventSession.starts_at)))


def book(app, event_id: int, session_id: int, phone: str, people: int) -> str:
    with app.app_context():
        return reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="张伟", phone=phone,
            party_size=people, consent=True)).code


def exact(app, session_id: int) -> tuple[int, int]:
    """(places_taken, people of the registrations holding places there), read afresh."""
    with app.app_context():
        taken = db.session.scalar(select(EventSession.places_taken).filter_by(id=session_id))
        held = db.session.scalar(select(func.coalesce(func.sum(Registration.party_size), 0))
                                 .where(Registration.session_id == session_id,
                                        Registration.status.in_(HOLDS_PLACES)))
        return taken, held


@pytest.fixture
def day(app, factory):
    event_id = factory.event(max_party_size=5, sessions=sessions(10, 4))
    first, second = session_ids(app, event_id)
    return event_id, first, second


# --- the service --------------------------------------------------------------------------------


def test_fewer_people_frees_the_places_at_once(app, day):
    event_id, first, _second = day
    code = book(app, event_id, first, "13812345678", 4)
    with app.test_request_context("/"):
        assert amend.change_party_size(code, 2).party_size == 2
    assert exact(app, first) == (2, 2)
    with app.app_context():
        text = db.session.scalars(select(Notification.body).order_by(Notification.id.desc())).first()
        assert "已将" in text and "2人" in text and code in text
        entry = db.session.scalars(select(AuditEntry).filter_by(action="registration_changed")).one()
        assert entry.detail == {"by": "holder", "people_from": 4, "people_to": 2}


def test_the_freed_places_go_to_the_waiting_list(app, factory):
    event_id = factory.event(max_party_size=5, registration_mode="waitlist", sessions=sessions(4))
    [only] = session_ids(app, event_id)
    code = book(app, event_id, only, "13812345678", 4)
    waiting = book(app, event_id, only, "13900001111", 2)
    with app.test_request_context("/"):
        amend.change_party_size(code, 2)
        assert db.session.scalar(select(Registration.status).filter_by(code=waiting)) == \
            RegistrationStatus.CONFIRMED
    assert exact(app, only) == (4, 4)


@pytest.mark.parametrize("people", [0, 4, 5, -1, "2", True, None])
def test_a_party_only_gets_smaller(app, day, people):
    event_id, first, _second = day
    code = book(app, event_id, first, "13812345678", 4)
    with app.test_request_context("/"), pytest.raises(ValidationFailed):
        amend.change_party_size(code, people)
    assert exact(app, first) == (4, 4)


def test_a_move_takes_the_new_places_and_frees_the_old(app, day):
    event_id, first, second = day
    code = book(app, event_id, first, "13812345678", 3)
    with app.test_request_context("/"):
        moved = amend.move_to_session(code, second)
        assert moved.session_id == second and moved.code == code
    assert exact(app, first) == (0, 0) and exact(app, second) == (3, 3)


def test_a_move_into_a_session_without_room_changes_nothing(app, day):
    event_id, first, second = day
    book(app, event_id, second, "13900001111", 2)
    code = book(app, event_id, first, "13812345678", 3)
    with app.test_request_context("/"), pytest.raises(SessionFull):
        amend.move_to_session(code, second)
    assert exact(app, first) == (3, 3) and exact(app, second) == (2, 2)
    with app.app_context():
        assert db.session.scalar(select(Registration.session_id).filter_by(code=code)) == first


def test_a_move_is_refused_for_another_events_session_a_lottery_and_the_same_phone(
        app, factory, day):
    event_id, first, second = day
    other = factory.event(title="别的活动", sessions=sessions(10))
    [elsewhere] = session_ids(app, other)
    code = book(app, event_id, first, "13812345678", 1)
    book(app, event_id, second, "13812345678", 1)
    with app.test_request_context("/"):
        with pytest.raises(NotFound):
            amend.move_to_session(code, elsewhere)
        with pytest.raises(DuplicateRegistration):
            amend.move_to_session(code, second)
    assert exact(app, first) == (1, 1) and exact(app, second) == (1, 1)
    lottery = factory.event(title="摇号活动", registration_mode="lottery", sessions=sessions(10, 10))
    drawn, later = session_ids(app, lottery)
    with app.app_context():
        db.session.execute(db.update(Registration).where(Registration.code == code)
                           .values(event_id=lottery, session_id=drawn))
        db.session.commit()
    with app.test_request_context("/"), pytest.raises(RegistrationClosed):
        amend.move_to_session(code, later)


def texts_about(app, code: str) -> list[Notification]:
    with app.app_context():
        registration_id = db.session.scalar(select(Registration.id).filter_by(code=code))
        return list(db.session.scalars(select(Notification).filter_by(
            registration_id=registration_id).order_by(Notification.id)))


def test_the_text_says_the_new_sessions_time_and_a_refused_move_sends_nothing(app, day):
    event_id, first, second = day
    book(app, event_id, second, "13900001111", 2)
    code = book(app, event_id, first, "13812345678", 3)
    before = len(texts_about(app, code))
    with app.test_request_context("/"), pytest.raises(SessionFull):
        amend.move_to_session(code, second)
    assert len(texts_about(app, code)) == before
    with app.test_request_context("/"):
        amend.change_party_size(code, 2)
        amend.move_to_session(code, second)
        when = templates.local_time(db.session.get(EventSession, second).starts_at)
    told = texts_about(app, code)[before:]
    assert [t.template for t in told] == ["registration_changed"] * 2
    assert told[-1].params["when"] == when and told[-1].params["people"] == "2"
    assert when in told[-1].body and code in told[-1].body


def test_a_caller_registered_by_phone_is_texted_the_door_code_with_the_change(app, factory, day):
    from .test_hotline import by_phone
    event_id, first, second = day
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    made = by_phone(app, staff_id, event_id, first, people=3)
    with app.test_request_context("/"):
        amend.move_to_session(made.code, second)
    told = texts_about(app, made.code)[-1]
    spoken = f"{made.short_code[:3]} {made.short_code[3:6]} {made.short_code[6]}"
    assert told.template == "changed_by_phone"
    assert f"入场口令不变：{spoken}" in told.body and made.code in told.body


def test_the_door_follows_the_ticket_to_its_new_session_and_its_smaller_party(
        app, factory, day):
    from qmevents.models import User
    from qmevents.services.door import checkin

    from .conftest import on_the_day
    event_id, first, second = day
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    code = book(app, event_id, first, "13812345678", 4)
    with app.test_request_context("/"):
        amend.change_party_size(code, 3)
        amend.move_to_session(code, second)
    with app.app_context():
        staff = db.session.get(User, staff_id)
        with on_the_day(app, first):
            old = checkin.redeem(code, event_id=event_id, session_id=first, checkpoint_id=None,
                                 people=None, staff=staff)
        with on_the_day(app, second):
            new = checkin.redeem(code, event_id=event_id, session_id=second,
                                 checkpoint_id=None, people=None, staff=staff)
    assert old.result == checkin.Result.WRONG_SESSION
    assert new.result == checkin.Result.ADMITTED and new.admitted_people == 3
    with app.test_request_context("/"), pytest.raises(RegistrationClosed):
        amend.move_to_session(code, first)  # people came in: the ticket stays where they are


def test_a_move_landing_while_the_door_reads_the_ticket_admits_nobody_at_the_old_session(
        app, factory, day, monkeypatch):
    """The door read the ticket for its session; the family's move commits before the door's
    write: the write finds the ticket elsewhere, reads again and says it is another session's."""
    from qmevents.models import Admission, User
    from qmevents.services.door import checkin

    from .conftest import on_the_day
    event_id, first, second = day
    staff_id, _ = factory.user("organiser", org="杨浦区市场监督管理局")
    code = book(app, event_id, first, "13812345678", 2)
    read_then_checked = checkin._out_of_hours
    moved = []

    def the_family_moves_meanwhile(scene, now):
        if not moved:
            moved.append(amend.move_to_session(code, second).session_id)
        return read_then_checked(scene, now)

    monkeypatch.setattr(checkin, "_out_of_hours", the_family_moves_meanwhile)
    with app.test_request_context("/"), on_the_day(app, first):
        answer = checkin.redeem(code, event_id=event_id, session_id=first, checkpoint_id=None,
                                people=None, staff=db.session.get(User, staff_id))
    assert moved == [second] and answer.result == checkin.Result.WRONG_SESSION
    with app.app_context():
        ticket = db.session.scalar(select(Registration).filter_by(code=code))
        assert ticket.admitted_people == 0 and ticket.session_id == second
        assert db.session.scalar(select(func.count(Admission.id))) == 0
    assert exact(app, first) == (0, 0) and exact(app, second) == (2, 2)


# --- the page -------------------------------------------------------------------------------------


def test_the_ticket_page_offers_the_change_and_the_form_needs_its_token(app, client, day):
    event_id, first, second = day
    code = book(app, event_id, first, "13812345678", 3)
    assert f'href="/t/{code}/change"' in client.get(f"/t/{code}").get_data(as_text=True)
    page = client.get(f"/t/{code}/change").get_data(as_text=True)
    assert 'name="people"' in page and f'value="{second}"' in page
    assert client.post(f"/t/{code}/change", data={"people": "1"}).status_code == 400
    assert exact(app, first) == (3, 3)


def test_a_citizen_changes_on_the_page_and_keeps_the_ticket(app, client, day):
    event_id, first, second = day
    code = book(app, event_id, first, "13812345678", 3)
    response = submit(client, f"/t/{code}/change", {"people": "2"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/t/{code}")
    assert "2 人" in client.get(f"/t/{code}").get_data(as_text=True) or \
        "2人" in client.get(f"/t/{code}").get_data(as_text=True)
    response = submit(client, f"/t/{code}/change", {"session_id": str(second)})
    assert response.status_code == 303
    assert exact(app, first) == (0, 0) and exact(app, second) == (2, 2)


@pytest.mark.parametrize("typed", ["abc", "", "９９", "99999999999", "1e3", "<script>"])
def test_nonsense_in_the_form_is_a_message_not_an_error(app, client, day, typed):
    event_id, first, _second = day
    code = book(app, event_id, first, "13812345678", 3)
    page = client.get(f"/t/{code}/change").get_data(as_text=True)
    for field in ("people", "session_id"):
        response = client.post(f"/t/{code}/change",
                               data={"csrf_token": csrf_from(page), field: typed})
        assert response.status_code in (400, 404, 409)
        assert "<script>" not in response.get_data(as_text=True)
    assert exact(app, first) == (3, 3)


def test_a_full_session_shows_as_full_and_cannot_be_chosen(app, client, day):
    event_id, first, second = day
    book(app, event_id, second, "13900001111", 4)
    code = book(app, event_id, first, "13812345678", 2)
    page = client.get(f"/t/{code}/change").get_data(as_text=True)
    assert re.search(rf'value="{second}" disabled', page)
    response = submit(client, f"/t/{code}/change", {"session_id": str(second)})
    assert response.status_code == 409 and "没有足够" in response.get_data(as_text=True)


def test_a_cancelled_ticket_cannot_be_changed(app, client, day):
    from qmevents.services.registrations import cancellation
    event_id, first, _second = day
    code = book(app, event_id, first, "13812345678", 3)
    with app.app_context():
        cancellation.cancel(code)
    page = client.get(f"/t/{code}/change").get_data(as_text=True)
    assert "只有报名成功的报名才能更改" in page and 'name="people"' not in page
    assert f'/t/{code}/change"' not in client.get(f"/t/{code}").get_data(as_text=True)


def test_nothing_changes_once_the_event_is_called_off(app, client, day):
    from qmevents.models import Event
    event_id, first, second = day
    code = book(app, event_id, first, "13812345678", 3)
    page = client.get(f"/t/{code}/change").get_data(as_text=True)
    with app.app_context():
        events.cancel(db.session.get(Event, event_id))
    assert f'/t/{code}/change"' not in client.get(f"/t/{code}").get_data(as_text=True)
    refused = client.post(f"/t/{code}/change",
                          data={"csrf_token": csrf_from(page), "session_id": str(second)})
    assert refused.status_code == 409 and "活动已取消" in refused.get_data(as_text=True)
    with app.test_request_context("/"), pytest.raises(RegistrationClosed):
        amend.change_party_size(code, 1)
    assert exact(app, first) == (3, 3) and exact(app, second) == (0, 0)


def test_the_organisers_log_says_the_registrant_changed_what(app, client, factory, day):
    from .conftest import login
    event_id, first, second = day
    code = book(app, event_id, first, "13812345678", 3)
    submit(client, f"/t/{code}/change", {"people": "2"})
    submit(client, f"/t/{code}/change", {"session_id": str(second)})
    _user, email = factory.user("organiser", org="杨浦区市场监督管理局")
    login(client, email)
    client.set_cookie("lang", "en")
    log = client.get(f"/organiser/events/{event_id}/audit").get_data(as_text=True)
    assert log.count("Changed by the registrant") == 2 and log.count("The registrant") == 2
    assert "The system" not in log and "holder" not in log
    assert "People before" in log and "Session now" in log and "第2场" in log


# --- races against a real server ----------------------------------------------------------------

pytest_server = pytest.mark.server


@pytest.fixture
def served(database_url, tmp_path, monkeypatch) -> Iterator[tuple]:
    """Three sessions (40, 10, 40 places) of one event, served by gunicorn with 4 workers."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    event_id = Factory(app).event(max_party_size=5, sessions=sessions(40, 10, 40))
    ids = session_ids(app, event_id)
    server = Gunicorn("wsgi:app", app_env(instance, database_url), workers=4)
    server.start(ready_path="/api/v1/openapi.json")
    try:
        yield app, server, event_id, ids
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


def changing(server: Gunicorn, code: str, data: dict, action: str = "change"):
    """A phone opening the change (or cancel) page, then sending the form with its token."""
    def call():
        phone = requests.Session()
        page = phone.get(f"{server.url}/t/{code}/{action}?lang=en", timeout=30)
        if 'name="csrf_token"' not in page.text:  # cancelled meanwhile: no form to send
            return "no form"
        token = csrf_from(page.text)
        answer = phone.post(f"{server.url}/t/{code}/{action}?lang=en",
                            data={"csrf_token": token, **data}, allow_redirects=False,
                            timeout=30)
        return answer.status_code
    return call


@pytest_server
def test_twenty_families_race_for_five_free_places_of_another_session(served):
    app, server, event_id, (a, b, _c) = served
    codes = [book(app, event_id, a, f"1381234{i:04d}", 2) for i in range(20)]
    statuses = Counter(together([changing(server, code, {"session_id": str(b)})
                                 for code in codes]))
    assert statuses == {303: 5, 409: 15}, (statuses, server.errors())
    assert exact(app, a) == (30, 30) and exact(app, b) == (10, 10)


@pytest.mark.server
def test_twenty_changes_of_one_ticket_at_once_leave_every_count_exact(served):
    app, server, event_id, (a, b, c) = served
    code = book(app, event_id, a, "13812345678", 5)
    wishes = ([{"session_id": str(b)}] * 6 + [{"session_id": str(c)}] * 6
              + [{"people": str(n)} for n in (4, 3, 2, 1)] * 2)
    statuses = Counter(together([changing(server, code, wish) for wish in wishes]))
    assert set(statuses) <= {303, 409, 400}, (statuses, server.errors())
    assert statuses[303] >= 1
    totals = [exact(app, s) for s in (a, b, c)]
    assert all(taken == held for taken, held in totals), totals
    with app.app_context():
        ticket = db.session.scalar(select(Registration).filter_by(code=code))
        assert sum(taken for taken, _held in totals) == ticket.party_size
        assert ticket.status == RegistrationStatus.CONFIRMED


@pytest.mark.server
def test_a_cancel_racing_changes_of_the_same_ticket_frees_exactly_what_it_held(served):
    """The cancellation frees the party and session as they are when it lands, not as it read
    them: a move or a smaller party committed in between is not freed twice or elsewhere."""
    app, server, event_id, (a, b, c) = served
    for round_ in range(3):
        code = book(app, event_id, a, f"1371234{round_:04d}", 5)
        calls = ([changing(server, code, {"session_id": str(b)}),
                  changing(server, code, {"session_id": str(c)}),
                  changing(server, code, {"people": "2"}), changing(server, code, {"people": "3"})]
                 + [changing(server, code, {}, action="cancel")] * 2)
        statuses = Counter(together(calls))
        assert set(statuses) <= {303, 409, 400, "no form"}, (statuses, server.errors())
    totals = [exact(app, s) for s in (a, b, c)]
    assert all(taken == held for taken, held in totals), totals


@pytest.mark.server
def test_families_swapping_sessions_both_ways_at_once_all_move(served):
    """Ten move a→c while ten move c→a: each transaction takes the sessions' rows in the same
    order, so none deadlocks, and every family ends up where it asked."""
    app, server, event_id, (a, _b, c) = served
    there = [book(app, event_id, a, f"1391234{i:04d}", 1) for i in range(10)]
    back = [book(app, event_id, c, f"1371234{i:04d}", 1) for i in range(10)]
    calls = ([changing(server, code, {"session_id": str(c)}) for code in there]
             + [changing(server, code, {"session_id": str(a)}) for code in back])
    statuses = Counter(together(calls))
    assert statuses == {303: 20}, (statuses, server.errors())
    assert exact(app, a) == (10, 10) and exact(app, c) == (10, 10)
    with app.app_context():
        assert set(db.session.scalars(select(Registration.session_id)
                                      .where(Registration.code.in_(there)))) == {c}
