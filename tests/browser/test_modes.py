"""Each way of giving places, end to end on a phone: citizens register, the organiser decides."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from qmevents.extensions import db
from qmevents.models import Registration
from qmevents.models.event import EventSession
from qmevents.services.events import SessionDraft
from qmevents.timeutil import utcnow

from ..conftest import PASSWORD
from .conftest import screenshot


def register(page, event_id: int, name: str, phone: str) -> str:
    """A citizen with no cookies registers through the event page; returns the ticket's path."""
    page.context.clear_cookies()
    page.goto(f"/events/{event_id}?lang=en")
    page.click(".session-action a.button")
    page.wait_for_url("**/register**")
    page.fill("input[name=name]", name)
    page.fill("input[name=phone]", phone)
    page.select_option("select[name=party_size]", "1")
    page.check("input[name=consent]")
    page.click("button.reg-submit")
    page.wait_for_url("**/t/*")
    return urlsplit(page.url).path


def ticket(page, path: str) -> str:
    page.goto(f"{path}?lang=en")
    return page.inner_text("article.ticket")


def sign_in_organiser(page, factory) -> None:
    _, email = factory.user("organiser", org="杨浦区市场监督管理局", district="杨浦区")
    page.context.clear_cookies()
    page.goto("/login?lang=en")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/organiser/")


def one_place(**mode) -> dict:
    """One session of one place, for parties of one: the smallest contest for a place."""
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    return dict(mode, max_party_size=1, sessions=[
        SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2), capacity=1)])


def statuses(app, event_id: int) -> dict[str, str]:
    with app.app_context():
        rows = db.session.scalars(db.select(Registration).filter_by(event_id=event_id))
        return {r.name: r.status.value for r in rows}


def test_waitlist_a_cancellation_gives_the_place_to_the_next_in_line(phone, factory, app):
    event_id = factory.event(**one_place(registration_mode="waitlist"))

    first = register(phone, event_id, "王芳", "13800000001")
    assert phone.locator(".ticket-qr img.qr").count() == 1
    second = register(phone, event_id, "李强", "13800000002")
    assert "You are no. 1 on the waiting list." in ticket(phone, second)
    assert phone.locator(".ticket-qr").count() == 0

    phone.goto(f"{first}?lang=en")
    phone.click("a.button.danger")
    phone.click("button.danger-solid")
    phone.wait_for_url(f"**{first}*")
    assert statuses(app, event_id) == {"王芳": "cancelled", "李强": "confirmed"}

    ticket(phone, second)
    assert phone.locator(".ticket-status .badge-ok").count() == 1
    assert '<img class="qr"' in phone.inner_html(".ticket-qr")
    screenshot(phone, "mode-waitlist-ticket")

    sign_in_organiser(phone, factory)
    phone.goto(f"/organiser/events/{event_id}/registrants?lang=en")
    assert "李强" in phone.inner_text("main")
    screenshot(phone, "mode-waitlist-organiser")


def test_approval_the_organiser_admits_an_applicant(phone, factory, app):
    event_id = factory.event(**one_place(registration_mode="approval"))

    path = register(phone, event_id, "张伟", "13800000003")
    assert "Your application is being considered." in ticket(phone, path)
    assert statuses(app, event_id) == {"张伟": "applied"}

    sign_in_organiser(phone, factory)
    phone.goto(f"/organiser/events/{event_id}/applicants?lang=en")
    phone.check("input[name=registration_id]")
    phone.click("button[name=decision][value=admit]")
    phone.wait_for_load_state()
    screenshot(phone, "mode-approval-organiser")
    assert statuses(app, event_id) == {"张伟": "confirmed"}

    phone.context.clear_cookies()
    ticket(phone, path)
    assert phone.locator(".ticket-status .badge-ok").count() == 1
    assert '<img class="qr"' in phone.inner_html(".ticket-qr")
    screenshot(phone, "mode-approval-ticket")


def test_lottery_the_organiser_draws_once_registration_closes(phone, factory, app):
    event_id = factory.event(**one_place(registration_mode="lottery"))

    paths = {name: register(phone, event_id, name, number)
             for name, number in (("陈静", "13800000004"), ("刘洋", "13800000005"))}
    assert "Places are given by lottery." in ticket(phone, paths["陈静"])

    with app.app_context():  # the window must be closed before a draw
        db.session.execute(db.update(EventSession).where(EventSession.event_id == event_id)
                           .values(registration_closes_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()

    sign_in_organiser(phone, factory)
    phone.goto(f"/organiser/events/{event_id}/lottery?lang=en")
    phone.click(".lottery-session button[type=submit]")
    phone.wait_for_selector(".lottery-seed code")
    assert phone.inner_text(".lottery-seed code").strip()
    screenshot(phone, "mode-lottery-organiser")

    outcome = statuses(app, event_id)
    assert sorted(outcome.values()) == ["confirmed", "waitlisted"]
    winner = next(name for name, status in outcome.items() if status == "confirmed")
    loser = next(name for name, status in outcome.items() if status == "waitlisted")

    phone.context.clear_cookies()
    assert "on the waiting list" in ticket(phone, paths[loser])
    ticket(phone, paths[winner])
    assert '<img class="qr"' in phone.inner_html(".ticket-qr")
    screenshot(phone, "mode-lottery-ticket")
