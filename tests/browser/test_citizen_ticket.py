"""A citizen on a phone registers a family, keeps the ticket, and finds it again by phone."""
import re

from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import EventSession, Notification, Registration, RegistrationStatus

from .conftest import screenshot

PHONE = "13812345678"


def texted(app, kind: str) -> str:
    """The newest code of `kind` as the citizen reads it in the text message (the outbox)."""
    with app.app_context():
        text = db.session.scalars(select(Notification.body).filter_by(kind=kind)
                                  .order_by(Notification.id.desc())).first()
    return re.search(r"\d{6}", text).group(0)


def test_a_citizen_registers_downloads_the_ticket_and_finds_it_again(app, phone, factory):
    event_id = factory.event(title="菲林格尔质量开放日", max_party_size=4, verify_phone=True)
    page = phone

    page.goto(f"/events/{event_id}")
    page.click("a.button.primary >> text=我要报名")
    page.fill("input[name=name]", "张伟")
    page.fill("input[name=phone]", "138 1234 5678")
    page.select_option("select[name=party_size]", "3")
    page.check("input[name=consent]")
    page.click("button >> text=获取验证码")  # the phone gets a code: what was typed stays
    assert "验证码已发送至 138****5678" in page.inner_text("main")
    assert page.input_value("input[name=name]") == "张伟"
    assert page.is_checked("input[name=consent]")
    page.fill("input[name=phone_code]", texted(app, "registration_code"))
    screenshot(page, "citizen-register")
    page.click("button.reg-submit")
    page.wait_for_url(re.compile(r".*/t/[0-9A-Z]{20}$"))
    code = page.url.rsplit("/", 1)[1]

    ticket = page.inner_text("main")
    assert "138****5678" in ticket and PHONE not in page.content()
    assert page.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 0"), \
        "the QR is on the page, as an image"
    screenshot(page, "citizen-ticket")

    # The downloads a citizen takes away: the QR as PNG, the PDF, the calendar entry.
    for link, kind in (("qr.png", "image/png"), ("ticket.pdf", "application/pdf"),
                       ("calendar.ics", "text/calendar")):
        response = page.request.get(f"/t/{code}/{link}")
        assert response.ok and response.headers["content-type"].startswith(kind)

    with app.app_context():
        registration = db.session.scalar(select(Registration).filter_by(code=code))
        assert registration.status == RegistrationStatus.CONFIRMED
        assert registration.party_size == 3
        assert db.session.get(EventSession, registration.session_id).places_taken == 3

    # Later, on a phone that lost the link: find the ticket with a one-time code.
    page.context.clear_cookies()
    page.goto("/my-tickets")
    page.fill("input[name=phone]", PHONE)
    page.click("form button[type=submit]")
    page.wait_for_url("**/my-tickets/verify")
    page.fill("input[name=code]", texted(app, "one_time_code"))
    page.click("form button[type=submit]")
    page.wait_for_url("**/my-tickets/list")
    assert "菲林格尔质量开放日" in page.inner_text("main")
    screenshot(page, "citizen-my-tickets")
    page.click(f"a[href$='/t/{code}']")
    page.wait_for_url(f"**/t/{code}")
