"""The rest of the door, through services.door.desk: walk-ins, service tallies, the live figures,
finding a ticket without its code, undoing a mistake; and tallies and re-entry set up in the
organiser's event form."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import Admission, AuditEntry, Event, EventSession, Registration, Tally, User
from qmevents.services import events
from qmevents.services.door import desk as door
from qmevents.services.door.checkin import Result
from qmevents.services.errors import Forbidden, NotFound, ValidationFailed
from qmevents.timeutil import utcnow

from .conftest import login, submit
from .test_checkin import BUREAU, Door, make_door


@pytest.fixture
def tour(app, factory) -> Door:
    return make_door(app, factory)


def as_staff(tour: Door, call, *args, **kwargs):
    with tour.app.app_context():
        return call(*args, staff=db.session.get(User, tour.staff_id), **kwargs)


def tally_ids(tour: Door) -> dict[str, int]:
    with tour.app.app_context():
        return dict(db.session.execute(
            select(Tally.name, Tally.id).filter_by(event_id=tour.event_id)).all())


# --- walk-ins -----------------------------------------------------------------------------------


def test_anonymous_walk_ins_are_counted_in_the_figures(tour):
    answer = as_staff(tour, door.walk_in, tour.event_id, tour.morning, 5)
    as_staff(tour, door.walk_in, tour.event_id, tour.morning, 1)
    assert (answer.result, answer.admitted_people, answer.ticket) == (Result.ADMITTED, 5, None)
    assert answer.admission_id is not None
    figures = tour.figures()
    assert figures.walk_in_people == 6
    assert figures.admitted_people == 0  # of registrations: walk-ins are apart
    assert figures.checkpoints[0].people == 6


def test_a_named_walk_in_keeps_name_and_mobile(tour):
    answer = as_staff(tour, door.walk_in, tour.event_id, tour.morning, 2, name=" 王芳 ",
                      phone="+86 139 0000 1111")
    with tour.app.app_context():
        admission = db.session.get(Admission, answer.admission_id)
        assert (admission.name, admission.phone, admission.people) == ("王芳", "13900001111", 2)
        assert admission.registration_id is None
    assert "139****1111" in answer.message and "13900001111" not in answer.message


@pytest.mark.parametrize("people, name, phone, field", [
    (0, None, None, "people"), (501, None, None, "people"), (True, None, None, "people"),
    (2, "x" * 51, None, "name"), (2, "<b>", None, "name"), (2, None, "12345", "phone"),
])
def test_a_walk_in_that_cannot_be_is_refused_per_field(tour, people, name, phone, field):
    with pytest.raises(ValidationFailed) as refused:
        as_staff(tour, door.walk_in, tour.event_id, tour.morning, people, name=name, phone=phone)
    assert field in refused.value.errors
    assert tour.figures().walk_in_people == 0


def test_a_walk_in_without_a_session_joins_todays(tour):
    tour.starts_now(tour.afternoon)
    answer = as_staff(tour, door.walk_in, tour.event_id, None, 3)
    with tour.app.app_context():
        assert db.session.get(Admission, answer.admission_id).session_id == tour.afternoon
    assert tour.figures(tour.afternoon).walk_in_people == 3
    assert tour.figures(tour.morning).walk_in_people == 0


def test_a_walk_in_without_a_session_on_a_day_without_one_is_refused(tour):
    with pytest.raises(ValidationFailed) as refused:
        as_staff(tour, door.walk_in, tour.event_id, None, 3)
    assert "session_id" in refused.value.errors


def test_a_walk_in_needs_rights_at_the_door(factory, tour):
    outsider, _ = factory.user("staff", org=BUREAU)
    with tour.app.app_context(), pytest.raises(Forbidden):
        door.walk_in(tour.event_id, tour.morning, 2, db.session.get(User, outsider))


# --- tallies ------------------------------------------------------------------------------------


def test_staff_bump_a_service_tally(tour):
    handouts = tally_ids(tour)["资料发放"]
    assert as_staff(tour, door.bump_tally, tour.event_id, handouts, 1) == 1
    assert as_staff(tour, door.bump_tally, tour.event_id, handouts, 5) == 6
    assert as_staff(tour, door.bump_tally, tour.event_id, handouts, -2) == 4
    figures = {t.name: t.count for t in tour.figures().tallies}
    assert figures == {"资料发放": 4, "咨询": 0}


def test_a_correction_never_takes_a_tally_below_zero(tour):
    advice = tally_ids(tour)["咨询"]
    as_staff(tour, door.bump_tally, tour.event_id, advice, 2)
    assert as_staff(tour, door.bump_tally, tour.event_id, advice, -5) == 0


@pytest.mark.parametrize("by", [0, 1001, -1001, True, "1"])
def test_a_bump_that_cannot_be_is_refused(tour, by):
    with pytest.raises(ValidationFailed):
        as_staff(tour, door.bump_tally, tour.event_id, tally_ids(tour)["咨询"], by)


def test_another_events_tally_is_not_found(app, factory, tour):
    other = make_door(app, factory, title="另一场活动")
    with pytest.raises(NotFound):
        as_staff(tour, door.bump_tally, tour.event_id, tally_ids(other)["咨询"], 1)
    assert {t.count for t in other.figures().tallies} == {0}


# --- the figures ----------------------------------------------------------------------------------


def test_figures_set_people_and_parties_in_against_those_registered(tour):
    whole, partial, absent = tour.ticket(party=3), tour.ticket(party=4), tour.ticket(party=2)
    later = tour.ticket(party=2, session=tour.afternoon)
    tour.scan(whole)
    tour.scan(partial, people=1)
    tour.scan(later, session=tour.afternoon)
    assert absent
    figures = tour.figures()
    assert (figures.registered_people, figures.registered_parties) == (11, 4)
    assert (figures.admitted_people, figures.admitted_parties) == (6, 3)
    morning = tour.figures(tour.morning)
    assert (morning.registered_people, morning.registered_parties) == (9, 3)
    assert (morning.admitted_people, morning.admitted_parties) == (4, 2)


def test_figures_of_a_session_of_another_event_are_refused(app, factory, tour):
    other = make_door(app, factory, title="另一场活动")
    with tour.app.app_context(), pytest.raises(ValidationFailed):
        door.attendance(tour.event_id, other.morning)


# --- finding a ticket -----------------------------------------------------------------------------


def test_a_ticket_is_found_by_part_of_the_name_or_the_phones_last_digits(app, factory, tour):
    code = tour.ticket(name="欧阳娜娜", phone="13712345678")
    tour.ticket(name="张伟", phone="13700000000")
    other = make_door(app, factory, title="另一场活动")
    other.ticket(name="欧阳修", phone="13612345678")
    with app.app_context():
        by_name = door.search(tour.event_id, None, "欧阳")
        by_phone = door.search(tour.event_id, None, "5678")
        ticket_id = db.session.scalar(select(Registration.id).filter_by(code=code))
    assert [t.ticket_id for t in by_name] == [ticket_id] == [t.ticket_id for t in by_phone]
    assert by_name[0].phone_masked == "137****5678"


def test_a_search_finds_confirmed_tickets_first_and_no_one_for_nothing(tour):
    tour.ticket(name="陈静")
    waiting = tour.ticket(name="陈静怡")
    tour.set_status(waiting, "waitlisted")
    with tour.app.app_context():
        found = door.search(tour.event_id, None, "陈")
        assert [t.status for t in found] == ["confirmed", "waitlisted"]
        assert door.search(tour.event_id, None, "  ") == []
        with pytest.raises(ValidationFailed):
            door.search(tour.event_id, None, "陈" * 51)


# --- undo -----------------------------------------------------------------------------------------


def test_an_admission_undone_in_time_counts_no_more_and_is_in_the_audit_log(tour):
    code = tour.ticket(party=3)
    admitted = tour.scan(code)
    as_staff(tour, door.undo, admitted.admission_id)
    assert tour.admitted(code) == 0
    assert tour.figures().checkpoints[0].people == 0
    with tour.app.app_context():
        assert db.session.get(Admission, admitted.admission_id) is None
        entry = db.session.scalar(select(AuditEntry).filter_by(action="admission_undone"))
        assert (entry.actor_id, entry.event_id) == (tour.staff_id, tour.event_id)
        assert entry.detail["people"] == 3
    assert tour.scan(code).result == Result.ADMITTED  # the family can be let in again


def test_a_walk_in_can_be_undone(tour):
    answer = as_staff(tour, door.walk_in, tour.event_id, tour.morning, 4)
    as_staff(tour, door.undo, answer.admission_id)
    assert tour.figures().walk_in_people == 0


def test_undo_is_refused_after_the_window(tour):
    code = tour.ticket()
    admitted = tour.scan(code)
    with tour.app.app_context():
        db.session.get(Admission, admitted.admission_id).at = utcnow() - timedelta(minutes=6)
        db.session.commit()
    with pytest.raises(door.UndoRefused):
        as_staff(tour, door.undo, admitted.admission_id)
    assert tour.admitted(code) == 3


def test_only_the_tickets_last_admission_can_be_undone(tour):
    code = tour.ticket(party=4)
    first = tour.scan(code, people=2)
    second = tour.scan(code)
    with pytest.raises(door.UndoRefused):
        as_staff(tour, door.undo, first.admission_id)
    as_staff(tour, door.undo, second.admission_id)
    assert tour.admitted(code) == 2
    with pytest.raises(NotFound):
        as_staff(tour, door.undo, second.admission_id)


def test_undo_needs_rights_at_the_door(factory, tour):
    admitted = tour.scan(tour.ticket())
    outsider, _ = factory.user("organiser", org="静安区市场监督管理局", district="静安区")
    with tour.app.app_context(), pytest.raises(Forbidden):
        door.undo(admitted.admission_id, db.session.get(User, outsider))


# --- tallies and re-entry in the event form -------------------------------------------------------


@pytest.mark.parametrize("tallies, message", [
    (["咨询", "咨询"], "own name"),
    ([f"服务{i}" for i in range(21)], "At most 20"),
    (["血" * 41], "at most 40"),
    (["资料发放", " "], "needs a name"),
])
def test_service_tallies_are_checked(app, factory, tallies, message):
    with app.test_request_context("/?lang=en"):
        errors = events.validate(factory.draft(tallies=tallies))
    assert message in errors["tallies"]


def test_editing_keeps_the_counts_of_tallies_kept_and_refuses_removing_a_counted_one(tour):
    handouts = tally_ids(tour)["资料发放"]
    as_staff(tour, door.bump_tally, tour.event_id, handouts, 7)
    with tour.app.app_context():
        event = db.session.get(Event, tour.event_id)
        draft = tour.factory.draft(sessions=[])
        draft.sessions = [events.SessionDraft(id=s.id, starts_at=s.starts_at, ends_at=s.ends_at,
                                              capacity=s.capacity) for s in event.sessions]
        draft.tallies = ["血压测量", "资料发放"]
        events.update_event(event, draft)
        assert [(t.name, t.count) for t in event.tallies] == [("血压测量", 0), ("资料发放", 7)]
        draft.tallies = ["血压测量"]
        with pytest.raises(ValidationFailed) as refused:
            events.update_event(db.session.get(Event, tour.event_id), draft)
        assert "tallies" in refused.value.errors


def test_an_organiser_sets_tallies_and_re_entry_in_the_event_form(app, client, factory):
    _id, email = factory.user("organiser", org=BUREAU)
    login(client, email)
    day = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%d")
    response = submit(client, "/organiser/events/new", {
        "title": "静安区质量月宣传咨询活动", "kind": "consultation", "district": "杨浦区",
        "venue": "800秀", "max_party_size": "2", "registration_mode": "fcfs",
        "sessions-0-starts_at": f"{day}T09:00", "sessions-0-ends_at": f"{day}T11:30",
        "sessions-0-capacity": "200", "checkpoints": "",
        "tallies": "血压测量\r\n资料发放\r\n\r\n咨询", "allow_reentry": "y", "action": "save",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    with app.app_context():
        event = db.session.scalar(select(Event).filter_by(title="静安区质量月宣传咨询活动"))
        assert [t.name for t in event.tallies] == ["血压测量", "资料发放", "咨询"]
        assert event.allow_reentry is True
        edit = client.get(f"/organiser/events/{event.id}/edit").get_data(as_text=True)
    assert "血压测量\n资料发放\n咨询" in edit
    checkbox = re.search(r'<input[^>]*name="allow_reentry"[^>]*>', edit).group(0)
    assert "checked" in checkbox


def test_the_event_form_shows_a_tally_problem_next_to_the_field(client, factory):
    _id, email = factory.user("organiser", org=BUREAU)
    login(client, email)
    day = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%d")
    response = submit(client, "/organiser/events/new?lang=en", {
        "title": "活动", "kind": "consultation", "district": "杨浦区", "venue": "800秀",
        "max_party_size": "2", "registration_mode": "fcfs",
        "sessions-0-starts_at": f"{day}T09:00", "sessions-0-ends_at": f"{day}T11:30",
        "sessions-0-capacity": "200", "tallies": "咨询\n咨询", "action": "save",
    })
    assert response.status_code == 400
    assert "Each service tally needs its own name." in response.get_data(as_text=True)


def test_the_door_works_by_the_session_under_way_then_the_next_then_the_last(app):
    nine = datetime(2026, 9, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    morning = EventSession(starts_at=nine, ends_at=nine + timedelta(hours=3), capacity=10)
    afternoon = EventSession(starts_at=nine + timedelta(hours=5), ends_at=nine + timedelta(hours=8),
                        capacity=10)
    with app.app_context():
        event = Event(sessions=[morning, afternoon], admission_opens_minutes=60)
        at = door.session_at_the_door
        assert at(event, nine - timedelta(hours=2)) is morning  # the next to come
        assert at(event, nine - timedelta(minutes=50)) is morning  # doors open an hour early
        assert at(event, nine + timedelta(hours=3, minutes=30)) is afternoon  # between the two
        assert at(event, nine + timedelta(hours=9)) is afternoon  # all over: the last one
        assert at(Event(sessions=[]), nine) is None
