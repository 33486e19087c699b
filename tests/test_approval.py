"""An organiser admits, declines and invites, through the service the pages and the API call:
places are taken all or nothing, nobody is counted twice, every decision is in the audit log
and every citizen is told."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from qmevents.demo.names import person_name
from qmevents.extensions import db
from qmevents.models import (
    AuditEntry,
    EventSession,
    Notification,
    Registration,
    RegistrationStatus,
    StaffAssignment,
    User,
)
from qmevents.services import events
from qmevents.services.errors import (
    DuplicateRegistration,
    Forbidden,
    InvalidTransition,
    NotFound,
    SessionFull,
    ValidationFailed,
)
from qmevents.services.registrations import approval
from qmevents.services.registrations import register as reg
from qmevents.services.registrations.questions import QuestionDraft, set_questions
from qmevents.timeutil import utcnow


@dataclass
class OpenDay:
    """An event by application and approval: a morning of 6 places, an afternoon of 20."""

    event_id: int
    morning: int
    afternoon: int
    organiser: int  # user ids

    def apply(self, name: str, phone: str, people: int = 1, session: int | None = None) -> int:
        return reg.register(reg.RegistrationRequest(
            event_id=self.event_id, session_id=session or self.morning, name=name, phone=phone,
            party_size=people, consent=True)).registration_id


def sessions(capacities: list[int]) -> list[events.SessionDraft]:
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    return [events.SessionDraft(starts_at=start + timedelta(hours=4 * i),
                                ends_at=start + timedelta(hours=4 * i + 2), capacity=c)
            for i, c in enumerate(capacities)]


@pytest.fixture
def open_day(app, factory) -> OpenDay:
    organiser, _email = factory.user("organiser")
    event_id = factory.event(registration_mode="approval", sessions=sessions([6, 20]))
    with app.app_context():
        morning, afternoon = db.session.scalars(
            select(EventSession.id).filter_by(event_id=event_id).order_by(EventSession.starts_at))
    return OpenDay(event_id, morning, afternoon, organiser)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def taken(session_id: int) -> int:
    return db.session.get(EventSession, session_id, populate_existing=True).places_taken


def status(registration_id: int) -> RegistrationStatus:
    return db.session.get(Registration, registration_id, populate_existing=True).status


def messages(kind: str) -> list[str]:
    return list(db.session.scalars(select(Notification.body).filter_by(kind=kind)))


# --- admitting ----------------------------------------------------------------------------------


def test_admitted_families_are_confirmed_take_their_places_and_get_their_tickets(open_day, ctx):
    zhang = open_day.apply("张伟", "13812345678", 3)
    li = open_day.apply("李娜", "13900001111", 2)
    assert taken(open_day.morning) == 0  # applying takes nothing

    result = approval.admit(open_day.event_id, [zhang, li], user(open_day.organiser),
                            message="请提前十分钟到达东门")

    assert sorted(result.admitted) == sorted([zhang, li]) and result.people == 5
    assert status(zhang) == status(li) == RegistrationStatus.CONFIRMED
    assert taken(open_day.morning) == 5
    texts = messages("application_admitted")
    assert len(texts) == 2 and all("/t/" in t and "请提前十分钟到达东门" in t for t in texts)


def test_admitting_beyond_capacity_is_refused_with_the_places_left_and_changes_nothing(
        open_day, ctx):
    first = open_day.apply("张伟", "13812345678", 4)
    approval.admit(open_day.event_id, [first], user(open_day.organiser))
    batch = [open_day.apply("李娜", "13900001111", 2), open_day.apply("王芳", "13700002222", 1)]

    with pytest.raises(SessionFull) as refused:
        approval.admit(open_day.event_id, batch, user(open_day.organiser))

    assert refused.value.places_left == 2
    assert "2" in refused.value.message
    assert taken(open_day.morning) == 4
    assert [status(r) for r in batch] == [RegistrationStatus.APPLIED] * 2
    assert len(messages("application_admitted")) == 1


def test_a_batch_is_refused_whole_when_one_of_its_sessions_does_not_fit(open_day, ctx):
    afternoon = open_day.apply("刘洋", "13600003333", 4, session=open_day.afternoon)
    too_many = [open_day.apply(person_name(i), f"1350000000{i}", 4) for i in range(2)]

    with pytest.raises(approval.NotEnoughPlaces) as refused:
        approval.admit(open_day.event_id, [afternoon, *too_many], user(open_day.organiser))

    assert (refused.value.session_id, refused.value.places_left, refused.value.needed) == (
        open_day.morning, 6, 8)
    assert status(afternoon) == RegistrationStatus.APPLIED
    assert taken(open_day.afternoon) == taken(open_day.morning) == 0


def test_admitting_the_same_application_twice_counts_its_party_once(open_day, ctx):
    zhang = open_day.apply("张伟", "13812345678", 3)
    approval.admit(open_day.event_id, [zhang], user(open_day.organiser))

    again = approval.admit(open_day.event_id, [zhang, str(zhang)], user(open_day.organiser))

    assert again.admitted == [] and again.unchanged == [zhang]
    assert taken(open_day.morning) == 3
    assert len(messages("application_admitted")) == 1


def test_a_declined_application_stays_declined_when_admitted_afterwards(open_day, ctx):
    li = open_day.apply("李娜", "13900001111", 2)
    approval.decline(open_day.event_id, [li], user(open_day.organiser))

    result = approval.admit(open_day.event_id, [li], user(open_day.organiser))

    assert result.unchanged == [li] and status(li) == RegistrationStatus.DECLINED
    assert taken(open_day.morning) == 0


def test_ids_of_another_event_are_named_and_nothing_changes(app, factory, open_day, ctx):
    other_event = factory.event(registration_mode="approval", title="另一场开放日")
    other_session = db.session.scalar(select(EventSession.id).filter_by(event_id=other_event))
    foreign = reg.register(reg.RegistrationRequest(
        event_id=other_event, session_id=other_session, name="赵敏", phone="13911112222",
        party_size=1, consent=True)).registration_id
    mine = open_day.apply("张伟", "13812345678")

    with pytest.raises(ValidationFailed) as refused:
        approval.admit(open_day.event_id, [mine, foreign], user(open_day.organiser))

    assert str(foreign) in refused.value.errors["registration_ids"]
    assert status(mine) == status(foreign) == RegistrationStatus.APPLIED


@pytest.mark.parametrize("ids", [[], None, "1,2", [True], [-1], list(range(1, 300))])
def test_a_batch_must_be_a_list_of_ids(open_day, ctx, ids):
    with pytest.raises(ValidationFailed) as refused:
        approval.admit(open_day.event_id, ids, user(open_day.organiser))
    assert "registration_ids" in refused.value.errors


def test_a_lottery_decides_by_its_draw_not_one_by_one(app, factory, ctx):
    organiser, _email = factory.user("organiser")
    event_id = factory.event(registration_mode="lottery")
    session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    applied = reg.register(reg.RegistrationRequest(
        event_id=event_id, session_id=session_id, name="张伟", phone="13812345678",
        party_size=1, consent=True)).registration_id

    with pytest.raises(InvalidTransition):
        approval.admit(event_id, [applied], user(organiser))
    assert status(applied) == RegistrationStatus.APPLIED


# --- declining ----------------------------------------------------------------------------------


def test_a_declined_applicant_is_told_politely_with_the_organisers_note(open_day, ctx):
    li = open_day.apply("李娜", "13900001111", 2)

    result = approval.decline(open_day.event_id, [li], user(open_day.organiser),
                              message="  本场名额\n已满，欢迎报名下午场  ")

    assert result.declined == [li] and status(li) == RegistrationStatus.DECLINED
    [text] = messages("application_declined")
    assert "感谢" in text and "很遗憾" in text and "本场名额 已满，欢迎报名下午场" in text
    assert "/t/" not in text  # nothing to show: no ticket link


def test_a_note_longer_than_a_text_message_allows_is_refused(open_day, ctx):
    li = open_day.apply("李娜", "13900001111")
    with pytest.raises(ValidationFailed) as refused:
        approval.decline(open_day.event_id, [li], user(open_day.organiser), message="长" * 201)
    assert "message" in refused.value.errors
    assert status(li) == RegistrationStatus.APPLIED


# --- inviting -----------------------------------------------------------------------------------


def test_an_invitation_is_a_confirmed_ticket_that_takes_its_places(open_day, ctx):
    invited = approval.invite(open_day.event_id, open_day.morning, "陈静", "138 1234 5678", "2",
                              user(open_day.organiser))

    registration = db.session.get(Registration, invited.registration_id)
    assert (registration.status, registration.source, registration.phone) == (
        RegistrationStatus.CONFIRMED, "invite", "13812345678")
    assert taken(open_day.morning) == 2
    [text] = messages("invitation")
    assert "诚邀" in text and f"/t/{invited.code}" in text


def test_an_invitation_is_refused_with_the_places_left_when_the_party_does_not_fit(open_day,
                                                                                     ctx):
    approval.invite(open_day.event_id, open_day.morning, "陈静", "13812345678", 4,
                    user(open_day.organiser))

    with pytest.raises(SessionFull) as refused:
        approval.invite(open_day.event_id, open_day.morning, "周杰", "13900001111", 3,
                        user(open_day.organiser))

    assert refused.value.places_left == 2
    assert taken(open_day.morning) == 4
    assert db.session.scalar(select(func.count(Registration.id))) == 1


def test_an_invitation_checks_the_details_as_registering_does_but_asks_no_questions(
        app, open_day, ctx):
    from qmevents.models import Event
    set_questions(db.session.get(Event, open_day.event_id),
                  [QuestionDraft(label="身份证号码", kind="id_card", required=True)])

    with pytest.raises(ValidationFailed) as refused:
        approval.invite(open_day.event_id, open_day.morning, " ", "12345", 9,
                        user(open_day.organiser))
    assert set(refused.value.errors) == {"name", "phone", "party_size"}

    invited = approval.invite(open_day.event_id, open_day.morning, "陈静", "13812345678", 1,
                              user(open_day.organiser))
    assert invited.status == RegistrationStatus.CONFIRMED


def test_an_invitation_to_a_session_of_another_event_is_refused(app, factory, open_day, ctx):
    other = db.session.scalar(select(EventSession.id).filter_by(event_id=factory.event()))
    with pytest.raises(ValidationFailed) as refused:
        approval.invite(open_day.event_id, other, "陈静", "13812345678", 1,
                        user(open_day.organiser))
    assert "session_id" in refused.value.errors


def test_a_phone_already_registered_for_the_session_is_not_invited_twice(open_day, ctx):
    open_day.apply("陈静", "13812345678")
    with pytest.raises(DuplicateRegistration):
        approval.invite(open_day.event_id, open_day.morning, "陈静", "13812345678", 1,
                        user(open_day.organiser))
    assert taken(open_day.morning) == 0


# --- the audit log and who may decide -----------------------------------------------------------


def test_every_decision_is_in_the_audit_log_with_who_made_it(open_day, ctx):
    zhang = open_day.apply("张伟", "13812345678", 3)
    li = open_day.apply("李娜", "13900001111", 2)
    approval.admit(open_day.event_id, [zhang], user(open_day.organiser), message="东门入场")
    approval.decline(open_day.event_id, [li], user(open_day.organiser))
    invited = approval.invite(open_day.event_id, open_day.afternoon, "陈静", "13700002222", 2,
                              user(open_day.organiser))

    rows, total = approval.audit_log(open_day.event_id)

    assert total == 3
    assert [(r.action, r.actor) for r in rows] == [
        (a, user(open_day.organiser).email) for a in ("invited", "declined", "admitted")]
    entries = {e.action: e for e in db.session.scalars(select(AuditEntry))}
    assert entries["admitted"].registration_id == zhang
    assert entries["admitted"].detail["message"] == "东门入场"
    assert entries["admitted"].detail["party_size"] == 3
    assert entries["invited"].registration_id == invited.registration_id
    assert rows[1].registration == "李娜 139****1111"


def test_a_refused_batch_leaves_no_audit_entry(open_day, ctx):
    batch = [open_day.apply(person_name(i), f"1350000000{i}", 4) for i in range(2)]
    with pytest.raises(SessionFull):
        approval.admit(open_day.event_id, batch, user(open_day.organiser))
    assert approval.audit_log(open_day.event_id)[1] == 0


def test_another_organisations_event_is_not_found(factory, open_day, ctx):
    stranger, _email = factory.user("organiser", org="浦东新区市场监督管理局", district="浦东新区")
    zhang = open_day.apply("张伟", "13812345678")
    with pytest.raises(NotFound):
        approval.admit(open_day.event_id, [zhang], user(stranger))
    with pytest.raises(NotFound):
        approval.invite(open_day.event_id, open_day.morning, "陈静", "13700002222", 1,
                        user(stranger))
    assert status(zhang) == RegistrationStatus.APPLIED


def test_door_staff_of_the_event_may_look_but_not_decide(factory, open_day, ctx):
    staff, _email = factory.user("staff")
    db.session.add(StaffAssignment(user_id=staff, event_id=open_day.event_id))
    db.session.commit()
    zhang = open_day.apply("张伟", "13812345678")
    with pytest.raises(Forbidden):
        approval.decline(open_day.event_id, [zhang], user(staff))
    assert status(zhang) == RegistrationStatus.APPLIED


def test_an_admin_may_decide_for_any_organisation(factory, open_day, ctx):
    admin, _email = factory.user("admin")
    zhang = open_day.apply("张伟", "13812345678")
    assert approval.admit(open_day.event_id, [zhang], user(admin)).admitted == [zhang]
