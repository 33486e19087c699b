"""系列通票: Qingpu's lecture series registered once for several sessions, one ticket valid at
each, attendance per session; all places or none, never oversold under a race of phones."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import Notification, Registration, User, ensure_districts
from qmevents.services import events
from qmevents.services.door import checkin
from qmevents.services.errors import NotFound, SessionFull, ValidationFailed
from qmevents.services.registrations import cancellation, codes, series
from qmevents.services.registrations import register as reg
from qmevents.services.reporting import reports
from qmevents.timeutil import utcnow

from .conftest import Factory, csrf_from, on_the_day, submit
from .support.server import Gunicorn, app_env
from .test_capacity_race import together
from .test_registration_changes import exact, session_ids


def lectures(capacities: tuple[int, ...] = (30, 30, 30, 30)) -> list[events.SessionDraft]:
    start = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    return [events.SessionDraft(starts_at=start + timedelta(days=7 * i),
                                ends_at=start + timedelta(days=7 * i, hours=2), capacity=c,
                                label=f"第{i + 1}讲")
            for i, c in enumerate(capacities)]


@pytest.fixture
def talks(app, factory) -> tuple[int, list[int]]:
    event_id = factory.event(title="青浦区质量大讲堂", kind="lecture", series_pass=True,
                             max_party_size=2, sessions=lectures())
    return event_id, session_ids(app, event_id)


def take_pass(app, event_id: int, chosen: list, phone: str = "13812345678", people: int = 2):
    with app.test_request_context("/"):
        return series.register_series(reg.RegistrationRequest(
            event_id=event_id, session_id=None, name="张伟", phone=phone, party_size=people,
            consent=True), chosen)


def admit(app, code: str, event_id: int, session_id: int, staff_id: int):
    with app.app_context(), on_the_day(app, session_id):
        return checkin.redeem(code, event_id=event_id, session_id=session_id,
                              checkpoint_id=None, people=None,
                              staff=db.session.get(User, staff_id))


# --- registering ----------------------------------------------------------------------------------


def test_a_pass_takes_places_in_every_chosen_session_and_sends_one_text(app, talks):
    event_id, ids = talks
    made = take_pass(app, event_id, [str(i) for i in ids[:3]])
    assert [exact(app, s) for s in ids] == [(2, 2), (2, 2), (2, 2), (0, 0)]
    with app.app_context():
        texts = list(db.session.scalars(select(Notification.body)))
        assert len(texts) == 1 and "系列通票" in texts[0] and "共3场" in texts[0]
        assert made.code in texts[0]
        assert len(codes.tickets_for_phone("13812345678")) == 1  # one ticket in "my tickets"


def test_one_full_session_books_nothing_and_says_which(app, factory):
    event_id = factory.event(title="青浦区质量大讲堂", kind="lecture", series_pass=True,
                             max_party_size=2, sessions=lectures((30, 1, 30)))
    ids = session_ids(app, event_id)
    with pytest.raises(SessionFull, match="2"):
        take_pass(app, event_id, ids)
    assert [exact(app, s) for s in ids] == [(0, 0)] * 3
    with app.app_context():
        assert db.session.scalar(select(Registration.id)) is None


@pytest.mark.parametrize("chosen", [[], ["x"], [99999], "1,2"])
def test_a_pass_needs_two_sessions_of_the_event(app, talks, chosen):
    event_id, ids = talks
    with pytest.raises(ValidationFailed):
        take_pass(app, event_id, chosen if chosen != [] else [ids[0]])


def test_an_event_without_a_pass_offers_none(app, factory):
    event_id = factory.event(sessions=lectures())
    with pytest.raises(NotFound):
        take_pass(app, event_id, session_ids(app, event_id))


def test_a_series_pass_needs_first_come_first_served(app, factory):
    with app.test_request_context("/?lang=en"):
        draft = factory.draft(series_pass=True, registration_mode="lottery")
        assert "series_pass" in events.validate(draft)


# --- at the door, in the report, cancelled ------------------------------------------------------


def test_the_pass_is_admitted_at_three_sessions_and_counted_in_each(app, factory, talks):
    event_id, ids = talks
    made = take_pass(app, event_id, ids[:3])
    staff_id, _ = factory.user("organiser")
    for session_id in ids[:3]:
        answer = admit(app, made.code, event_id, session_id, staff_id)
        assert answer.result == checkin.Result.ADMITTED and answer.admitted_people == 2
    assert admit(app, made.code, event_id, ids[3], staff_id).result == \
        checkin.Result.WRONG_SESSION
    assert admit(app, made.code, event_id, ids[1], staff_id).result == \
        checkin.Result.ALREADY_ADMITTED
    with app.app_context():
        lines = {line.session_id: line.figures.admitted_people
                 for line in reports.event_report(event_id).sessions}
    assert [lines[s] for s in ids] == [2, 2, 2, 0]
    from .conftest import login
    with app.app_context():
        email = db.session.get(User, staff_id).email
    client = app.test_client()
    client.set_cookie("lang", "en")
    login(client, email)
    page = client.get(f"/organiser/events/{event_id}/report").get_data(as_text=True)
    assert "1 series pass: its family counts once at each session it covers" in page


def test_cancelling_the_pass_frees_every_session(app, talks):
    event_id, ids = talks
    made = take_pass(app, event_id, ids)
    with app.app_context():
        cancellation.cancel(made.code)
    assert [exact(app, s) for s in ids] == [(0, 0)] * 4


def test_the_ticket_page_lists_the_pass_sessions_and_a_member_code_leads_to_it(
        app, client, talks):
    event_id, ids = talks
    made = take_pass(app, event_id, ids[:3])
    page = client.get(f"/t/{made.code}").get_data(as_text=True)
    assert "系列通票：共 3 场" in page and page.count('class="series-session') == 3
    with app.app_context():
        member = db.session.scalar(select(Registration.code)
                                   .where(Registration.pass_id == made.registration_id))
    response = client.get(f"/t/{member}")
    assert response.status_code == 303 and response.headers["Location"].endswith(made.code)


def test_a_citizen_registers_a_pass_through_the_form(app, client, talks):
    event_id, ids = talks
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert f"/events/{event_id}/sessions/{ids[0]}/register?series=1" in page
    url = f"/events/{event_id}/sessions/{ids[0]}/register?series=1"
    form = client.get(url).get_data(as_text=True)
    assert form.count('name="sessions"') == 4
    response = client.post(url, data={
        "csrf_token": csrf_from(form), "name": "张伟", "phone": "13812345678",
        "party_size": "2", "consent": "y", "sessions": [str(ids[0]), str(ids[2])]})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert [exact(app, s) for s in ids] == [(2, 2), (0, 0), (2, 2), (0, 0)]
    response = submit(client, url, {"name": "李娜", "phone": "13900001111", "party_size": "1",
                                    "consent": "y", "sessions": [str(ids[1])]})
    assert response.status_code == 400 and "至少" in response.get_data(as_text=True)


# --- a race of phones against gunicorn --------------------------------------------------------


@pytest.fixture
def served(database_url, tmp_path, monkeypatch) -> Iterator[tuple]:
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    event_id = Factory(app).event(title="青浦区质量大讲堂", kind="lecture", series_pass=True,
                                  max_party_size=2, sessions=lectures((10, 7, 10)))
    ids = session_ids(app, event_id)
    server = Gunicorn("wsgi:app", app_env(instance, database_url), workers=4)
    server.start(ready_path="/api/v1/openapi.json")
    try:
        yield app, server, event_id, ids
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.mark.server
def test_twenty_phones_race_for_passes_and_no_session_is_oversold(served):
    app, server, event_id, ids = served
    url = f"{server.url}/events/{event_id}/sessions/{ids[0]}/register?series=1&lang=en"

    def phone(i: int):
        def call():
            browser = requests.Session()
            token = csrf_from(browser.get(url, timeout=30).text)
            chosen = ids if i % 2 == 0 else [ids[0], ids[1]]
            return browser.post(url, data={"csrf_token": token, "name": "市民",
                                           "phone": f"1381234{i:04d}", "party_size": "1",
                                           "consent": "y", "sessions": [str(s) for s in chosen]},
                                allow_redirects=False, timeout=30).status_code
        return call

    statuses = Counter(together([phone(i) for i in range(20)]))
    assert set(statuses) <= {303, 409}, (statuses, server.errors())
    assert statuses[303] == 7  # the middle session has 7 places, every pass includes it
    totals = [exact(app, s) for s in ids]
    assert all(taken == held for taken, held in totals), totals
    assert totals[1] == (7, 7) and totals[0] == (7, 7)
    assert totals[2][0] <= 10


def test_a_pass_is_not_changed_session_by_session(app, talks):
    from qmevents.services.errors import RegistrationClosed
    from qmevents.services.registrations import amend
    event_id, ids = talks
    made = take_pass(app, event_id, ids[:2])
    with app.test_request_context("/"), pytest.raises(RegistrationClosed):
        amend.change_party_size(made.code, 1)
    assert [exact(app, s) for s in ids[:2]] == [(2, 2), (2, 2)]


# --- the door by itself -------------------------------------------------------------------------


def test_the_door_list_finds_a_pass_at_each_of_its_sessions_by_its_code(app, factory, talks):
    """Offline a door phone looks a code's verifier up in its list; a pass's member (whose own
    code nobody sees) is listed under the pass's code at its session, which the phone computes
    when the pass's own ticket is of another session (static/js/door/offline.js)."""
    from qmevents.services.door import ticket_list

    event_id, ids = talks
    made = take_pass(app, event_id, ids[:3])
    alone = take_pass(app, event_id, ids[2:], phone="13900001111", people=1)
    staff_id, _ = factory.user("organiser")
    with app.test_request_context("/"):
        user = db.session.get(User, staff_id)
        listed = ticket_list.ticket_list(event_id, user)
        key = ticket_list.key_bytes(event_id, staff_id)
        by_v = {t["v"]: t for t in listed.tickets}
        assert len(by_v) == len(listed.tickets) == 5
        own = by_v[ticket_list.verifier(key, made.code)]
        assert own["ticket_id"] == made.registration_id and own["session_id"] == ids[0]
        for session_id in ids[1:3]:
            member = by_v[ticket_list.pass_verifier(key, made.code, session_id)]
            assert member["session_id"] == session_id and member["party_size"] == 2
            assert db.session.get(Registration, member["ticket_id"]).pass_id == \
                made.registration_id
        assert ticket_list.pass_verifier(key, made.code, ids[3]) not in by_v
        assert by_v[ticket_list.pass_verifier(key, alone.code, ids[3])]["session_id"] == ids[3]
        # The changes since a cursor carry the same verifiers.
        since = ticket_list.make_cursor(event_id, utcnow() - timedelta(minutes=5))
        again = {t["v"] for t in ticket_list.ticket_list(event_id, user, since).tickets}
        assert again == set(by_v)


# --- the registrant list and its export -------------------------------------------------------


def test_the_registrant_list_and_export_show_a_pass_as_one_family_at_each_session(
        app, factory, client, talks):
    from .conftest import login
    from .test_exports import excel_rows, registrants, run

    event_id, ids = talks
    take_pass(app, event_id, ids[:3])
    take_pass(app, event_id, ids[1:3], phone="13900001111", people=1)
    with app.test_request_context("/"):
        reg.register(reg.RegistrationRequest(event_id=event_id, session_id=ids[0], name="李娜",
                                             phone="13700002222", party_size=1, consent=True))
    user_id, email = factory.user("organiser")
    _file, body = run(app, user_id, registrants(event_id))
    header, *rows = excel_rows(body)
    assert header[:8] == ["Session", "Name", "Phone", "People", "Status", "Registered at",
                          "Admitted people", "Series pass"]
    passes = Counter((row[2], row[7]) for row in rows)
    assert passes == {("138****5678", "Series pass: 3 sessions"): 3,
                      ("139****1111", "Series pass: 2 sessions"): 2, ("137****2222", ""): 1}
    login(client, email)
    page = client.get(f"/organiser/events/{event_id}/registrants").get_data(as_text=True)
    assert page.count('<span class="badge badge-ok">系列通票</span>') == 5  # the passes' rows


def test_an_event_without_passes_exports_no_series_column(app, factory):
    from .test_exports import excel_rows, registrants, run

    event_id = factory.event(sessions=lectures())
    with app.test_request_context("/"):
        reg.register(reg.RegistrationRequest(event_id=event_id, session_id=session_ids(
            app, event_id)[0], name="李娜", phone="13700002222", party_size=1, consent=True))
    user_id, _email = factory.user("organiser")
    header = excel_rows(run(app, user_id, registrants(event_id))[1])[0]
    assert "Series pass" not in header


# --- the API ----------------------------------------------------------------------------------


def api_pass(client, event_id: int, session_ids, phone: str = "13812345678", people: int = 2):
    return client.post(f"/api/v1/events/{event_id}/registrations?lang=en", json={
        "session_ids": session_ids, "name": "张伟", "phone": phone, "party_size": people})


def test_an_app_registers_a_pass_through_the_api_all_or_nothing(app, client, factory):
    from .test_api import assert_documented

    event_id = factory.event(title="青浦区质量大讲堂", kind="lecture", series_pass=True,
                             max_party_size=2, sessions=lectures((30, 1, 30)))
    ids = session_ids(app, event_id)
    doc = client.get("/api/v1/openapi.json").get_json()
    path = "/events/{event_id}/registrations"
    made = api_pass(client, event_id, [ids[0], ids[2]])
    assert made.status_code == 201, made.get_json()
    assert [exact(app, s) for s in ids] == [(2, 2), (0, 0), (2, 2)]
    page = client.get(f"/t/{made.get_json()['code']}").get_data(as_text=True)
    assert page.count('class="series-session') == 2
    full = api_pass(client, event_id, ids, phone="13900001111")
    assert full.status_code == 409 and full.get_json()["error"] == "full"
    assert [exact(app, s) for s in ids] == [(2, 2), (0, 0), (2, 2)]  # nothing of it held
    twice = api_pass(client, event_id, [ids[0], ids[2]])
    assert twice.status_code == 409 and twice.get_json()["error"] == "duplicate"
    bad = [api_pass(client, event_id, chosen, phone="13700002222")
           for chosen in ([ids[0]], [ids[0], 999999], "1,2", [ids[0], "x"])]
    assert [r.status_code for r in bad] == [422] * 4
    assert all("session_ids" in r.get_json()["errors"] for r in bad), [r.get_json() for r in bad]
    for response in (made, full, twice, *bad):
        assert_documented(doc, "post", path, response)


def test_the_api_offers_no_pass_where_the_event_has_none(app, client, factory):
    event_id = factory.event(sessions=lectures())
    ids = session_ids(app, event_id)
    response = api_pass(client, event_id, ids)
    assert response.status_code == 404
    assert [exact(app, s) for s in ids] == [(0, 0)] * 4


def test_an_organiser_offers_a_pass_through_the_api_first_come_only(client, factory):
    from .test_api import bearer, event_body, token_for

    _user, email = factory.user("organiser")
    headers = bearer(token_for(client, email))
    lottery = client.post("/api/v1/events?lang=en", headers=headers, json=event_body(
        series_pass=True, registration_mode="lottery"))
    assert lottery.status_code == 422 and "series_pass" in lottery.get_json()["errors"]
    made = client.post("/api/v1/events", headers=headers, json=event_body(series_pass=True))
    assert made.status_code == 201 and made.get_json()["series_pass"] is True


def test_a_pass_attended_at_its_first_talk_gives_up_the_talks_to_come(app, client, factory,
                                                                      talks):
    event_id, ids = talks
    made = take_pass(app, event_id, ids[:3])
    staff_id, _ = factory.user("organiser")
    assert admit(app, made.code, event_id, ids[0], staff_id).result == checkin.Result.ADMITTED
    client.set_cookie("lang", "en")
    page = client.get(f"/t/{made.code}/cancel").get_data(as_text=True)
    assert "Series pass: 3 sessions" in page and page.count('class="series-session') == 3
    assert "The sessions you have not come to are cancelled" in page
    response = submit(client, f"/t/{made.code}/cancel", {}, page=f"/t/{made.code}/cancel")
    assert response.status_code == 303
    # The first talk's places stay with the family who came; the two to come are free.
    assert [exact(app, s) for s in ids] == [(2, 2), (0, 0), (0, 0), (0, 0)]
    ticket = client.get(f"/t/{made.code}").get_data(as_text=True)
    assert "The sessions of your series pass you have not come to are cancelled" in ticket
    assert "Attended" in ticket and ticket.count("badge badge-bad") == 2
    again = submit(client, f"/t/{made.code}/cancel", {}, page=f"/t/{made.code}/cancel")
    assert again.status_code == 303
    assert "can no longer be cancelled here" in client.get(f"/t/{made.code}").get_data(
        as_text=True)
    assert [exact(app, s) for s in ids] == [(2, 2), (0, 0), (0, 0), (0, 0)]


def test_giving_up_the_rest_of_a_pass_keeps_the_talks_begun(app, client, factory, talks):
    """During the second talk (the family came to the first, not yet to the second): the third
    and fourth are given up, the second stays theirs (they may still come)."""
    from unittest import mock

    event_id, ids = talks
    made = take_pass(app, event_id, ids)
    staff_id, _ = factory.user("organiser")
    assert admit(app, made.code, event_id, ids[0], staff_id).result == checkin.Result.ADMITTED
    with app.app_context():
        from qmevents.models import EventSession
        during = db.session.get(EventSession, ids[1]).starts_at + timedelta(minutes=10)
    with mock.patch("qmevents.services.registrations.series.utcnow", lambda: during), \
            app.app_context():
        cancellation.cancel(made.code)
    assert [exact(app, s) for s in ids] == [(2, 2), (2, 2), (0, 0), (0, 0)]
