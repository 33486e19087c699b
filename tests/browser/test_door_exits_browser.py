"""Door staff on a phone-sized Chromium at an entrance counting both ways under a safety cap:
inside now and the cap always on screen, the in/out switch, a ticket scanned out, and the
one-tap "1 人离场" for a walk-in leaving. Screenshots at 390×844."""
from __future__ import annotations

from qmevents.extensions import db
from qmevents.models import Checkpoint, CheckpointDirection, Event
from qmevents.services.door import desk as door

from ..test_door_pages import door_scene
from .test_door_wedge import answer, dismiss, open_scanner, shot, sign_in, wait_until, wedge


def both_ways_under_a_cap(app, factory, cap: int = 4):
    scene = door_scene(app, factory)
    with app.app_context():
        db.session.get(Checkpoint, scene.entrance_id).direction = CheckpointDirection.BOTH
        db.session.get(Event, scene.event_id).safety_cap = cap
        db.session.commit()
    return scene


def inside_shown(page) -> int:
    return int(page.inner_text("#door-figures [data-figure=inside_now]"))


def test_the_switch_scans_a_family_out_and_one_tap_counts_a_walk_in_out(app, factory, phone):
    scene = both_ways_under_a_cap(app, factory)
    code = scene.codes["王芳"]
    sign_in(phone, scene.staff_email)
    open_scanner(phone, scene)
    assert phone.inner_text("#door-figures [data-figure=safety_cap]") == "4"

    wedge(phone, code)
    came = answer(phone)
    assert came["tone"] == "ok"
    wait_until(phone, "Number(document.querySelector('[data-figure=inside_now]').textContent) > 0")
    inside = inside_shown(phone)
    shot(phone, "door-exits-in")
    dismiss(phone)

    phone.click(".door-direction label:has(input[value=out])")
    assert phone.is_checked("input[name=direction][value=out]")
    shot(phone, "door-exits-switch-out")
    phone.focus("#door-code")
    wedge(phone, code)
    left = answer(phone)
    assert left["tone"] == "ok" and left["title"] in ("已离场", "Left")
    shot(phone, "door-exits-out-answer")
    dismiss(phone)
    wait_until(phone, "Number(document.querySelector('[data-figure=inside_now]').textContent) === 0")
    assert inside > 0

    with app.app_context():
        door.walk_in(scene.event_id, scene.session_id, 1, _staff(app, scene))
    phone.click("[data-walk-out]")
    one = answer(phone)
    assert one["tone"] == "ok"
    dismiss(phone)
    wait_until(phone, "Number(document.querySelector('[data-figure=inside_now]').textContent) === 0")
    phone.click("[data-walk-out]")  # nobody inside: refused, said so
    refused = answer(phone)
    assert refused["tone"] == "warn"
    shot(phone, "door-exits-walk-out-refused")


def test_the_figures_turn_red_at_the_cap(app, factory, phone):
    scene = both_ways_under_a_cap(app, factory, cap=2)
    with app.app_context():
        door.walk_in(scene.event_id, scene.session_id, 2, _staff(app, scene))
    sign_in(phone, scene.staff_email)
    open_scanner(phone, scene)
    wait_until(phone, "document.getElementById('door-figures').dataset.capState === 'full'")
    phone.locator("#door-figures").scroll_into_view_if_needed()
    shot(phone, "door-exits-figures-full")
    wedge(phone, scene.codes["王芳"])
    refused = answer(phone)
    assert refused["tone"] == "bad"
    assert phone.locator("#door-answer [data-part=override]").is_visible()
    shot(phone, "door-exits-over-capacity")


def _staff(app, scene):
    from qmevents.models import User

    return db.session.scalar(db.select(User).filter_by(email=scene.staff_email))
