"""Registering a party and cancelling it, through the service every front end calls."""
from datetime import timedelta

import pytest

from qmevents.extensions import db
from qmevents.models import EventSession, Question, QuestionKind, Registration, RegistrationStatus
from qmevents.services.errors import (
    DuplicateRegistration,
    NotFound,
    RegistrationClosed,
    SessionFull,
    ValidationFailed,
)
from qmevents.services.identity import mask_mobile, normalise_id_number, normalise_mobile
from qmevents.services.registrations import cancellation, codes
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow


@pytest.fixture
def open_day(app, factory):
    event_id = factory.event(max_party_size=4)
    with app.app_context():
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))
    return event_id, session_id


def request(event_id, session_id, **overrides):
    fields = dict(event_id=event_id, session_id=session_id, name="张伟", phone="13812345678",
                  party_size=2, consent=True)
    fields.update(overrides)
    return reg.RegistrationRequest(**fields)


def places_taken(session_id):
    return db.session.get(EventSession, session_id).places_taken


def test_a_family_registers_and_takes_its_places(app, open_day):
    event_id, session_id = open_day
    with app.app_context():
        result = reg.register(request(event_id, session_id, party_size=3))
        assert result.status == RegistrationStatus.CONFIRMED
        assert len(result.code) == codes.CODE_LENGTH
        assert places_taken(session_id) == 3


def test_a_party_larger_than_the_places_left_is_refused_and_takes_nothing(app, open_day):
    event_id, session_id = open_day
    with app.app_context():
        db.session.get(EventSession, session_id).capacity = 3
        db.session.commit()
        reg.register(request(event_id, session_id, party_size=2))
        with pytest.raises(SessionFull) as refused:
            reg.register(request(event_id, session_id, phone="13900000000", party_size=2))
        assert refused.value.places_left == 1
        assert places_taken(session_id) == 2
        assert db.session.query(Registration).count() == 1


def test_the_same_phone_cannot_register_twice_for_a_session(app, open_day):
    event_id, session_id = open_day
    with app.app_context():
        reg.register(request(event_id, session_id))
        with pytest.raises(DuplicateRegistration):
            reg.register(request(event_id, session_id, phone="138 1234 5678"))
        assert places_taken(session_id) == 2


def test_after_cancelling_the_same_phone_may_register_again(app, open_day):
    event_id, session_id = open_day
    with app.app_context():
        first = reg.register(request(event_id, session_id))
        cancellation.cancel(first.code)
        assert places_taken(session_id) == 0
        again = reg.register(request(event_id, session_id))
        assert again.status == RegistrationStatus.CONFIRMED


def test_cancelling_twice_frees_the_places_once(app, open_day):
    event_id, session_id = open_day
    with app.app_context():
        reg.register(request(event_id, session_id, phone="13900000001"))
        code = reg.register(request(event_id, session_id)).code
        cancellation.cancel(code)
        with pytest.raises(RegistrationClosed):
            cancellation.cancel(code)
        assert places_taken(session_id) == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "张" * 51}, "name"),
        ({"name": "<b>张伟</b>"}, "name"),
        ({"phone": "1381234567"}, "phone"),
        ({"phone": "23812345678"}, "phone"),
        ({"phone": 13812345678}, "phone"),
        ({"party_size": 0}, "party_size"),
        ({"party_size": 99}, "party_size"),
        ({"party_size": "two"}, "party_size"),
        ({"consent": False}, "consent"),
        ({"answers": {"999": "x"}}, "answers.999"),
        ({"answers": ["x"]}, "answers"),
    ],
)
def test_bad_input_is_refused_with_a_message_per_field_and_nothing_saved(
    app, open_day, overrides, field
):
    event_id, session_id = open_day
    with app.app_context():
        with pytest.raises(ValidationFailed) as refused:
            reg.register(request(event_id, session_id, **overrides))
        assert field in refused.value.errors
        assert places_taken(session_id) == 0
        assert db.session.query(Registration).count() == 0


def test_a_session_of_another_event_is_refused(app, factory, open_day):
    event_id, _ = open_day
    other = factory.event(title="另一场活动")
    with app.app_context():
        other_session = db.session.scalar(db.select(EventSession.id).filter_by(event_id=other))
        with pytest.raises(ValidationFailed) as refused:
            reg.register(request(event_id, other_session))
        assert "session_id" in refused.value.errors


def test_a_closed_window_is_refused_with_its_reason(app, open_day):
    event_id, session_id = open_day
    with app.app_context():
        session = db.session.get(EventSession, session_id)
        session.registration_closes_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        with pytest.raises(RegistrationClosed, match="closed|截止|结束"):
            reg.register(request(event_id, session_id))


def test_a_draft_event_takes_no_registration(app, factory):
    event_id = factory.event(publish=False)
    with app.app_context():
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))
        with pytest.raises(NotFound):
            reg.register(request(event_id, session_id))


def test_answers_are_checked_against_the_question_kind(app, open_day):
    event_id, session_id = open_day
    with app.app_context():
        db.session.add_all([
            Question(event_id=event_id, position=0, kind=QuestionKind.ID_CARD, label="身份证号"),
            Question(event_id=event_id, position=1, kind=QuestionKind.SINGLE, label="年龄段",
                     options="18岁以下\n18-60岁\n60岁以上"),
            Question(event_id=event_id, position=2, kind=QuestionKind.NUMBER, label="儿童人数",
                     required=False),
        ])
        db.session.commit()
        ids = [q.id for q in db.session.query(Question).order_by(Question.position)]
        with pytest.raises(ValidationFailed) as refused:
            reg.register(request(event_id, session_id, answers={
                str(ids[0]): "110105194912310021", str(ids[1]): "老年", str(ids[2]): "三"}))
        assert set(refused.value.errors) == {f"answers.{i}" for i in ids}
        result = reg.register(request(event_id, session_id, answers={
            str(ids[0]): "11010519491231002x", str(ids[1]): "60岁以上"}))
        stored = {a.question_id: a.value for a in codes.ticket(result.code).answers}
        assert stored == {ids[0]: "11010519491231002X", ids[1]: "60岁以上"}


def test_a_wrong_or_truncated_code_finds_nothing(app, open_day):
    event_id, session_id = open_day
    with app.app_context():
        code = reg.register(request(event_id, session_id)).code
        assert codes.ticket(code.lower()).code == code
        for wrong in (code[:-1], code[:-1] + ("0" if code[-1] != "0" else "1"), "", "x" * 500):
            with pytest.raises(NotFound):
                codes.ticket(wrong)


def test_phone_numbers_are_read_as_people_type_them_and_shown_masked():
    assert normalise_mobile("+86 138-1234-5678") == "13812345678"
    assert normalise_mobile("１３８１２３４５６７８") == "13812345678"
    assert normalise_mobile("12812345678") is None
    assert mask_mobile("13812345678") == "138****5678"


def test_resident_id_numbers_are_checked_with_their_checksum():
    assert normalise_id_number("11010519491231002X") == "11010519491231002X"
    assert normalise_id_number("110105194912310021") is None  # wrong check digit
    assert normalise_id_number("11010519491332002X") is None  # no 13th month
