"""A volunteer at the gate scans tickets: every answer the door can give, through
services.door.checkin.redeem — the function the door page and the API both call."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, timedelta
from unittest import mock

import pytest
from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import (
    Admission,
    Checkpoint,
    Event,
    EventSession,
    Registration,
    RegistrationStatus,
    StaffAssignment,
    User,
)
from qmevents.services import access, events
from qmevents.services.door import checkin
from qmevents.services.door import desk as door
from qmevents.services.door.checkin import Result
from qmevents.services.errors import Forbidden, NotFound, ValidationFailed
from qmevents.services.registrations import cancellation, codes
from qmevents.services.registrations import register as reg
from qmevents.timeutil import SHANGHAI, to_local, utcnow

from .conftest import Factory

BUREAU = "杨浦区市场监督管理局"


# --- the arrangement: a family tour with two sessions, an entrance and a station ---------------


@dataclass
class Door:
    """A family tour a week ahead (morning and afternoon sessions), its entrance and a station,
    and door staff assigned to it."""

    app: Flask
    factory: Factory
    event_id: int
    morning: int  # session ids
    afternoon: int
    entrance: int  # checkpoint ids
    station: int
    staff_id: int
    staff_email: str
    _phones: int = 0
    # Scans happen on the day of the event, ten minutes into the session the device is set to
    # (registering happens a week before); False: the door's own clock, e.g. one a test set.
    on_the_day: bool = True

    def ticket(self, party: int = 3, session: int | None = None, name: str = "张伟",
               phone: str | None = None, event_id: int | None = None) -> str:
        """A family registers through the registration service; their ticket code."""
        self._phones += 1
        with self.app.app_context():
            return reg.register(reg.RegistrationRequest(
                event_id=event_id or self.event_id, session_id=session or self.morning,
                name=name, phone=phone or f"1381234{self._phones:04d}", party_size=party,
                consent=True)).code

    def scan(self, raw: str, *, session: int | None | str = "morning",
             checkpoint: int | None = None, people: int | None = None,
             staff_id: int | None = None, event_id: int | None = None,
             **kwargs) -> checkin.Answer:
        """One scan at a device set to the morning session at the entrance, unless told."""
        session_id = self.morning if session == "morning" else session
        with self.app.app_context(), self.clock(session_id):
            staff = db.session.get(User, staff_id or self.staff_id)
            return checkin.redeem(raw, event_id=event_id or self.event_id,
                                  session_id=session_id, checkpoint_id=checkpoint,
                                  people=people, staff=staff, **kwargs)

    @contextmanager
    def clock(self, session_id: int | None = None) -> Iterator[None]:
        """The door's clock ten minutes into the session the device is set to, or into the
        morning session (see `on_the_day`)."""
        if not self.on_the_day:
            yield
            return
        with self.app.app_context():
            start = db.session.get(EventSession, session_id or self.morning).starts_at
        with mock.patch.object(checkin, "utcnow", lambda: start + timedelta(minutes=10)):
            yield

    def admitted(self, code: str) -> int:
        with self.app.app_context():
            return db.session.scalar(select(Registration.admitted_people).filter_by(code=code))

    def set_status(self, code: str, status: RegistrationStatus) -> None:
        """What an organiser's decision (waiting list, approval, lottery) leaves on a ticket."""
        with self.app.app_context():
            db.session.scalar(select(Registration).filter_by(code=code)).status = status
            db.session.commit()

    def starts_now(self, session_id: int) -> None:
        """The day of the event comes: the session runs now (registrations were made before)."""
        now = utcnow().replace(microsecond=0)
        with self.app.app_context():
            session = db.session.get(EventSession, session_id)
            session.starts_at, session.ends_at = now - timedelta(minutes=30), now + timedelta(hours=2)
            db.session.commit()

    def figures(self, session_id: int | None = None) -> door.Figures:
        with self.app.app_context():
            return door.attendance(self.event_id, session_id)


def make_door(app: Flask, factory: Factory, **overrides) -> Door:
    # 09:00 in Shanghai a week ahead: the sessions never cross midnight, whenever tests run.
    start = to_local(utcnow() + timedelta(days=7)).replace(
        hour=9, minute=0, second=0, microsecond=0).astimezone(UTC)
    sessions = [
        events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2), capacity=60,
                            label="上午场"),
        events.SessionDraft(starts_at=start + timedelta(hours=4),
                            ends_at=start + timedelta(hours=6), capacity=60, label="下午场"),
    ]
    fields = dict(title="杨浦区家庭质量探寻之旅", kind="family_tour", max_party_size=4,
                  sessions=sessions, checkpoints=["入口", "质量展厅"],
                  tallies=["资料发放", "咨询"])
    fields.update(overrides)
    event_id = factory.event(BUREAU, **fields)
    staff_id, staff_email = factory.user("staff", org=BUREAU)
    with app.app_context():
        db.session.add(StaffAssignment(user_id=staff_id, event_id=event_id))
        db.session.commit()
        morning, afternoon = db.session.scalars(
            select(EventSession.id).filter_by(event_id=event_id).order_by(EventSession.starts_at))
        entrance, station = db.session.scalars(
            select(Checkpoint.id).filter_by(event_id=event_id).order_by(Checkpoint.position))
    return Door(app, factory, event_id, morning, afternoon, entrance, station, staff_id,
                staff_email)


@pytest.fixture
def tour(app, factory) -> Door:
    return make_door(app, factory)


# --- reading what was scanned -------------------------------------------------------------------


CODE = "ABCDEFGHJKMNPQRSTVWX"


@pytest.mark.parametrize("scanned", [
    CODE,
    CODE.lower(),
    "ABCD EFGH JKMN PQRS TVWX",  # as printed on the ticket
    "ABCD-EFGH-JKMN-PQRS-TVWX",
    f"https://zlj.example.gov.cn/t/{CODE}",
    f"http://127.0.0.1:5000/t/{CODE}?lang=en",
    f"/t/{CODE}",
    f"zlj.example.gov.cn/t/{CODE}#qr",
    "ＡＢＣＤＥＦＧＨＪＫＭＮＰＱＲＳＴＶＷＸ",  # full-width, from a Chinese input method
    f"  {CODE}\n",
])
def test_a_whole_ticket_url_and_a_bare_code_read_the_same(scanned):
    assert checkin.read_code(scanned) == CODE


@pytest.mark.parametrize("scanned", [
    "", "   ", "hello", "ABCDEFGHJKMNPQRSTVW", CODE + "Y", "https://evil.example/t/",
    "https://evil.example/x/ABC", "\x00\xff\xfe" * 10, "A" * 100_000, "张伟",
    "<script>alert(1)</script>", None, 12345,
])
def test_garbage_reads_as_no_code(scanned):
    assert checkin.read_code(scanned) is None


# --- admitted -----------------------------------------------------------------------------------


def test_a_confirmed_family_is_admitted_whole(tour):
    code = tour.ticket(party=3, name="张伟", phone="13812345678")
    answer = tour.scan(f"https://zlj.example.gov.cn/t/{code}")
    assert answer.result == Result.ADMITTED
    assert (answer.admitted_people, answer.remaining_people) == (3, 0)
    assert answer.admission_id is not None and not answer.reentry
    assert answer.ticket.name == "张伟"
    assert answer.ticket.phone_masked == "138****5678"
    assert answer.ticket.admitted_people == 3
    assert tour.admitted(code) == 3


def test_a_family_admitted_in_part_brings_the_rest_later(tour):
    code = tour.ticket(party=4)
    first = tour.scan(code, people=2)
    assert (first.result, first.admitted_people, first.remaining_people) == (Result.ADMITTED, 2, 2)
    later = tour.scan(code)
    assert (later.result, later.admitted_people, later.remaining_people) == (Result.ADMITTED, 2, 0)
    assert tour.admitted(code) == 4
    assert tour.scan(code).result == Result.ALREADY_ADMITTED


def test_a_ticket_fully_in_is_already_admitted_saying_when_where_and_by_whom(tour):
    code = tour.ticket()
    tour.scan(code)
    again = tour.scan(code)
    assert again.result == Result.ALREADY_ADMITTED
    assert (again.admitted_people, again.admission_id) == (0, None)
    assert again.previous.checkpoint_name == "入口"
    assert again.previous.by == tour.staff_email
    assert utcnow() - again.previous.at < timedelta(minutes=1)
    assert tour.admitted(code) == 3


def test_re_entry_is_refused_where_the_event_does_not_allow_it(tour):
    code = tour.ticket()
    tour.scan(code)
    assert tour.scan(code).result == Result.ALREADY_ADMITTED


def test_re_entry_where_allowed_is_recorded_but_never_counted_twice(app, factory):
    fair = make_door(app, factory, allow_reentry=True)
    code = fair.ticket(party=2)
    fair.scan(code)
    back = fair.scan(code)
    assert (back.result, back.reentry, back.admitted_people) == (Result.ADMITTED, True, 2)
    assert back.admission_id is not None
    assert fair.admitted(code) == 2
    figures = fair.figures()
    assert figures.admitted_people == 2
    assert figures.checkpoints[0].people == 2
    with app.app_context():
        assert db.session.scalar(select(Admission.id).where(Admission.id == back.admission_id))


def test_a_scan_is_one_read_then_the_write(tour, db_kind):
    """The door answers fast: one read, then the conditional UPDATE with the admission's INSERT.
    SQLite takes its write lock at the UPDATE, the first statement of the transaction; PostgreSQL
    runs both writes as one statement (WITH … UPDATE … INSERT), no transaction around it."""
    code = tour.ticket()
    statements: list[str] = []
    with tour.app.app_context(), tour.clock():
        staff = db.session.get(User, tour.staff_id)
        sa_event.listen(db.engine, "before_cursor_execute",
                        lambda *args: statements.append(args[2].split()[0]))
        answer = checkin.redeem(code, event_id=tour.event_id, session_id=tour.morning,
                                checkpoint_id=None, people=None, staff=staff)
    assert answer.result == Result.ADMITTED
    expected = ["SELECT", "WITH"] if db_kind == "postgresql" else ["SELECT", "UPDATE", "INSERT"]
    assert statements == expected


# --- refused ------------------------------------------------------------------------------------


def test_a_code_nobody_holds_is_unknown(tour):
    answer = tour.scan(codes.new_code())
    assert (answer.result, answer.ticket, answer.admission_id) == (Result.UNKNOWN, None, None)


@pytest.mark.parametrize("scanned", ["", "hello", "\x00\xff" * 40, "A" * 50_000, "张伟 138"])
def test_garbage_scans_are_unknown(tour, scanned):
    assert tour.scan(scanned).result == Result.UNKNOWN


def test_a_cancelled_registration_is_cancelled(tour):
    code = tour.ticket()
    with tour.app.app_context():
        cancellation.cancel(code)
    answer = tour.scan(code)
    assert answer.result == Result.CANCELLED
    assert tour.admitted(code) == 0


def test_every_ticket_of_a_cancelled_event_is_cancelled(tour):
    code = tour.ticket()
    with tour.app.app_context():
        events.cancel(db.session.get(Event, tour.event_id))
    assert tour.scan(code).result == Result.CANCELLED


@pytest.mark.parametrize("status", [RegistrationStatus.WAITLISTED, RegistrationStatus.OFFERED,
                                    RegistrationStatus.APPLIED, RegistrationStatus.DECLINED,
                                    RegistrationStatus.NOT_SELECTED])
def test_a_ticket_not_yet_confirmed_is_not_let_in(tour, status):
    code = tour.ticket()
    tour.set_status(code, status)
    answer = tour.scan(code)
    assert answer.result == Result.NOT_CONFIRMED
    assert answer.ticket.status == status.value
    assert tour.admitted(code) == 0


def test_a_ticket_on_the_waiting_list_is_not_confirmed(app, factory):
    full = make_door(app, factory, registration_mode="waitlist")
    with app.app_context():
        db.session.get(EventSession, full.morning).capacity = 2
        db.session.commit()
    full.ticket(party=2)
    waiting = full.ticket(party=2)
    answer = full.scan(waiting)
    assert (answer.result, answer.ticket.status) == (Result.NOT_CONFIRMED, "waitlisted")


def test_another_events_ticket_names_that_event_but_not_its_holder(app, factory, tour):
    other = make_door(app, factory, title="静安区质量月宣传咨询活动", kind="consultation")
    code = other.ticket(name="李娜", phone="13998765432")
    answer = tour.scan(code)
    assert answer.result == Result.WRONG_EVENT
    assert answer.ticket.event_title == "静安区质量月宣传咨询活动"
    assert (answer.ticket.name, answer.ticket.phone_masked) == ("", "")
    assert other.admitted(code) == 0


def test_a_device_set_to_one_session_refuses_the_others_tickets(tour):
    code = tour.ticket(session=tour.morning)
    answer = tour.scan(code, session=tour.afternoon)
    assert answer.result == Result.WRONG_SESSION
    assert answer.ticket.session_id == tour.morning
    assert tour.admitted(code) == 0


def test_a_device_set_to_no_session_takes_todays_tickets_and_refuses_other_days(tour):
    today = tour.ticket(session=tour.morning)
    next_week = tour.ticket(session=tour.afternoon)
    tour.starts_now(tour.morning)
    with tour.app.app_context():
        session = db.session.get(EventSession, tour.afternoon)
        session.starts_at += timedelta(days=7)
        session.ends_at += timedelta(days=7)
        db.session.commit()
    assert tour.scan(today, session=None).result == Result.ADMITTED
    refused = tour.scan(next_week, session=None)
    assert refused.result == Result.WRONG_DAY
    assert refused.message.startswith("不是今天的场次") and tour.admitted(next_week) == 0


def test_a_session_of_several_days_counts_on_each_of_them(tour):
    code = tour.ticket(session=tour.morning)
    with tour.app.app_context():
        session = db.session.get(EventSession, tour.morning)
        session.starts_at = utcnow() - timedelta(days=2)
        session.ends_at = utcnow() + timedelta(days=2)
        db.session.commit()
    assert tour.scan(code, session=None).result == Result.ADMITTED


def test_shanghai_dates_decide_what_today_is(tour, monkeypatch):
    """At 00:30 in Shanghai it is already the next day, though UTC still says the day before:
    a session at 01:00 is today's, and its admission window (an hour) is open."""
    code = tour.ticket(session=tour.morning)
    start = (utcnow() + timedelta(days=3)).astimezone(SHANGHAI).replace(
        hour=1, minute=0, second=0, microsecond=0)
    with tour.app.app_context():
        session = db.session.get(EventSession, tour.morning)
        session.starts_at, session.ends_at = start, start + timedelta(hours=2)
        db.session.commit()
    half_past_midnight = start.replace(hour=0, minute=30)  # 16:30 UTC the day before
    monkeypatch.setattr(checkin, "utcnow", lambda: half_past_midnight)
    tour.on_the_day = False  # the clock set here
    assert tour.scan(code, session=None).result == Result.ADMITTED


# --- stations of a tour ---------------------------------------------------------------------------


def test_a_station_records_one_visit_per_ticket(tour):
    code = tour.ticket(party=3)
    tour.scan(code)
    visit = tour.scan(code, checkpoint=tour.station)
    assert (visit.result, visit.admitted_people) == (Result.ADMITTED, 3)
    again = tour.scan(code, checkpoint=tour.station)
    assert again.result == Result.ALREADY_ADMITTED
    assert again.previous.checkpoint_name == "质量展厅"


def test_a_station_may_be_the_first_stop(tour):
    code = tour.ticket(party=2)
    visit = tour.scan(code, checkpoint=tour.station)
    assert (visit.result, visit.admitted_people) == (Result.ADMITTED, 2)
    assert tour.admitted(code) == 0
    assert tour.scan(code).result == Result.ADMITTED  # the entrance still lets them in


def test_a_station_counts_those_who_came_in(tour):
    code = tour.ticket(party=4)
    tour.scan(code, people=3)
    assert tour.scan(code, checkpoint=tour.station).admitted_people == 3


def test_visits_are_counted_per_station(tour):
    for party in (2, 3, 4):
        code = tour.ticket(party=party)
        tour.scan(code)
        if party != 3:
            tour.scan(code, checkpoint=tour.station)
    entrance, station = tour.figures().checkpoints
    assert (entrance.name, entrance.people) == ("入口", 9)
    assert (station.name, station.people) == ("质量展厅", 6)


# --- what the device asks for ---------------------------------------------------------------------


@pytest.mark.parametrize("people", [0, -1, 21, True])
def test_a_number_of_people_that_cannot_be_is_refused(tour, people):
    code = tour.ticket()
    with pytest.raises(ValidationFailed) as refused:
        tour.scan(code, people=people)
    assert "people" in refused.value.errors


def test_more_people_than_the_party_is_refused_and_admits_nobody(tour):
    code = tour.ticket(party=3)
    with pytest.raises(ValidationFailed):
        tour.scan(code, people=4)
    assert tour.admitted(code) == 0


def test_more_people_than_are_still_outside_is_refused(tour):
    code = tour.ticket(party=3)
    tour.scan(code, people=2)
    with pytest.raises(ValidationFailed) as refused:
        tour.scan(code, people=2)
    assert "people" in refused.value.errors
    assert tour.admitted(code) == 2


def test_a_checkpoint_or_session_of_another_event_is_refused(app, factory, tour):
    other = make_door(app, factory, title="另一场活动")
    code = tour.ticket()
    with pytest.raises(ValidationFailed) as refused:
        tour.scan(code, checkpoint=other.station)
    assert "checkpoint_id" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        tour.scan(code, session=other.morning)
    assert "session_id" in refused.value.errors
    assert tour.admitted(code) == 0


def test_an_unknown_event_is_not_found(tour):
    with pytest.raises(NotFound):
        tour.scan(tour.ticket(), event_id=999_999)
    with pytest.raises(NotFound):
        tour.scan(tour.ticket(), event_id=2**40)


@pytest.mark.parametrize("who", ["staff_elsewhere", "organiser_elsewhere"])
def test_those_without_rights_learn_nothing_of_the_ticket(app, factory, tour, who):
    code = tour.ticket()
    if who == "staff_elsewhere":
        user_id, _email = factory.user("staff", org=BUREAU)  # same bureau, not assigned
    else:
        user_id, _email = factory.user("organiser", org="静安区市场监督管理局", district="静安区")
    with pytest.raises(Forbidden):
        tour.scan(code, staff_id=user_id)
    assert tour.admitted(code) == 0


@pytest.mark.parametrize("role", ["organiser", "admin"])
def test_organisers_of_the_event_and_admins_may_scan(factory, tour, role):
    user_id, _email = factory.user(role, org=BUREAU)
    assert tour.scan(tour.ticket(), staff_id=user_id).result == Result.ADMITTED


def test_may_scan_says_who_works_the_door(app, factory, tour):
    outsider, _ = factory.user("staff", org=BUREAU)
    with app.app_context():
        event = db.session.get(Event, tour.event_id)
        assert access.may_scan(db.session.get(User, tour.staff_id), event)
        assert not access.may_scan(db.session.get(User, outsider), event)
