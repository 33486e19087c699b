"""`flask demo` also loads last year's Quality Month: past events, published, with the
registrations, admissions and tallies that give reports and the campaign digest their figures."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, func, select

from qmevents.demo import history
from qmevents.extensions import db
from qmevents.models import (
    Admission,
    AdmissionKind,
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
    Tally,
)
from qmevents.services import identity, listings
from qmevents.services.reporting import dashboards, reports
from qmevents.timeutil import to_local, utcnow


def year() -> int:
    return history.edition_year(to_local(utcnow()).date())


def past(title: str) -> Event:
    return db.session.scalar(select(Event).filter_by(title=history.past_title(year(), title)))


def past_events() -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.title.startswith(f"{year()}年"))))


def table_counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Event, EventSession, Registration, Admission, Tally)}


def test_last_years_edition_is_held_in_september_of_the_previous_year(app, demo):
    with app.app_context():
        held = past_events()
        assert len(held) == len(history.PLANS) == 20
        for event in held:
            assert event.status == EventStatus.PUBLISHED
            for s in event.sessions:
                local = to_local(s.starts_at)
                assert (local.year, local.month) == (year(), 9)
                assert s.ends_at < utcnow()


def test_the_demo_says_what_it_wrote_for_last_year(demo):
    assert f"Last year's edition (September {year()}" in demo
    assert "20 created, 0 already there" in demo


def test_running_demo_again_adds_nothing_to_last_years_edition(app, runner, demo):
    with app.app_context():
        before = table_counts()
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert "0 created, 20 already there (0 registrations, 0 admissions written)" in again.output
    with app.app_context():
        assert table_counts() == before


def test_the_same_rows_are_written_every_time(app, runner, demo):
    def fingerprint() -> list[tuple]:
        return db.session.execute(
            select(Registration.code, Registration.name, Registration.party_size,
                   Registration.admitted_people, Registration.status)
            .join(Event, Event.id == Registration.event_id)
            .where(Event.title.startswith(f"{year()}年")).order_by(Registration.code)
        ).all()

    with app.app_context():
        first = fingerprint()
        db.session.execute(delete(Event).where(Event.title.startswith(f"{year()}年")))
        db.session.commit()
        assert fingerprint() == []
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        assert fingerprint() == first


def test_places_taken_are_the_confirmed_parties_people(app, demo):
    with app.app_context():
        confirmed = (select(func.coalesce(func.sum(Registration.party_size), 0))
                     .where(Registration.session_id == EventSession.id,
                            Registration.status == RegistrationStatus.CONFIRMED)
                     .scalar_subquery())
        rows = db.session.execute(
            select(EventSession.places_taken, confirmed, EventSession.capacity)
            .join(Event).where(Event.title.startswith(f"{year()}年"))).all()
        assert rows
        for taken, people, capacity in rows:
            assert taken == people <= capacity


def test_nobody_is_admitted_beyond_their_party_or_without_a_confirmed_place(app, demo):
    with app.app_context():
        over = db.session.scalar(select(func.count()).select_from(Registration).where(
            Registration.admitted_people > Registration.party_size))
        unconfirmed_in = db.session.scalar(select(func.count()).select_from(Registration).where(
            Registration.admitted_people > 0,
            Registration.status != RegistrationStatus.CONFIRMED))
        entries_match = db.session.execute(
            select(Registration.admitted_people, func.sum(Admission.people))
            .join(Admission, Admission.registration_id == Registration.id)
            .where(Admission.kind == AdmissionKind.ENTRY).group_by(Registration.id)
        ).all()
        assert over == 0 and unconfirmed_in == 0
        assert entries_match and all(admitted == entered for admitted, entered in entries_match)


def test_putuo_tour_reproduces_the_press_figures(app, demo):
    with app.app_context():
        report = reports.event_report(past("普陀区家庭探寻质量发展之旅").id)
        assert report.totals.families == 204  # 至少200个家庭
        assert report.totals.people == 406  # 400余人次
        visited = [c for c in report.checkpoints if c.position > 0]
        assert len(visited) == 7 and all(0 < c.parties <= 204 for c in visited)


def test_fair_tallies_are_the_published_ones(app, demo):
    with app.app_context():
        chongming = {t.name: t.count for t in past("崇明区“质量月”现场宣传咨询活动").tallies}
        jingan = {t.name: t.count for t in past("静安区“质量月”宣传咨询便民活动").tallies}
        assert chongming == {"资料发放": 3012, "投诉受理": 5, "血压计校修": 20, "酒类鉴别": 46}
        assert jingan == {"血压测量": 83, "资料发放": 1216, "咨询": 134}


def test_qingpu_nine_talks_and_yangpu_three_hundred_people(app, demo):
    with app.app_context():
        talks = reports.event_report(past("青浦“质量故事巡讲”系列讲座").id)
        assert len(talks.sessions) == 9 and talks.totals.people == 503
        board = dashboards.dashboard(dashboards.DashboardFilter(
            date_from=date(year(), 9, 1), date_to=date(year(), 9, 30)))
        yangpu = next(line for line in board.by_district if line.name == "杨浦区")
        assert yangpu.figures.people == 307


def test_registrants_are_obviously_fake(app, demo):
    with app.app_context():
        rows = db.session.execute(
            select(Registration.name, Registration.phone).join(Event)
            .where(Event.title.startswith(f"{year()}年"))).all()
        assert len(rows) > 1000
        assert all(name.startswith("演示·") and identity.normalise_name(name) == name
                   for name, _ in rows)
        assert all(phone.startswith("100") and identity.normalise_mobile(phone) is None
                   for _, phone in rows)


def test_past_events_stay_off_the_public_list_and_their_pages_still_open(app, client, demo):
    with app.app_context():
        listed, total = listings.list_public_events(listings.ListingFilter(), limit=100)
        tour = past("普陀区家庭探寻质量发展之旅")
        assert total >= 20 and all(not e.event.title.startswith(f"{year()}年") for e in listed)
        tour_id = tour.id
    page = client.get("/").get_data(as_text=True)
    assert "普陀区家庭探寻质量发展之旅" in page and f"{year()}年普陀区" not in page
    assert client.get(f"/events/{tour_id}").status_code == 200


def test_press_sizes_add_up_exactly():
    import random

    rng = random.Random("sizes")
    for parties, people, largest in ((1, 1, 1), (198, 394, 5), (92, 92, 1), (10, 40, 4)):
        result = history.sizes(rng, parties, people, largest)
        assert len(result) == parties and sum(result) == people
        assert all(1 <= n <= largest for n in result)
    with pytest.raises(ValueError):
        history.sizes(rng, 3, 13, 4)
