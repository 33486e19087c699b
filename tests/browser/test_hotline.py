"""代报名 on a phone: bureau staff register a caller without a smartphone, read the door code
from the screen, and at the door the code typed on the scanner admits the family."""
from __future__ import annotations

from ..test_door_pages import door_scene, scanner_url
from .conftest import screenshot
from .test_door_wedge import answer, sign_in, wait_until


def test_a_caller_registered_by_phone_is_admitted_on_the_spoken_code(app, factory, phone):
    scene = door_scene(app, factory, families=())
    _user_id, email = factory.user("organiser")  # the bureau that runs the event
    page = phone
    sign_in(page, email)
    page.goto(f"/organiser/events/{scene.event_id}")
    page.click("text=电话代报名")
    page.fill("input[name=name]", "王阿姨")
    page.fill("input[name=phone]", "138 1234 5678")
    page.fill("input[name=party_size]", "2")
    page.check("input[name=consent]")
    screenshot(page, "hotline-form")
    page.click("text=报名并发送电子票")
    code = page.locator(".hotline-door-code").inner_text()
    assert len(code.replace(" ", "")) == 7
    screenshot(page, "hotline-done")

    page.goto(scanner_url(scene))
    wait_until(page, "window.qmDoor !== undefined")
    page.fill("#door-code", code.replace(" ", "").lower())
    page.keyboard.press("Enter")
    shown = answer(page)
    assert shown["tone"] == "ok" and "2" in shown["count"]
    assert "王" in shown["text"]
    screenshot(page, "hotline-door-admitted")
