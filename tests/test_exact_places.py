"""Places and attendance stay exact. A ticket whose people have come in cannot be cancelled by its
holder (their places are in use); the organiser may cancel it, and the people who came stay
counted. The door admits a session's tickets on its day, from its admission window on, unless
staff deliberately override (audited). No-shows are counted for sessions that have ended only."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from unittest import mock

import pytest
import requests
from sqlalchemy import func, select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import (
    HOLDS_PLACES,
    Admission,
    AuditEntry,
    EventSession,
    Registration,
    RegistrationStatus,
    User,
    ensure_districts,
)
from qmevents.services import accounts
from qmevents.services.door import checkin
from qmevents.services.door.checkin import Result
from qmevents.services.registrations import cancellation

from .conftest import Factory, login, submit
from .support.server import Gunicorn, app_env
from .test_api import bearer, token_for
from .test_capacity_race import together
from .test_checkin import Door, make_door


@pytest.fixture
def tour(app, factory) -> Door:
    return make_door(app, factory)


def places(app, session_id: int) -> int:
    with app.app_context():
        return db.session.get(EventSession, session_id).places_taken


def registration(app, code: str) -> Registration:
    with app.app_context():
        found = db.session.scalar(select(Registration).filter_by(code=code))
        db.session.expunge(found)
        return found


# --- cancelling a ticket that was used ----------------------------------------------------------


def test_the_holder_cannot_cancel_a_ticket_whose_people_came_in(app, client, tour):
    code = tour.ticket(party=3)
    tour.scan(code, people=1)
    page = client.get(f"/t/{code}/cancel?lang=en").get_data(as_text=True)
    response = submit(client, f"/t/{code}/cancel?lang=en", {}, page=f"/t/{code}/cancel")
    assert response.status_code == 303
    followed = client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "have come in already" in followed
    assert registration(app, code).status == RegistrationStatus.CONFIRMED
    assert places(app, tour.morning) == 3
    assert tour.figures(tour.morning).admitted_people == 1
    assert page


def test_the_organiser_cancels_it_and_the_people_inside_keep_their_places(app, client, factory,
                                                                        tour):
    code = tour.ticket(party=4)
    tour.scan(code, people=3)
    _id, email = factory.user("organiser", org="杨浦区市场监督管理局")
    login(client, email)
    rid = registration(app, code).id
    url = f"/organiser/events/{tour.event_id}/registrants/{rid}/cancel?lang=en"
    confirm = client.get(url).get_data(as_text=True)
    assert "3 people of this party have come in already" in confirm
    done = submit(client, url, {})
    assert done.status_code == 303
    assert registration(app, code).status == RegistrationStatus.CANCELLED
    assert places(app, tour.morning) == 3  # one place freed, three in use
    figures = tour.figures(tour.morning)
    assert (figures.admitted_people, figures.checkpoints[0].people) == (3, 3)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).filter_by(action="registration_cancelled"))
        assert entry.detail == {"people": 4, "inside": 3, "freed": 1}


def test_an_organiser_cannot_cancel_another_events_registration(app, client, factory, tour):
    other = make_door(app, factory, title="别人的活动", )
    code = other.ticket()
    _id, email = factory.user("organiser", org="杨浦区市场监督管理局")
    login(client, email)
    rid = registration(app, code).id
    url = f"/organiser/events/{tour.event_id}/registrants/{rid}/cancel"
    assert client.get(url).status_code == 404
    assert submit(client, url, {}, page="/organiser/").status_code == 404
    assert registration(app, code).status == RegistrationStatus.CONFIRMED


def test_cancelling_twice_frees_the_places_once(app, tour):
    code = tour.ticket(party=2)
    with app.app_context():
        organiser = db.session.get(User, tour.staff_id)
        organiser.role = "admin"
        rid = registration(app, code).id
        cancellation.cancel_by_organiser(tour.event_id, rid, organiser)
        with pytest.raises(cancellation.RegistrationClosed):
            cancellation.cancel_by_organiser(tour.event_id, rid, organiser)
    assert places(app, tour.morning) == 0


@pytest.fixture
def gate(database_url, tmp_path, monkeypatch) -> Iterator[tuple[Door, Gunicorn, str]]:
    """The tour under gunicorn (four workers), its morning session under way, a device token."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "PASSWORD_TIME_COST": 1,
                      "PASSWORD_MEMORY_COST": 64, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    door = make_door(app, Factory(app))
    with app.app_context():
        token = accounts.issue_token(db.session.get(User, door.staff_id))[0]
    server = Gunicorn("wsgi:app", app_env(instance, database_url), workers=4)
    server.start(ready_path="/api/v1/openapi.json")
    try:
        yield door, server, token
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.mark.server
def test_a_holder_cancelling_while_the_door_scans_never_frees_a_place_in_use(gate):
    """Twenty tickets, each cancelled by its holder and scanned at the door at the same instant,
    through a real server: each ends either admitted and confirmed, or cancelled with nobody in;
    places equal the people holding them."""
    door, server, token = gate
    codes = [door.ticket(party=1 + n % 4) for n in range(20)]
    door.starts_now(door.morning)
    holders = []
    for code in codes:
        browser = requests.Session()
        page = browser.get(f"{server.url}/t/{code}/cancel", timeout=30).text
        holders.append((browser, re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                           page).group(1)))

    def cancel(browser, token_value, code):
        return lambda: browser.post(f"{server.url}/t/{code}/cancel",
                                    data={"csrf_token": token_value}, timeout=60,
                                    allow_redirects=False).status_code

    def scan(code):
        return lambda: requests.post(f"{server.url}/api/v1/checkins", timeout=60, json={
            "code": code, "event_id": door.event_id, "session_id": door.morning},
            headers={"Authorization": f"Bearer {token}"}).json()["result"]

    calls = []
    for (browser, token_value), code in zip(holders, codes, strict=True):
        calls += [cancel(browser, token_value, code), scan(code)]
    answers = together(calls)
    assert set(answers[0::2]) == {303}, server.errors()
    assert set(answers[1::2]) <= {"admitted", "cancelled"}, (answers, server.errors())
    with door.app.app_context():
        rows = db.session.execute(select(Registration.code, Registration.status,
                                         Registration.admitted_people, Registration.party_size)
                                  .where(Registration.code.in_(codes))).all()
        outcomes = Counter()
        for row in rows:
            assert (row.status, row.admitted_people) in {
                (RegistrationStatus.CONFIRMED, row.party_size),
                (RegistrationStatus.CANCELLED, 0)}, row
            outcomes[row.status] += 1
        held = db.session.scalar(select(func.sum(Registration.party_size)).where(
            Registration.session_id == door.morning, Registration.status.in_(HOLDS_PLACES)))
        assert db.session.get(EventSession, door.morning).places_taken == (held or 0)
        entries = db.session.scalar(select(func.count(Admission.id)))
    assert sum(outcomes.values()) == 20 and entries == outcomes[RegistrationStatus.CONFIRMED]
    assert answers[1::2].count("admitted") == entries


# --- the door's admission window ----------------------------------------------------------------


def at(tour: Door, session_id: int, **delta):
    """The door's clock at a moment relative to a session's start."""
    with tour.app.app_context():
        start = db.session.get(EventSession, session_id).starts_at
    return mock.patch.object(checkin, "utcnow", lambda: start + timedelta(**delta))


def scan_at(tour: Door, code: str, moment, **kwargs) -> checkin.ScanAnswer:
    tour.on_the_day = False
    with moment:
        return tour.scan(code, **kwargs)


def test_before_the_window_the_door_says_admission_has_not_started(tour):
    code = tour.ticket()
    answer = scan_at(tour, code, at(tour, tour.morning, minutes=-61))
    assert answer.result == Result.NOT_YET_OPEN and answer.admission_id is None
    assert "该场次尚未开始入场" in answer.message
    assert tour.admitted(code) == 0
    assert scan_at(tour, code, at(tour, tour.morning, minutes=-59)).result == Result.ADMITTED


@pytest.mark.parametrize("days", [-1, 1, 7])
def test_a_ticket_of_another_day_is_not_todays_session(tour, days):
    """The device set to the ticket's own session: on another Shanghai day it still refuses."""
    code = tour.ticket()
    answer = scan_at(tour, code, at(tour, tour.morning, days=days))
    assert answer.result == Result.WRONG_DAY and answer.message.startswith("不是今天的场次")
    assert tour.admitted(code) == 0


def test_staff_may_override_and_the_override_is_recorded(app, tour):
    code = tour.ticket(party=2)
    answer = scan_at(tour, code, at(tour, tour.morning, days=-3), override=True)
    assert (answer.result, answer.admitted_people) == (Result.ADMITTED, 2)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).filter_by(action="admission_override"))
        assert entry.detail["overridden"] == "wrong_day"
        assert entry.detail["admission_id"] == answer.admission_id
        assert entry.actor_id == tour.staff_id


def test_an_override_never_lets_in_what_is_refused_for_another_reason(app, tour):
    code = tour.ticket()
    with app.app_context():
        cancellation.cancel(code)
    answer = scan_at(tour, code, at(tour, tour.morning, minutes=5), override=True)
    assert answer.result == Result.CANCELLED and tour.admitted(code) == 0
    elsewhere = tour.ticket(session=tour.afternoon)
    answer = scan_at(tour, elsewhere, at(tour, tour.morning, minutes=5), override=True)
    assert answer.result == Result.WRONG_SESSION


def test_a_station_of_the_tour_obeys_the_window_too(tour):
    code = tour.ticket()
    answer = scan_at(tour, code, at(tour, tour.morning, days=2), checkpoint=tour.station)
    assert answer.result == Result.WRONG_DAY


def test_the_window_is_the_events_own(app, factory):
    tour = make_door(app, factory, admission_opens_minutes=0)
    code = tour.ticket()
    assert scan_at(tour, code, at(tour, tour.morning, minutes=-1)).result == Result.NOT_YET_OPEN
    assert scan_at(tour, code, at(tour, tour.morning, minutes=0)).result == Result.ADMITTED


def test_the_api_answers_the_new_results_and_takes_the_override(app, client, tour):
    code = tour.ticket(party=2)
    headers = bearer(token_for(client, tour.staff_email))
    body = {"code": code, "event_id": tour.event_id, "session_id": tour.morning}
    with at(tour, tour.morning, days=-1):
        refused = client.post("/api/v1/checkins", json=body, headers=headers).get_json()
        assert refused["result"] == "wrong_day"
        assert refused["ticket"]["ticket_id"] == registration(app, code).id
        admitted = client.post("/api/v1/checkins", headers=headers, json={
            "ticket_id": refused["ticket"]["ticket_id"], "event_id": tour.event_id,
            "session_id": tour.morning, "override": True}).get_json()
    assert (admitted["result"], admitted["admitted_people"]) == ("admitted", 2)
    bad = client.post("/api/v1/checkins?lang=en", headers=headers, json={**body, "override": 1})
    assert bad.status_code == 422 and "override" in bad.get_json()["errors"]


def test_the_door_page_offers_to_admit_anyway_without_javascript(app, client, tour):
    code = tour.ticket(party=2)
    login(client, tour.staff_email)
    page = f"/door/events/{tour.event_id}?session_id={tour.morning}&lang=en"
    with at(tour, tour.morning, days=1):
        answer = submit(client, f"/door/events/{tour.event_id}?lang=en",
                        {"code": code, "session_id": tour.morning}, page=page)
        html = answer.get_data(as_text=True)
        assert "Not today&#39;s session" in html or "Not today's session" in html
        assert 'name="override" value="1"' in html and code not in html
        rid = registration(app, code).id
        assert f'name="ticket_id" value="{rid}"' in html
        done = submit(client, f"/door/events/{tour.event_id}?lang=en",
                      {"ticket_id": str(rid), "override": "1", "session_id": tour.morning},
                      page=page)
    assert "Admit 2" in done.get_data(as_text=True) or "2 people" in done.get_data(as_text=True)
    assert tour.admitted(code) == 2


# --- no-shows only once a session has ended ------------------------------------------------------


def test_an_upcoming_session_has_registrations_not_no_shows_in_every_report(app, client, factory,
                                                                           tour):
    tour.ticket(party=3)
    _id, email = factory.user("admin", org=None)
    login(client, email)
    page = client.get(f"/organiser/events/{tour.event_id}/report?lang=en").get_data(as_text=True)
    assert "of registered people did not come" not in page or "—" in page
    export = client.get(f"/organiser/events/{tour.event_id}/report.csv?lang=en")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    summary = {r[0]: r[1] for r in rows if len(r) >= 2}
    assert summary.get("No-show people") == "0"
    with app.app_context():
        for session in db.session.scalars(select(EventSession).filter_by(event_id=tour.event_id)):
            session.starts_at -= timedelta(days=10)
            session.ends_at -= timedelta(days=10)
        db.session.commit()
    export = client.get(f"/organiser/events/{tour.event_id}/report.csv?lang=en")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert {r[0]: r[1] for r in rows if len(r) >= 2}.get("No-show people") == "3"


def test_the_dashboard_counts_no_shows_of_ended_sessions_only(app, factory, tour):
    from qmevents.services.reporting import dashboards

    tour.ticket(party=3)

    def totals():
        with app.app_context():
            return dashboards.dashboard(dashboards.DashboardFilter()).totals.figures

    upcoming = totals()
    assert (upcoming.registered_people, upcoming.no_show_people, upcoming.no_show_rate) == (
        3, 0, None)
    with app.app_context():
        for session in db.session.scalars(select(EventSession).filter_by(event_id=tour.event_id)):
            session.starts_at -= timedelta(days=10)
            session.ends_at -= timedelta(days=10)
        db.session.commit()
    held = totals()
    assert (held.no_show_people, held.no_show_rate) == (3, 1.0)


def test_undoing_the_admission_of_a_cancelled_ticket_gives_its_places_back(app, tour):
    """3 of a family of 4 came in, then the organiser cancelled (one place freed, three in use);
    the door undoes the admission made by mistake: the three places are free again."""
    from qmevents.services.door import desk as door

    code = tour.ticket(party=4)
    admitted = tour.scan(code, people=3)
    with app.app_context():
        admin = db.session.get(User, tour.staff_id)
        admin.role = "admin"
        db.session.commit()
        cancellation.cancel_by_organiser(tour.event_id, registration(app, code).id, admin)
    assert places(app, tour.morning) == 3
    with app.app_context():
        door.undo(admitted.admission_id, db.session.get(User, tour.staff_id))
    assert places(app, tour.morning) == 0
    assert tour.figures(tour.morning).admitted_people == 0


def test_a_session_just_after_midnight_opens_its_door_the_evening_before(app, tour):
    """A session at 00:20: from 23:20 the evening before it is admitted (its window opens that
    day), a minute earlier it is not open yet, the day before that it is another day's;
    late-comers on its own day are still let in."""
    from qmevents.timeutil import SHANGHAI, to_local

    code = tour.ticket(party=1)
    with app.app_context():
        session = db.session.get(EventSession, tour.morning)
        day = to_local(session.starts_at).date()
        session.starts_at = datetime(day.year, day.month, day.day, 0, 20, tzinfo=SHANGHAI)
        session.ends_at = session.starts_at + timedelta(hours=2)
        db.session.commit()
    assert scan_at(tour, code, at(tour, tour.morning, hours=-26)).result == Result.WRONG_DAY
    assert scan_at(tour, code, at(tour, tour.morning, minutes=-61)).result == Result.NOT_YET_OPEN
    assert scan_at(tour, code, at(tour, tour.morning, minutes=-30)).result == Result.ADMITTED
    late = tour.ticket(party=1)
    assert scan_at(tour, late, at(tour, tour.morning, hours=20)).result == Result.ADMITTED
