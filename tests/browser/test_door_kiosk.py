"""Self check-in (自助签到): a tablet at the entrance whose camera (Chromium's fake camera showing a
real ticket QR) admits the party by itself on a big screen; a refusal calls staff and stays until
a staff member holds the button; visitors never see a name or a phone number."""
from __future__ import annotations

import pytest

from ..test_door_pages import admitted, door_scene
from .test_door_camera import camera_phone, ticket_qr, ticket_video  # noqa: F401 (fixture)
from .test_door_wedge import shot, sign_in, wait_until

pytestmark = pytest.mark.browser


def kiosk_url(scene) -> str:
    return f"/door/events/{scene.event_id}/kiosk?session_id={scene.session_id}"


def hold(page, selector: str) -> None:
    """A staff member's long press (a visitor's tap does nothing)."""
    box = page.locator(selector).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(1100)
    page.mouse.up()


def test_the_kiosk_camera_admits_a_family_then_calls_staff_for_the_same_ticket(
        app, factory, live_server, tmp_path, camera_phone):  # noqa: F811
    open_phone, requests = camera_phone
    scene = door_scene(app, factory)
    code = scene.codes["王芳"]
    page = open_phone(ticket_video(ticket_qr(f"{live_server}/t/{code}"), tmp_path / "t.y4m"))
    page.set_viewport_size({"width": 800, "height": 1100})  # a tablet standing at the gate
    sign_in(page, scene.staff_email)
    page.goto(kiosk_url(scene))
    wait_until(page, "window.qmKiosk !== undefined")
    shot(page, "kiosk-start")
    page.click("#kiosk-go")

    page.wait_for_selector("#kiosk-answer.tone-ok", timeout=15_000)
    text = page.locator("#kiosk-answer").inner_text()
    assert "3" in text and "王芳" not in text
    shot(page, "kiosk-welcome")
    assert admitted(app, code) == 3

    # The family still holding its ticket up is not answered again; the same ticket shown once
    # more (here by the kiosk's hand scanner) is "already admitted", which calls staff and stays
    # until a long press.
    wait_until(page, "document.getElementById('kiosk-answer').hidden", timeout=6)
    page.wait_for_timeout(1500)
    assert page.locator("#kiosk-answer").is_hidden()
    page.fill("#kiosk-code", code)
    page.press("#kiosk-code", "Enter")
    page.wait_for_selector("#kiosk-answer.tone-staff", timeout=15_000)
    staff_screen = page.locator("#kiosk-answer").inner_text()
    assert "王芳" not in staff_screen and "@" not in staff_screen
    shot(page, "kiosk-calls-staff")
    page.click("#kiosk-answer")  # a visitor's tap
    page.wait_for_timeout(300)
    assert page.locator("#kiosk-answer").is_visible()
    hold(page, "#kiosk-answer [data-part=done]")
    wait_until(page, "document.getElementById('kiosk-answer').hidden")
    assert admitted(app, code) == 3


def test_leaving_the_kiosk_takes_a_long_press_and_returns_to_the_scanner(app, factory, phone):
    scene = door_scene(app, factory)
    sign_in(phone, scene.staff_email)
    phone.goto(f"/door/events/{scene.event_id}?session_id={scene.session_id}")
    phone.click("text=自助签到")
    wait_until(phone, "window.qmKiosk !== undefined")
    assert "/kiosk" in phone.url
    phone.click("#kiosk-go")
    shot(phone, "kiosk-scanning")
    phone.click("#kiosk-leave")  # a tap: stays
    phone.wait_for_timeout(300)
    assert "/kiosk" in phone.url
    hold(phone, "#kiosk-leave")
    phone.wait_for_url(lambda url: "/kiosk" not in url)
    assert f"session_id={scene.session_id}" in phone.url
