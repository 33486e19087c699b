"""An organiser on a phone cancels a family's registration from the registrants list: the page
says what it frees and that people already inside keep their places; the family is told."""
from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import EventSession, Notification, Registration
from qmevents.services.registrations import register as reg

from ..conftest import PASSWORD
from .conftest import screenshot


def test_an_organiser_cancels_a_registration_on_a_phone(app, phone, factory):
    event_id = factory.event(title="菲林格尔质量开放日", max_party_size=4)
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
        code = reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="王芳", phone="13812345678",
            party_size=3, consent=True)).code
    _, email = factory.user("organiser", org="杨浦区市场监督管理局", district="杨浦区")
    phone.goto("/login")
    phone.fill("input[name=email]", email)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url("**/organiser/")

    phone.goto(f"/organiser/events/{event_id}/registrants")
    assert "138****5678" in phone.inner_text("main") and "13812345678" not in phone.content()
    phone.click("a >> text=取消…")
    phone.wait_for_url("**/cancel")
    page = phone.inner_text("main")
    assert "确定取消王芳的报名吗？" in page and "将以短信通知报名人" in page
    screenshot(phone, "organiser-cancel-registration")
    phone.click("button >> text=确定取消报名")
    phone.wait_for_url(f"**/organiser/events/{event_id}/registrants")
    assert "已取消王芳的报名" in phone.inner_text("main")
    with app.app_context():
        registration = db.session.scalar(select(Registration).filter_by(code=code))
        assert registration.status == "cancelled"
        assert db.session.get(EventSession, session_id).places_taken == 0
        told = db.session.scalar(select(Notification.body).filter_by(
            registration_id=registration.id, kind="registration_cancelled"))
        assert "已被主办方取消" in told
