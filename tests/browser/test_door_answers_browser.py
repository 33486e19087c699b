"""The door page shows a ticket's answers to the questions the organiser shows at the door
(身份证号码 → …002X), in the scanner's full-screen answer. Screenshot at 390×844."""
from __future__ import annotations

from qmevents.extensions import db
from qmevents.models import Answer, Question, QuestionKind, Registration

from ..test_door_pages import door_scene
from .test_door_wedge import answer, open_scanner, shot, sign_in, wedge

ID_NUMBER = "11010519491231002X"


def test_the_scanner_shows_the_door_answers(app, factory, phone):
    scene = door_scene(app, factory)
    code = scene.codes["王芳"]
    with app.app_context():
        question = Question(event_id=scene.event_id, position=0, kind=QuestionKind.ID_CARD,
                            label="身份证号码", required=False, show_at_door=True)
        hidden = Question(event_id=scene.event_id, position=1, kind=QuestionKind.TEXT,
                          label="您的单位", required=False, show_at_door=False)
        db.session.add_all([question, hidden])
        db.session.flush()
        registration_id = db.session.scalar(db.select(Registration.id).filter_by(code=code))
        db.session.add_all([
            Answer(registration_id=registration_id, question_id=question.id, value=ID_NUMBER),
            Answer(registration_id=registration_id, question_id=hidden.id, value="甲局机密单位")])
        db.session.commit()
    sign_in(phone, scene.staff_email)
    open_scanner(phone, scene)
    wedge(phone, code)
    came = answer(phone)
    assert came["tone"] == "ok"
    door = phone.locator("#door-answer dl.answer-door")
    assert door.is_visible()
    assert door.locator("dt").all_inner_texts() == ["身份证号码"]
    assert door.locator("dd").all_inner_texts() == ["…002X"]
    overlay = phone.inner_text("#door-answer")
    assert ID_NUMBER not in overlay and "甲局机密单位" not in overlay
    shot(phone, "door-answer-door-answers")
