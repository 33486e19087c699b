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
    code = page.locator(".door-code").inner_text()
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


SHORT_CODES = """async (codes) => {
  const v = await import("/static/js/door/verify.js");
  return codes.map((typed) => v.normaliseShortCode(typed));
}"""


def by_phone(app, factory, scene, name: str = "李阿婆", phone: str = "13955556666",
             people: int = 2) -> str:
    """A caller registered by phone for the scene's session; their short door code."""
    from qmevents.extensions import db
    from qmevents.models import User
    from qmevents.services.registrations import hotline

    staff_id, _email = factory.user("organiser")
    with app.test_request_context("/"):
        made = hotline.register_by_phone(db.session.get(User, staff_id), scene.event_id,
                                         scene.session_id, name, phone, people, True)
        scene.codes[name] = made.code
        return made.short_code


def test_offline_the_door_admits_on_a_typed_short_code(app, factory, phone):
    from qmevents.services.registrations.short_codes import check_letter, normalise_short_code

    from ..test_door_pages import admitted
    from .test_door_offline import open_offline_ready, scan_field

    scene = door_scene(app, factory, families=())
    short = by_phone(app, factory, scene)
    sign_in(phone, scene.staff_email)
    open_offline_ready(phone, scene)
    # The page reads a short code as the server does, check letter and all.
    typed = ["482 913 " + check_letter("482913").lower(), "４８２９１３" + check_letter("482913"),
             "482913-" + check_letter("482913"), "482914" + check_letter("482913"), "48291",
             short[:3] + " " + short[3:]]
    assert phone.evaluate(SHORT_CODES, typed) == [normalise_short_code(t) for t in typed]

    phone.context.set_offline(True)
    wait_until(phone, "!window.qmDoor.offline.online", timeout=15)
    wrong = short[:5] + str((int(short[5]) + 1) % 10) + short[6]
    assert scan_field(phone, wrong)["tone"] == "bad"
    seen = scan_field(phone, f"{short[:3]} {short[3:6]} {short[6].lower()}")
    assert (seen["tone"], seen["count"]) == ("ok", "2人") and "李*婆" in seen["text"]
    assert phone.locator("#door-answer [data-part=offline]").is_visible()
    screenshot(phone, "hotline-door-offline-admitted")
    phone.context.set_offline(False)
    wait_until(phone, "window.qmDoor.offline.pending === 0", timeout=20)
    assert admitted(app, scene.codes["李阿婆"]) == 2
