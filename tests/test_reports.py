"""After the day the district office reports what happened: services.reporting.reports' event report
and dashboards, with figures made by the real door (check-in, walk-ins, tallies)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from qmevents.extensions import db
from qmevents.models import (
    Admission,
    Checkpoint,
    District,
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Organisation,
    Registration,
    RegistrationStatus,
    Tally,
    User,
)
from qmevents.services import access, events
from qmevents.services.door import checkin
from qmevents.services.door import desk as door
from qmevents.services.errors import Forbidden, NotFound, ValidationFailed
from qmevents.services.registrations import cancellation
from qmevents.services.registrations import register as reg
from qmevents.services.reporting import dashboards, reports
from qmevents.timeutil import SHANGHAI, from_local, utcnow

from .conftest import Factory, on_the_day

YANGPU = "杨浦区市场监督管理局"
XUHUI = "徐汇区市场监督管理局"


# --- the arrangement: events, tickets and a door worked by the city's admin ---------------------


@dataclass
class Scene:
    event_id: int
    sessions: list[int]
    checkpoints: list[int]  # the entrance first


@dataclass
class Campaign:
    """Events of several organisations, registered for and checked in through the services."""

    app: Flask
    factory: Factory
    admin_id: int
    _phones: int = 0

    def event(self, org: str = YANGPU, district: str = "杨浦区", days: int = 7,
              starts: list[datetime] | None = None, **fields) -> Scene:
        """A family tour (entrance and one station, two tallies), two sessions on one day."""
        begin = (utcnow() + timedelta(days=days)).replace(second=0, microsecond=0)
        starts = starts or [begin, begin + timedelta(hours=4)]
        fields = {"kind": "family_tour", "checkpoints": ["入口", "质量展厅"],
                  "tallies": ["资料发放", "咨询"], "district": district, "title": f"{org}的活动",
                  "sessions": [events.SessionDraft(starts_at=s, ends_at=s + timedelta(hours=2),
                                                   capacity=60, label=f"第{i + 1}场")
                               for i, s in enumerate(starts)],
                  **fields}
        event_id = self.factory.event(org, **fields)
        with self.app.app_context():
            sessions = list(db.session.scalars(
                select(EventSession.id).filter_by(event_id=event_id).order_by(EventSession.starts_at)))
            checkpoints = list(db.session.scalars(
                select(Checkpoint.id).filter_by(event_id=event_id).order_by(Checkpoint.position)))
        return Scene(event_id, sessions, checkpoints)

    def ticket(self, scene: Scene, party: int = 3, session: int = 0) -> str:
        self._phones += 1
        with self.app.app_context():
            return reg.register(reg.RegistrationRequest(
                event_id=scene.event_id, session_id=scene.sessions[session], name="张伟",
                phone=f"1391234{self._phones:04d}", party_size=party, consent=True)).code

    def scan(self, scene: Scene, code: str, people: int | None = None, session: int = 0,
             station: bool = False) -> checkin.Answer:
        with self.app.app_context(), on_the_day(self.app, scene.sessions[session]):
            return checkin.redeem(
                code, event_id=scene.event_id, session_id=scene.sessions[session],
                checkpoint_id=scene.checkpoints[1] if station else None, people=people,
                staff=db.session.get(User, self.admin_id))

    def walk_in(self, scene: Scene, people: int, session: int = 0) -> None:
        with self.app.app_context(), on_the_day(self.app, scene.sessions[session]):
            door.walk_in(scene.event_id, scene.sessions[session], people,
                         db.session.get(User, self.admin_id))

    def bump(self, scene: Scene, name: str, by: int) -> None:
        with self.app.app_context():
            tally = db.session.scalar(select(Tally.id).filter_by(event_id=scene.event_id,
                                                                 name=name))
            door.bump_tally(scene.event_id, tally, by, db.session.get(User, self.admin_id))

    def report(self, scene: Scene) -> reports.EventReport:
        with self.app.app_context():
            return reports.event_report(scene.event_id)

    def dashboard(self, **filter_fields) -> dashboards.Dashboard:
        with self.app.app_context():
            return dashboards.dashboard(dashboards.DashboardFilter(**filter_fields))

    # What time does to the scene: set through the database, as the clock would have.

    def admitted_at(self, scene: Scene, *times: datetime) -> None:
        """The event's admissions, in the order made, happened at these times."""
        with self.app.app_context():
            ids = db.session.scalars(select(Admission.id).filter_by(event_id=scene.event_id)
                                     .order_by(Admission.id)).all()
            for admission_id, at in zip(ids, times, strict=True):
                db.session.execute(update(Admission).where(Admission.id == admission_id)
                                   .values(at=at))
            db.session.commit()

    def moved(self, scene: Scene, start: datetime) -> None:
        """The event's sessions, one after the other, from `start` (e.g. in the past)."""
        with self.app.app_context():
            for i, session_id in enumerate(scene.sessions):
                session = db.session.get(EventSession, session_id)
                session.starts_at = start + timedelta(hours=4 * i)
                session.ends_at = session.starts_at + timedelta(hours=2)
            db.session.commit()

    def district_id(self, name: str) -> int:
        with self.app.app_context():
            return db.session.scalar(select(District.id).filter_by(name=name))

    def organisation_id(self, name: str) -> int:
        with self.app.app_context():
            return db.session.scalar(select(Organisation.id).filter_by(name=name))


def make_campaign(app: Flask, factory: Factory) -> Campaign:
    admin_id, _ = factory.user("admin")
    return Campaign(app, factory, admin_id)


@pytest.fixture
def campaign(app, factory) -> Campaign:
    return make_campaign(app, factory)


def shanghai(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return from_local(datetime(day.year, day.month, day.day, hour, minute, second), SHANGHAI)


# --- the event report -----------------------------------------------------------------------------


def test_the_report_sets_people_and_parties_admitted_against_those_registered(campaign):
    tour = campaign.event()
    whole, part, absent = (campaign.ticket(tour, 3), campaign.ticket(tour, 2),
                           campaign.ticket(tour, 4))
    campaign.scan(tour, whole)
    campaign.scan(tour, part, people=1)
    totals = campaign.report(tour).totals
    assert (totals.registered_parties, totals.registered_people) == (3, 9)
    assert (totals.admitted_parties, totals.admitted_people) == (2, 4)
    # Both sessions are still to come: registrations, not no-shows.
    assert (totals.no_show_parties, totals.no_show_people, totals.no_show_rate) == (0, 0, None)
    campaign.moved(tour, utcnow() - timedelta(days=2))  # the day is over
    totals = campaign.report(tour).totals
    assert (totals.no_show_parties, totals.no_show_people) == (1, 5)
    assert totals.no_show_rate == pytest.approx(5 / 9)
    assert absent


def test_only_confirmed_registrations_count_as_registered(campaign):
    tour = campaign.event()
    campaign.ticket(tour, 2)
    waiting = campaign.ticket(tour, 4)
    with campaign.app.app_context():
        db.session.execute(update(Registration).filter_by(code=waiting)
                           .values(status=RegistrationStatus.WAITLISTED))
        db.session.commit()
    assert campaign.report(tour).totals.registered_people == 2


def test_walk_ins_are_families_and_people_apart_from_tickets(campaign):
    tour = campaign.event()
    campaign.scan(tour, campaign.ticket(tour, 3))
    campaign.walk_in(tour, 5)
    campaign.walk_in(tour, 1)
    totals = campaign.report(tour).totals
    assert (totals.walk_in_groups, totals.walk_in_people) == (2, 6)
    assert totals.admitted_people == 3
    assert (totals.families, totals.people) == (3, 9)


def test_a_family_coming_in_part_by_part_is_one_party(campaign):
    tour = campaign.event()
    code = campaign.ticket(tour, 3)
    campaign.scan(tour, code, people=1)
    campaign.scan(tour, code, people=2)
    report = campaign.report(tour)
    entrance = report.checkpoints[0]
    assert (entrance.parties, entrance.people) == (1, 3)
    assert (report.totals.admitted_parties, report.totals.admitted_people) == (1, 3)


def test_a_re_entry_is_recorded_but_never_counted_twice(campaign):
    tour = campaign.event(allow_reentry=True)
    code = campaign.ticket(tour, 2)
    campaign.scan(tour, code)
    assert campaign.scan(tour, code).reentry
    report = campaign.report(tour)
    assert report.totals.people == 2
    assert (report.checkpoints[0].parties, report.checkpoints[0].people) == (1, 2)
    assert sum(b.people for b in report.arrivals) == 2


def test_visits_at_a_station_are_counted_per_checkpoint(campaign):
    tour = campaign.event()
    first, second = campaign.ticket(tour, 3), campaign.ticket(tour, 2)
    campaign.scan(tour, first)
    campaign.scan(tour, first, station=True)
    campaign.scan(tour, first, station=True)  # a second phone at the station: once
    campaign.scan(tour, second, station=True)  # the station may be the first stop
    entrance, station = campaign.report(tour).checkpoints
    assert (entrance.name, entrance.position, entrance.parties, entrance.people) == (
        "入口", 0, 1, 3)
    assert (station.name, station.parties, station.people) == ("质量展厅", 2, 5)


def test_the_services_given_are_in_the_report(campaign):
    tour = campaign.event()
    campaign.bump(tour, "资料发放", 12)
    campaign.bump(tour, "咨询", 3)
    campaign.bump(tour, "咨询", -1)
    assert [(t.name, t.count) for t in campaign.report(tour).tallies] == [
        ("资料发放", 12), ("咨询", 2)]


def test_each_session_has_its_own_figures(campaign):
    tour = campaign.event()
    campaign.scan(tour, campaign.ticket(tour, 3, session=0), session=0)
    campaign.ticket(tour, 4, session=1)
    campaign.walk_in(tour, 2, session=1)
    morning, afternoon = campaign.report(tour).sessions
    assert (morning.label, morning.capacity) == ("第1场", 60)
    assert (morning.figures.registered_people, morning.figures.admitted_people,
            morning.figures.walk_in_people) == (3, 3, 0)
    assert (afternoon.figures.registered_people, afternoon.figures.admitted_people,
            afternoon.figures.walk_in_people) == (4, 0, 2)
    assert afternoon.figures.no_show_rate is None  # not held yet
    campaign.moved(tour, utcnow() - timedelta(days=2))
    _morning, afternoon = campaign.report(tour).sessions
    assert afternoon.figures.no_show_rate == 1.0


def test_the_arrival_curve_counts_people_per_quarter_hour_with_empty_ones_kept(campaign):
    tour = campaign.event()
    campaign.scan(tour, campaign.ticket(tour, 3))
    campaign.scan(tour, campaign.ticket(tour, 2))
    campaign.walk_in(tour, 4)
    day = date(2026, 9, 20)
    campaign.admitted_at(tour, shanghai(day, 9, 2), shanghai(day, 9, 14, 59),
                         shanghai(day, 9, 45))
    arrivals = campaign.report(tour).arrivals
    assert [(b.starts_at, b.people) for b in arrivals] == [
        (shanghai(day, 9, 0), 5), (shanghai(day, 9, 15), 0), (shanghai(day, 9, 30), 0),
        (shanghai(day, 9, 45), 4)]


def test_station_visits_are_no_arrivals(campaign):
    tour = campaign.event()
    campaign.scan(tour, campaign.ticket(tour, 3), station=True)
    assert campaign.report(tour).arrivals == []


def test_people_who_came_in_stay_counted_when_the_organiser_cancels_their_ticket(campaign):
    """The holder can no longer cancel; the organiser can, and the people who came still count,
    the same in the totals, at the entrance and on the curve, before and after."""
    tour = campaign.event()
    stays, leaves = campaign.ticket(tour, 3), campaign.ticket(tour, 4)
    campaign.scan(tour, stays)
    campaign.scan(tour, leaves, people=2)
    before = campaign.report(tour)
    with campaign.app.app_context(), pytest.raises(cancellation.AdmittedCannotCancel):
        cancellation.cancel(leaves)
    with campaign.app.app_context():
        registration = db.session.scalar(select(Registration).filter_by(code=leaves))
        cancellation.cancel_by_organiser(tour.event_id, registration.id,
                                         db.session.get(User, campaign.admin_id))
    report = campaign.report(tour)
    assert before.totals.people == report.totals.people == report.checkpoints[0].people == 5
    assert sum(b.people for b in report.arrivals) == 5
    assert (report.totals.registered_parties, report.totals.registered_people) == (2, 5)
    assert (report.totals.admitted_parties, report.totals.admitted_people) == (2, 5)
    campaign.moved(tour, utcnow() - timedelta(days=2))
    assert campaign.report(tour).totals.no_show_people == 0  # the cancelled two are not no-shows


def test_the_door_and_the_report_give_the_same_figures(campaign):
    tour = campaign.event()
    campaign.scan(tour, campaign.ticket(tour, 3), people=2)
    campaign.walk_in(tour, 2)
    campaign.bump(tour, "咨询", 4)
    report = campaign.report(tour)
    with campaign.app.app_context():
        live = door.attendance(tour.event_id)
    totals = report.totals
    assert (live.registered_people, live.admitted_people, live.admitted_parties,
            live.walk_in_people) == (totals.registered_people, totals.admitted_people,
                                     totals.admitted_parties, totals.walk_in_people)
    assert [c.people for c in live.checkpoints] == [c.people for c in report.checkpoints]
    assert [t.count for t in live.tallies] == [t.count for t in report.tallies]


def test_the_report_is_final_once_the_last_session_is_over(campaign):
    tour = campaign.event()
    report = campaign.report(tour)
    assert (report.final, report.live) == (False, False)
    campaign.moved(tour, utcnow() - timedelta(hours=1))  # the first session runs now
    assert (campaign.report(tour).final, campaign.report(tour).live) == (False, True)
    campaign.moved(tour, utcnow() - timedelta(days=1))
    report = campaign.report(tour)
    assert (report.final, report.live) == (True, False)
    assert report.ends_at <= report.generated_at


def test_the_report_says_what_the_event_is(campaign):
    tour = campaign.event(host="上海威派格智慧水务股份有限公司")
    report = campaign.report(tour)
    assert (report.title, report.kind, report.district, report.organisation, report.host) == (
        f"{YANGPU}的活动", EventKind.FAMILY_TOUR, "杨浦区", YANGPU, "上海威派格智慧水务股份有限公司")
    assert report.starts_at < report.ends_at


@pytest.mark.parametrize("event_id", [0, 999_999, 2**40])
def test_an_unknown_event_has_no_report(campaign, event_id):
    with campaign.app.app_context(), pytest.raises(NotFound):
        reports.event_report(event_id)


def count_queries(app: Flask, call) -> int:
    statements = []

    def seen(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
        sa_event.listen(engine, "before_cursor_execute", seen)
        try:
            call()
        finally:
            sa_event.remove(engine, "before_cursor_execute", seen)
    return len(statements)


def test_the_report_costs_the_same_few_queries_whatever_the_crowd(campaign):
    small, large = campaign.event(), campaign.event(org=XUHUI, district="徐汇区")
    campaign.scan(small, campaign.ticket(small, 2))
    for _ in range(12):
        campaign.scan(large, campaign.ticket(large, 3))
        campaign.walk_in(large, 2)
    few = count_queries(campaign.app, lambda: reports.event_report(small.event_id))
    many = count_queries(campaign.app, lambda: reports.event_report(large.event_id))
    assert few == many <= 7  # the survey's answers are one query of them


# --- the dashboards -------------------------------------------------------------------------------


@pytest.fixture
def two_districts(campaign) -> tuple[Scene, Scene, Scene]:
    """Yangpu: a tour (6 in of 7 registered, 2 walk-ins) and a lecture; Xuhui: an open day."""
    tour = campaign.event()
    campaign.scan(tour, campaign.ticket(tour, 3))
    campaign.scan(tour, campaign.ticket(tour, 4), people=3)
    campaign.walk_in(tour, 2)
    campaign.bump(tour, "资料发放", 10)
    lecture = campaign.event(kind="lecture", tallies=["咨询"], checkpoints=["入口"],
                             starts=[(utcnow() + timedelta(days=9)).replace(microsecond=0)])
    campaign.ticket(lecture, 2)
    campaign.bump(lecture, "咨询", 5)
    open_day = campaign.event(org=XUHUI, district="徐汇区", kind="open_day")
    campaign.scan(open_day, campaign.ticket(open_day, 4))
    campaign.bump(open_day, "资料发放", 7)
    return tour, lecture, open_day


def test_the_dashboard_sums_per_district(campaign, two_districts):
    board = campaign.dashboard()
    xuhui, yangpu = board.by_district  # the city's order of districts
    assert (yangpu.name, yangpu.name_en, yangpu.events, yangpu.sessions) == (
        "杨浦区", "Yangpu", 2, 3)
    assert (yangpu.figures.registered_parties, yangpu.figures.registered_people) == (3, 9)
    assert (yangpu.figures.admitted_parties, yangpu.figures.admitted_people) == (2, 6)
    assert (yangpu.figures.walk_in_groups, yangpu.figures.walk_in_people) == (1, 2)
    assert yangpu.tallies == 15
    assert (xuhui.name, xuhui.events, xuhui.figures.people, xuhui.tallies) == ("徐汇区", 1, 4, 7)
    assert (board.totals.events, board.totals.sessions, board.totals.figures.people,
            board.totals.tallies) == (3, 5, 12, 22)


def test_the_dashboard_sums_per_organisation(campaign, two_districts):
    lines = {o.name: o for o in campaign.dashboard().by_organisation}
    assert list(lines) == [XUHUI, YANGPU]  # by their districts, in the city's order
    assert (lines[YANGPU].events, lines[YANGPU].figures.families) == (2, 3)
    assert lines[XUHUI].figures.admitted_people == 4


def test_the_dashboard_counts_events_by_kind_and_services_by_name(campaign, two_districts):
    board = campaign.dashboard()
    assert board.by_kind == [(EventKind.OPEN_DAY, 1), (EventKind.FAMILY_TOUR, 1),
                             (EventKind.LECTURE, 1)]
    assert [(t.name, t.count) for t in board.tallies] == [("资料发放", 17), ("咨询", 5)]


def test_the_dashboard_counts_people_per_shanghai_day(campaign):
    tour = campaign.event()
    campaign.scan(tour, campaign.ticket(tour, 3))
    campaign.scan(tour, campaign.ticket(tour, 2))
    campaign.walk_in(tour, 4)
    day = date(2026, 9, 20)
    # 23:50 and 00:10 in Shanghai: two days, though the same UTC date.
    campaign.admitted_at(tour, shanghai(day, 23, 50), shanghai(day + timedelta(days=1), 0, 10),
                         shanghai(day + timedelta(days=3), 9))
    by_day = [(d.day, d.people) for d in campaign.dashboard().by_day]
    assert by_day == [(day, 3), (day + timedelta(days=1), 2), (day + timedelta(days=2), 0),
                      (day + timedelta(days=3), 4)]


def test_drafts_and_cancelled_events_do_not_count(campaign, factory):
    campaign.event()
    campaign.event(org=XUHUI, district="徐汇区", publish=False)
    cancelled = campaign.event(org=XUHUI, district="徐汇区")
    campaign.ticket(cancelled, 2)
    with campaign.app.app_context():
        events.cancel(db.session.get(Event, cancelled.event_id))
    board = campaign.dashboard()
    assert [d.name for d in board.by_district] == ["杨浦区"]
    assert board.totals.events == 1


def test_the_date_range_picks_sessions_by_their_start_in_shanghai(campaign):
    day = (utcnow() + timedelta(days=10)).astimezone(SHANGHAI).date()
    # 00:30 in Shanghai is the evening before in UTC: the session is on `day`.
    tour = campaign.event(starts=[shanghai(day, 0, 30), shanghai(day + timedelta(days=2), 9)])
    campaign.ticket(tour, 3, session=0)
    campaign.ticket(tour, 2, session=1)
    first = campaign.dashboard(date_from=day, date_to=day)
    assert (first.totals.events, first.totals.sessions,
            first.totals.figures.registered_people) == (1, 1, 3)
    assert campaign.dashboard(date_to=day - timedelta(days=1)).totals.events == 0
    later = campaign.dashboard(date_from=day + timedelta(days=1))
    assert (later.totals.sessions, later.totals.figures.registered_people) == (1, 2)


def test_the_dashboard_filters_by_kind_and_district(campaign, two_districts):
    lectures = campaign.dashboard(kind=EventKind.LECTURE)
    assert (lectures.totals.events, lectures.totals.figures.registered_people) == (1, 2)
    assert campaign.dashboard(kind="lecture").filter.kind is EventKind.LECTURE
    xuhui = campaign.dashboard(district_id=campaign.district_id("徐汇区"))
    assert [d.name for d in xuhui.by_district] == ["徐汇区"]
    assert xuhui.totals.figures.people == 4


def test_an_organisations_dashboard_holds_its_own_events_only(campaign, two_districts):
    own = campaign.dashboard(organisation_id=campaign.organisation_id(XUHUI))
    assert [o.name for o in own.by_organisation] == [XUHUI]
    assert (own.totals.events, own.totals.tallies) == (1, 7)


def test_a_range_that_ends_before_it_starts_is_refused(campaign):
    with pytest.raises(ValidationFailed) as refused:
        campaign.dashboard(date_from=date(2026, 9, 30), date_to=date(2026, 9, 1))
    assert set(refused.value.errors) == {"date_to"}


def test_a_date_in_no_sensible_year_is_refused(campaign):
    with pytest.raises(ValidationFailed) as refused:
        campaign.dashboard(date_from=date(1, 1, 1))
    assert set(refused.value.errors) == {"date_from"}


@pytest.mark.parametrize("filter_fields", [
    {"district_id": 999}, {"district_id": 0}, {"kind": "picnic"}, {"organisation_id": 424242},
])
def test_an_unknown_district_kind_or_organisation_is_not_found(campaign, filter_fields):
    with pytest.raises(NotFound):
        campaign.dashboard(**filter_fields)


def test_an_empty_dashboard_is_all_zeros(campaign):
    board = campaign.dashboard()
    assert (board.by_district, board.by_organisation, board.by_kind, board.by_day) == (
        [], [], [], [])
    assert board.totals.figures.people == 0


def test_the_dashboard_costs_the_same_few_queries_whatever_the_campaign(campaign):
    campaign.event()
    few = count_queries(campaign.app, lambda: dashboards.dashboard(dashboards.DashboardFilter()))
    for org, district in ((XUHUI, "徐汇区"), ("浦东新区市场监督管理局", "浦东新区")):
        scene = campaign.event(org=org, district=district)
        for _ in range(5):
            campaign.scan(scene, campaign.ticket(scene, 2))
    many = count_queries(campaign.app, lambda: dashboards.dashboard(dashboards.DashboardFilter()))
    assert few == many <= 7  # the survey's answers are one query of them


def test_cancelled_status_is_kept_in_the_report(campaign):
    tour = campaign.event()
    with campaign.app.app_context():
        db.session.get(Event, tour.event_id).status = EventStatus.CANCELLED
        db.session.commit()
    report = campaign.report(tour)
    assert (report.cancelled, report.live) == (True, False)


def test_an_organiser_is_scoped_to_its_own_organisation_whatever_it_asks(app, factory):
    organiser_id, _ = factory.user("organiser", org="杨浦区市场监督管理局", district="杨浦区")
    admin_id, _ = factory.user("admin", org=None)
    staff_id, _ = factory.user("staff", org="杨浦区市场监督管理局", district="杨浦区")
    with app.app_context():
        organiser, admin, staff = (db.session.get(User, i) for i in (organiser_id, admin_id,
                                                                      staff_id))
        asked = organiser.organisation_id + 1
        assert access.dashboard_scope(organiser, asked) == organiser.organisation_id
        assert access.dashboard_scope(admin, asked) == asked
        assert access.dashboard_scope(admin, None) is None
        with pytest.raises(Forbidden):
            access.dashboard_scope(staff, asked)
