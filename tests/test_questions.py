"""An organiser's own questions for an event: the form in the back office, the rules in
services.registrations.questions, and the answers citizens give through
services.registrations.register.register."""
from __future__ import annotations

import pytest

from qmevents.extensions import db
from qmevents.models import Answer, Event, EventSession, Question, StaffAssignment
from qmevents.services.errors import ValidationFailed
from qmevents.services.registrations import questions as rules
from qmevents.services.registrations import register as reg
from qmevents.services.registrations.questions import QuestionDraft

from .conftest import submit
from .test_organiser import signed_in

ID_NUMBER = "11010519491231002X"  # the standard's own example, with a valid check character


def path(event_id: int) -> str:
    return f"/organiser/events/{event_id}/questions"


def row(i: int, label: str = "", kind: str = "text", options: str = "", required: bool = True,
        id: int | str = "", remove: bool = False) -> dict:
    """One question row as the browser posts it: an unticked checkbox sends nothing."""
    data = {f"questions-{i}-id": str(id), f"questions-{i}-label": label,
            f"questions-{i}-kind": kind, f"questions-{i}-options": options}
    if required:
        data[f"questions-{i}-required"] = "y"
    if remove:
        data[f"questions-{i}-remove"] = "y"
    return data


def rows(*many: dict) -> dict:
    data = {"action": "save"}
    for r in many:
        data.update(r)
    return data


def stored(app, event_id: int) -> list[tuple]:
    with app.app_context():
        return [(q.label, q.kind.value, q.required, q.choices) for q in
                db.session.scalars(db.select(Question).filter_by(event_id=event_id)
                                   .order_by(Question.position))]


def question_ids(app, event_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(db.select(Question.id).filter_by(event_id=event_id)
                                       .order_by(Question.position)))


def registered(app, event_id: int, answers: dict, phone: str = "13812345678") -> str:
    with app.app_context():
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))
        return reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="张伟", phone=phone, party_size=2,
            answers=answers, consent=True)).code


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def event_id(factory, organiser) -> int:
    return factory.event()


@pytest.fixture
def three_questions(app, client, event_id) -> list[int]:
    """A text question, a single choice and an ID-card number, saved through the form."""
    response = submit(client, path(event_id), rows(
        row(0, "您的工作单位"),
        row(1, "您最关心哪类产品质量？", "single", "食品\r\n家电\r\n儿童用品\r\n"),
        row(2, "身份证号码（入场实名核验）", "id_card"),
    ))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return question_ids(app, event_id)


# --- adding questions -----------------------------------------------------------------------


def test_an_organiser_adds_text_single_choice_and_id_card_questions(app, event_id,
                                                                    three_questions):
    assert stored(app, event_id) == [
        ("您的工作单位", "text", True, []),
        ("您最关心哪类产品质量？", "single", True, ["食品", "家电", "儿童用品"]),
        ("身份证号码（入场实名核验）", "id_card", True, []),
    ]


def test_citizens_answers_to_the_questions_are_checked_and_kept(app, event_id, three_questions):
    text, single, id_card = three_questions
    registered(app, event_id, {text: "上海电气", single: "家电", id_card: "110105 1949 1231 002x"})
    with app.app_context():
        answers = {a.question_id: a.value for a in db.session.scalars(db.select(Answer))}
    assert answers == {text: "上海电气", single: "家电", id_card: ID_NUMBER}


def test_a_wrong_id_number_or_an_unknown_option_is_refused_at_registration(app, event_id,
                                                                          three_questions):
    text, single, id_card = three_questions
    with pytest.raises(ValidationFailed) as refused:
        registered(app, event_id, {text: "上海电气", single: "汽车", id_card: "110105194912310021"})
    assert set(refused.value.errors) == {f"answers.{single}", f"answers.{id_card}"}


def test_the_form_shows_the_saved_questions_and_the_pipl_hint(client, event_id, three_questions,
                                                              english):
    html = client.get(path(event_id)).get_data(as_text=True)
    assert 'value="您的工作单位"' in html
    assert "食品\n家电\n儿童用品</textarea>" in html
    assert f'name="questions-2-id" type="hidden" value="{three_questions[2]}"' in html
    assert "PIPL" in html and "real-name entry" in html


def test_the_event_page_links_to_its_questions_and_registrants(client, event_id,
                                                               three_questions, english):
    html = client.get(f"/organiser/events/{event_id}").get_data(as_text=True)
    assert path(event_id) in html and "3 questions for registrants" in html
    assert f"/organiser/events/{event_id}/registrants" in html


def test_add_a_question_shows_one_more_empty_row_without_saving(app, client, event_id):
    response = submit(client, path(event_id), {**row(0, "您的工作单位"), "add_question": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="questions-1-label"' in html and 'name="questions-2-label"' not in html
    assert 'value="您的工作单位"' in html
    assert stored(app, event_id) == []


def test_a_blank_row_is_ignored_and_a_row_ticked_remove_is_deleted(app, client, event_id,
                                                                  three_questions):
    text, single, id_card = three_questions
    response = submit(client, path(event_id), rows(
        row(0, "您的工作单位", id=text),
        row(1, "您最关心哪类产品质量？", "single", "食品\n家电", id=single, remove=True),
        row(2, "身份证号码", "id_card", id=id_card),
        row(3),
    ))
    assert response.status_code == 302
    assert [q[0] for q in stored(app, event_id)] == ["您的工作单位", "身份证号码"]
    assert question_ids(app, event_id) == [text, id_card]  # the rows kept their ids


# --- what the form refuses ------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "message"), [
    (row(0, "", "single", "是\n否"), "Write the question."),
    (row(0, "您从哪里得知本活动？", "single", "微信公众号"), "Give at least 2 options"),
    (row(0, "您的工作单位", "text", "国企\n民企"), "Only single- and multiple-choice questions"),
    ({**row(0, "身份证号码", "id_card"), **row(1, "陪同人身份证号码", "id_card")},
     "at most once per event"),
])
def test_a_mistake_is_shown_next_to_the_question_with_what_was_typed(app, client, event_id,
                                                                     english, typed, message):
    response = submit(client, path(event_id), rows(row(5, "您的年龄", "number"), typed))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and "Nothing was saved yet" in html
    assert 'value="您的年龄"' in html
    for key, value in typed.items():
        if key.endswith("-label") and value:
            assert f'value="{value}"' in html
        if key.endswith("-options") and value:
            assert f"{value}</textarea>" in html
    assert stored(app, event_id) == []


def test_an_unknown_kind_is_refused_with_a_message(client, event_id, english):
    response = submit(client, path(event_id), rows(row(0, "您的年龄", "age")))
    assert response.status_code == 400
    assert "Choose a kind of question." in response.get_data(as_text=True)


# --- once people have registered ------------------------------------------------------------


def test_after_registrations_a_questions_kind_cannot_change(app, client, event_id,
                                                            three_questions, english):
    text, single, id_card = three_questions
    registered(app, event_id, {text: "上海电气", single: "家电", id_card: ID_NUMBER})
    response = submit(client, path(event_id), rows(
        row(0, "您的工作单位", "number", id=text),
        row(1, "您最关心哪类产品质量？", "single", "食品\n家电\n儿童用品", id=single),
        row(2, "身份证号码（入场实名核验）", "id_card", id=id_card),
    ))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "its kind cannot change" in html
    assert stored(app, event_id)[0][1] == "text"


def test_after_registrations_labels_may_be_fixed_and_an_optional_question_added(
        app, client, event_id, three_questions):
    text, single, id_card = three_questions
    registered(app, event_id, {text: "上海电气", single: "家电", id_card: ID_NUMBER})
    response = submit(client, path(event_id), rows(
        row(0, "工作单位（选填）", id=text),
        row(1, "您最关心哪类产品质量？", "single", "食品\n家电\n儿童用品", id=single),
        row(2, "身份证号码（入场实名核验）", "id_card", id=id_card),
        row(3, "是否需要无障碍通道？", "single", "需要\n不需要", required=False),
    ))
    assert response.status_code == 302
    labels = [q[0] for q in stored(app, event_id)]
    assert labels == ["工作单位（选填）", "您最关心哪类产品质量？", "身份证号码（入场实名核验）",
                      "是否需要无障碍通道？"]
    with app.app_context():
        assert db.session.query(Answer).count() == 3  # the earlier answers are all still there


def test_after_registrations_the_form_starts_a_new_question_as_optional(app, client, event_id,
                                                                        three_questions):
    text, single, id_card = three_questions
    registered(app, event_id, {text: "上海电气", single: "家电", id_card: ID_NUMBER})
    html = client.get(path(event_id)).get_data(as_text=True)
    assert 'name="questions-0-remove"' not in html  # nothing answered can be removed
    added = submit(client, path(event_id), {"add_question": "1", **row(0, "您的工作单位", id=text)})
    page = added.get_data(as_text=True)
    assert '<input id="questions-1-required"' in page  # a new row, not ticked "required"


def _one_event_with_answers(app, factory) -> tuple[int, list[QuestionDraft]]:
    event_id = factory.event()
    drafts = [QuestionDraft(label="您的工作单位", kind="text"),
              QuestionDraft(label="参观线路", kind="multiple", options=["生产线", "实验室"])]
    with app.app_context():
        rules.set_questions(db.session.get(Event, event_id), drafts)
    ids = question_ids(app, event_id)
    registered(app, event_id, {ids[0]: "上海电气", ids[1]: ["实验室"]})
    for draft, qid in zip(drafts, ids, strict=True):
        draft.id = qid
    return event_id, drafts


@pytest.mark.parametrize(("change", "key"), [
    (lambda d: d.pop(0), "questions"),
    (lambda d: setattr(d[1], "options", ["生产线", "实验室", "展厅"]), "questions.1.options"),
    (lambda d: d.append(QuestionDraft(label="年龄", kind="number")), "questions.2.required"),
])
def test_after_registrations_what_the_answers_refer_to_cannot_change(app, factory, change, key):
    event_id, drafts = _one_event_with_answers(app, factory)
    change(drafts)
    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        rules.set_questions(db.session.get(Event, event_id), drafts)
    assert key in refused.value.errors


# --- the service's limits -------------------------------------------------------------------


def _refusal(app, event_id: int, drafts: list[QuestionDraft]) -> dict[str, str]:
    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        rules.set_questions(db.session.get(Event, event_id), drafts)
    return refused.value.errors


@pytest.mark.parametrize(("draft", "key"), [
    (QuestionDraft(label="问" * 201, kind="text"), "questions.0.label"),
    (QuestionDraft(label="口味", kind="single", options=["甜", "甜"]), "questions.0.options"),
    (QuestionDraft(label="口味", kind="multiple", options=[str(i) for i in range(31)]),
     "questions.0.options"),
    (QuestionDraft(label="口味", kind="single", options=["甜", "咸" * 101]), "questions.0.options"),
    (QuestionDraft(label="口味", kind="single", options=["甜", " "]), "questions.0.options"),
    (QuestionDraft(label="年龄", kind="number", required="yes"), "questions.0.required"),
    (QuestionDraft(label="年龄", kind="number", id=999_999), "questions.0.id"),
])
def test_the_service_refuses_a_question_it_cannot_keep(app, factory, draft, key):
    assert key in _refusal(app, factory.event(), [draft])


def test_at_most_twenty_questions(app, factory):
    drafts = [QuestionDraft(label=f"问题{i}", kind="text") for i in range(21)]
    assert "questions" in _refusal(app, factory.event(), drafts)


def test_a_question_of_another_event_cannot_be_slipped_in(app, factory):
    other = factory.event(title="另一个活动")
    with app.app_context():
        rules.set_questions(db.session.get(Event, other), [QuestionDraft("问题", "text")])
    foreign = question_ids(app, other)[0]
    errors = _refusal(app, factory.event(), [QuestionDraft("问题", "text", id=foreign)])
    assert "questions.0.id" in errors
    assert stored(app, other) == [("问题", "text", True, [])]


# --- who may edit them ----------------------------------------------------------------------


def test_another_organisations_event_is_not_found(client, factory, organiser):
    xuhui = factory.event(org_name="徐汇区市场监督管理局", district="徐汇区")
    assert client.get(path(xuhui)).status_code == 404
    mine = path(factory.event())
    assert submit(client, path(xuhui), rows(row(0, "问题")), page=mine).status_code == 404


def assigned_staff(app, factory, event_id: int):
    """A browser signed in as door staff assigned to the event."""
    staff, staff_id = signed_in(app, factory, "staff")
    with app.app_context():
        db.session.add(StaffAssignment(user_id=staff_id, event_id=event_id))
        db.session.commit()
    return staff


def test_assigned_door_staff_may_not_edit_the_questions(app, factory):
    event_id = factory.event()
    staff = assigned_staff(app, factory, event_id)
    assert staff.get(path(event_id)).status_code == 403
    assert path(event_id) not in staff.get(f"/organiser/events/{event_id}").get_data(as_text=True)

