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


OLD_STORE = """async ([eventId, key, cursor]) => {
  await new Promise((resolve) => {
    const gone = indexedDB.deleteDatabase("qm-door");
    gone.onsuccess = gone.onerror = gone.onblocked = () => resolve();
  });
  const request = indexedDB.open("qm-door", 1);  // as the door kept it before short codes
  request.onupgradeneeded = () => {
    const db = request.result;
    const tickets = db.createObjectStore("tickets", { keyPath: ["event_id", "ticket_id"] });
    tickets.createIndex("v", ["event_id", "v"]);
    db.createObjectStore("queue", { keyPath: "scan_id" }).createIndex("seq", "seq");
    db.createObjectStore("meta", { keyPath: "name" });
  };
  const db = await new Promise((resolve) => { request.onsuccess = () => resolve(request.result); });
  const tx = db.transaction("meta", "readwrite");
  tx.objectStore("meta").put({ name: `list:${eventId}`, key, cursor, fetchedAt: Date.now() });
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
}"""

SV_COUNT = """async (eventId) => {
  const db = await new Promise((resolve) => {
    const request = indexedDB.open("qm-door");
    request.onsuccess = () => resolve(request.result);
  });
  const index = db.transaction("tickets").objectStore("tickets").index("sv");
  const n = await new Promise((resolve) => {
    const count = index.count(IDBKeyRange.bound([eventId, ""], [eventId, "\\uffff"]));
    count.onsuccess = () => resolve(count.result);
  });
  const version = db.version;
  db.close();
  return { n, version };
}"""


def test_a_door_phone_with_the_old_store_fetches_the_whole_list_again(app, factory, phone):
    scene = door_scene(app, factory, families=())
    by_phone(app, factory, scene)
    sign_in(phone, scene.staff_email)
    from datetime import timedelta

    from sqlalchemy import select

    from qmevents.extensions import db
    from qmevents.models import User
    from qmevents.services.door import ticket_list
    from qmevents.timeutil import utcnow

    # The list this phone kept before: its key, and a cursor later than the registration by
    # phone, so that only the changes since would bring nothing (and no `sv`).
    with app.app_context():
        staff_id = db.session.scalar(select(User.id).filter_by(email=scene.staff_email))
        key = ticket_list.b64url(ticket_list.key_bytes(scene.event_id, staff_id))
        cursor = ticket_list.make_cursor(scene.event_id, utcnow() + timedelta(minutes=5))
    phone.goto("/")
    phone.evaluate(OLD_STORE, [scene.event_id, key, cursor])
    phone.goto(scanner_url(scene))
    wait_until(phone, "window.qmDoor !== undefined")
    wait_until(phone, "Boolean(window.qmDoor.offline.list && window.qmDoor.offline.list.cursor"
               f" && window.qmDoor.offline.list.cursor !== '{cursor}')", timeout=15)
    assert phone.evaluate(SV_COUNT, scene.event_id) == {"n": 1, "version": 2}
