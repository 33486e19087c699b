"""A citizen changes a registration on a phone: fewer people, then another session; the ticket
(and its QR) stays, and the places follow."""
from __future__ import annotations

from ..test_registration_changes import book, exact, session_ids, sessions
from .conftest import screenshot


def test_a_family_changes_its_registration_on_a_phone(app, phone, factory):
    event_id = factory.event(title="上海电气质量开放日", max_party_size=5, sessions=sessions(10, 10))
    first, second = session_ids(app, event_id)
    code = book(app, event_id, first, "13812345678", 4)
    page = phone
    page.goto(f"/t/{code}")
    page.click("text=更改报名")
    page.wait_for_url(f"**/t/{code}/change")
    screenshot(page, "ticket-change")
    page.select_option("select[name=people]", "3")
    page.click("text=更改人数")
    page.wait_for_url(f"**/t/{code}")
    assert "报名现为 3 人" in page.inner_text("main")
    assert exact(app, first) == (3, 3)

    page.click("text=更改报名")
    page.check(f"input[name=session_id][value='{second}']")
    page.click("text=改到此场次")
    page.wait_for_url(f"**/t/{code}")
    assert "已改到新场次" in page.inner_text("main") and "第2场" in page.inner_text("main")
    assert exact(app, first) == (0, 0) and exact(app, second) == (3, 3)
    screenshot(page, "ticket-changed")


def test_a_full_session_is_shown_full_and_cannot_be_chosen_on_a_phone(app, phone, factory):
    event_id = factory.event(title="上海电气质量开放日", max_party_size=5, sessions=sessions(10, 2))
    first, second = session_ids(app, event_id)
    book(app, event_id, second, "13900001111", 2)
    code = book(app, event_id, first, "13812345678", 1)
    page = phone
    page.goto(f"/t/{code}/change")
    choice = page.locator(f"input[name=session_id][value='{second}']")
    assert choice.is_disabled() and "该场次名额已满" in page.inner_text("main")
    assert page.locator("select[name=people]").count() == 0  # a party of one stays one
    assert page.locator("text=改到此场次").count() == 0  # nothing to choose, nothing to send
    screenshot(page, "ticket-change-full")
    assert exact(app, first) == (1, 1) and exact(app, second) == (2, 2)
