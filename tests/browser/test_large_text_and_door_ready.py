"""A+ on a phone: larger text at one tap, remembered on every page after; the door on a phone
keeps its keyboard down (no focus on the code field) and has its sound ready before the first
answer; the door's buttons stay on one line."""
from __future__ import annotations

from ..test_door_pages import door_scene, scanner_url
from .conftest import screenshot
from .test_door_wedge import sign_in, wait_until


def font_size(page) -> float:
    return page.evaluate("parseFloat(getComputedStyle(document.querySelector('main p.lead')).fontSize)")


def test_a_citizen_turns_on_large_text_and_it_stays(phone, factory):
    event_id = factory.event(title="威派格智慧水务质量开放日")
    page = phone
    page.goto("/")
    normal = font_size(page)
    screenshot(page, "text-normal")
    page.click("a.text-size")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.classList.contains('text-large')")
    assert font_size(page) >= normal * 1.2
    screenshot(page, "text-large")
    page.goto(f"/events/{event_id}")  # another page, later: still large
    assert page.evaluate("document.documentElement.classList.contains('text-large')")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.click("a.text-size")  # and back
    page.wait_for_load_state("load")
    assert not page.evaluate("document.documentElement.classList.contains('text-large')")


def test_the_door_on_a_phone_keeps_the_keyboard_down_and_the_sound_ready(app, factory, phone):
    scene = door_scene(app, factory)
    page = phone
    sign_in(page, scene.staff_email)
    page.goto(scanner_url(scene))
    wait_until(page, "window.qmDoor !== undefined")
    assert page.evaluate("document.activeElement.id") != "door-code"
    page.tap("h1.door-event")  # the first touch, whatever it is, starts the sound
    wait_until(page, "window.qmDoor.overlay.feedback.ready === true")
    search = page.locator("#door-search summary")
    search.tap()
    button = page.locator(".door-search-form button[type=submit]")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["height"] < 70, box  # one line, not two
    screenshot(page, "door-search-open")
