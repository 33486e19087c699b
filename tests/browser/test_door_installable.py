"""The door page opens and gets its decoder ready with no network, once it was opened online:
its service worker (qmevents/door/app.py, static/js/door-sw.js) kept the page, scripts and wasm.
(Scanning offline and syncing: test_door_offline.py.)"""
from __future__ import annotations

from flask_babel import force_locale, gettext

from ..test_door_pages import door_scene, scanner_url
from .test_door_wedge import open_scanner, shot, sign_in, wait_until

DECODER = """async () => {
  const { getDetector } = await import("/static/js/door/decoder.js");
  const { kind } = await getDetector(new URL("/static/vendor/", location.href).href);
  return kind;
}"""
# The page names its styles by their hashed names (qmevents/staticfiles.py); the worker keeps
# them under the plain names and must hand them over all the same.
STYLES_LOADED = r"""() => {
  const links = [...document.querySelectorAll('link[rel="stylesheet"]')];
  return links.length > 0 && links.every((link) => /\.[0-9a-f]{10}\.css$/.test(link.href)
    && link.sheet !== null && link.sheet.cssRules.length > 0);
}"""


def test_the_scanner_reopens_offline_with_its_decoder(app, factory, phone):
    scene = door_scene(app, factory)
    sign_in(phone, scene.staff_email)
    open_scanner(phone, scene)
    # The worker takes the page over once it has cached the door's files.
    wait_until(phone, "navigator.serviceWorker.controller !== null", timeout=20)
    wait_until(phone, """async () => (await caches.keys()).some(
        (name) => name.startsWith("qm-door-static-"))""")
    phone.reload()  # the page itself is kept by the worker from this visit on
    wait_until(phone, "window.qmDoor !== undefined")

    phone.context.set_offline(True)
    try:
        phone.reload()
        wait_until(phone, "window.qmDoor !== undefined")
        assert phone.locator("h1.door-event").inner_text() == "威派格智慧水务质量开放日"
        assert phone.evaluate(DECODER) == "zxing"  # the wasm came from the worker's cache
        assert phone.evaluate(STYLES_LOADED)
        # Another session's address of the same event still opens a scanner.
        phone.goto(scanner_url(scene).replace(f"session_id={scene.session_id}",
                                              "session_id=999999"))
        wait_until(phone, "window.qmDoor !== undefined")
        shot(phone, "door-offline-reopened")
    finally:
        phone.context.set_offline(False)


def test_a_phone_that_never_opened_the_door_is_told_so_offline(app, factory, phone):
    scene = door_scene(app, factory)
    sign_in(phone, scene.staff_email)
    phone.goto("/door/")
    wait_until(phone, "navigator.serviceWorker.controller !== null", timeout=20)
    phone.context.set_offline(True)
    try:
        phone.goto(f"/door/events/{scene.event_id}")
        with app.test_request_context(), force_locale("zh_CN"):
            title = gettext("The door page is not on this phone yet")
        assert phone.locator("h1").inner_text() == title
    finally:
        phone.context.set_offline(False)
