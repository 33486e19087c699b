"""The door by itself (issue 14), in real Chromium: two phones with the fake camera open the same
session, lose the network (context.set_offline), admit tickets (the SAME family on both) from
their ticket lists, come back: the server holds every scan once, the family counted once, the
duplicate in the organiser's report. A scanner reloaded offline still opens and scans; walk-ins
and a walk-out wait in the queue too; the kiosk takes the same path. And the verifier in the
browser gives the contract's test vector (static/js/door/verify.js)."""
from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from qmevents.extensions import db
from qmevents.models import Admission, DoorScan, StaffAssignment

from ..test_door_pages import admitted, door_scene, register, scanner_url
from .conftest import PHONE
from .test_door_camera import camera_phone, ticket_qr, ticket_video  # noqa: F401 (fixture)
from .test_door_kiosk import kiosk_url
from .test_door_wedge import answer, dismiss, shot, sign_in, wait_until, wedge

pytestmark = pytest.mark.browser

VERIFY = """async () => {
  const v = await import("/static/js/door/verify.js");
  const key = btoa(String.fromCharCode(...Array.from({length: 32}, (_, i) => i)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  return {
    key,
    vector: await v.verifier(key, "ABCDEFGHJKMNPQRSTVWX"),
    url: v.readCode("https://qm.example.cn/t/abcd-efgh-jkmn-pqrs-tvwx?utm=1"),
    fullWidth: v.readCode("ＡＢＣＤ ＥＦＧＨ ＪＫＭＮ ＰＱＲＳ ＴＶＷＸ"),
    lookAlikes: v.normaliseCode("oil0 0000 0000 0000 000o"),
    short: v.readCode("ABCDEFGH"),
    notAlphabet: v.normaliseCode("ABCDEFGHJKMNPQRSTVWU"),
  };
}"""

# The camera waits for the test's word: each phone opens online (downloading the ticket list)
# and reads the ticket only once it is offline. Installed before the page's own scripts.
CAMERA_ON_CUE = """(() => {
  const media = navigator.mediaDevices;
  if (!media || !media.getUserMedia) return;
  const real = media.getUserMedia.bind(media);
  media.getUserMedia = async (constraints) => {
    while (!window.qmCameraCue) await new Promise((resolve) => setTimeout(resolve, 100));
    return real(constraints);
  };
})();"""


def door_state(page) -> dict:
    return page.evaluate("""() => ({pending: window.qmDoor.offline.pending,
      online: window.qmDoor.offline.online, hasList: Boolean(window.qmDoor.offline.list),
      bar: document.getElementById("door-net").innerText})""")


def open_offline_ready(page, scene) -> None:
    """The scanner opened online, its ticket list downloaded and the page kept by the service
    worker, so it opens again without a network."""
    page.goto(scanner_url(scene))
    wait_until(page, "window.qmDoor !== undefined")
    wait_until(page, "navigator.serviceWorker.controller !== null", timeout=20)
    page.reload()  # now through the worker, which keeps the page
    wait_until(page, "window.qmDoor !== undefined")
    wait_until(page, "Boolean(window.qmDoor.offline.list)", timeout=15)


def scans_of(app, event_id: int) -> list[DoorScan]:
    with app.app_context():
        return list(db.session.scalars(select(DoorScan).where(DoorScan.event_id == event_id)))


def zh(app, message: str, **values) -> str:
    with app.test_request_context(), force_locale("zh_CN"):
        return gettext(message, **values)


def test_the_verifier_gives_the_contracts_test_vector(app, factory, phone):
    scene = door_scene(app, factory)
    sign_in(phone, scene.staff_email)
    phone.goto(scanner_url(scene))
    wait_until(phone, "window.qmDoor !== undefined")
    found = phone.evaluate(VERIFY)
    assert found["key"] == "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
    assert found["vector"] == "4c5008bae18e9cc8"
    assert found["url"] == found["fullWidth"] == "ABCDEFGHJKMNPQRSTVWX"
    assert found["lookAlikes"] == "01100000000000000000"
    assert found["short"] is None and found["notAlphabet"] is None


def test_two_phones_offline_let_the_same_family_in_and_it_counts_once(
        app, factory, live_server, tmp_path, camera_phone):  # noqa: F811
    open_phone, _requests = camera_phone
    scene = door_scene(app, factory)
    second_id, second_email = factory.user("staff")
    with app.app_context():
        db.session.add(StaffAssignment(user_id=second_id, event_id=scene.event_id))
        db.session.commit()
    family = scene.codes["王芳"]  # 3 people
    video = ticket_video(ticket_qr(f"{live_server}/t/{family}"), tmp_path / "family.y4m")
    phones = []
    for email in (scene.staff_email, second_email):
        page = open_phone(video)
        page.context.add_init_script(CAMERA_ON_CUE)
        sign_in(page, email)
        open_offline_ready(page, scene)
        phones.append(page)
    first, second = phones
    assert zh(app, "Online") in door_state(first)["bar"]
    shot(first, "door-offline-online-bar")

    for page in phones:
        page.context.set_offline(True)
    for page in phones:
        wait_until(page, "!window.qmDoor.offline.online")
    # The same family shows its ticket to both phones' cameras, one after the other.
    first.evaluate("window.qmCameraCue = true")
    seen = answer(first)
    assert (seen["tone"], seen["count"]) == ("ok", "3人")
    assert first.locator("#door-answer [data-part=offline]").is_visible()
    shot(first, "door-offline-admitted")
    second.evaluate("window.qmCameraCue = true")
    seen = answer(second)
    assert (seen["tone"], seen["count"]) == ("ok", "3人")
    # Each phone carries on: another family each, and the first phone's own repeat of 王芳.
    assert (scan_field(first, scene.codes["李强"])["count"]) == "1人"
    assert (scan_field(second, scene.codes["张伟"])["count"]) == "2人"
    again = scan_field(first, f"{live_server}/t/{family}")
    assert again["tone"] == "warn"
    assert zh(app, "Already let in on this phone at %(time)s.", time="@").split("@")[-1] \
        in again["text"]
    shot(first, "door-offline-already-here")
    dismiss(first)
    dismiss(second)
    assert door_state(first)["pending"] == 2 and door_state(second)["pending"] == 2
    shot(first, "door-offline-bar")
    assert scans_of(app, scene.event_id) == []
    assert admitted(app, family) == 0

    for page in phones:
        page.context.set_offline(False)
    for page in phones:
        wait_until(page, "window.qmDoor.offline.pending === 0", timeout=20)
    scans = scans_of(app, scene.event_id)
    assert len(scans) == 4 and len({(s.by_id, s.scan_id) for s in scans}) == 4
    assert all(s.offline for s in scans)
    assert admitted(app, family) == 3  # counted once
    assert admitted(app, scene.codes["李强"]) == 1 and admitted(app, scene.codes["张伟"]) == 2
    duplicates = [s for s in scans if s.conflict is not None]
    assert [s.conflict.value for s in duplicates] == ["duplicate"]
    # The phone told of the conflict is the one whose scan came second.
    told = [page for page in phones if page.locator("[data-net=note]").is_visible()]
    assert len(told) == 1
    shot(told[0], "door-offline-conflict-shown")

    # The organiser reads it in the event's report.
    _organiser, organiser_email = factory.user("organiser")
    report = first.context.browser.new_context(viewport=PHONE, locale="zh-CN",
                                               base_url=live_server).new_page()
    sign_in(report, organiser_email)
    report.goto(f"/organiser/events/{scene.event_id}/report")
    lines = report.locator(".offline-conflicts .conflict-duplicate").all_inner_texts()
    assert len(lines) == 1
    assert scene.staff_email in lines[0] and second_email in lines[0]
    assert zh(app, "Two devices let in the same family: %(first)s %(first_at)s (stands), "
              "%(second)s %(second_at)s (duplicate)", first="@", first_at="", second="",
              second_at="").split("@")[0] in lines[0]
    report.context.close()

    # Offline again, the first phone's scanner reloads from the worker and still scans.
    first.context.set_offline(True)
    first.reload()
    wait_until(first, "window.qmDoor !== undefined")
    wait_until(first, "Boolean(window.qmDoor.offline.list)")
    late = register(app, scene, "赵敏", "13600003456", 2)  # not on the phone's list: refused
    refused = scan_field(first, late)
    assert refused["tone"] == "bad"
    back_again = scan_field(first, scene.codes["王芳"])  # the list knows all 3 are in
    assert back_again["tone"] == "warn"
    dismiss(first)
    assert door_state(first)["pending"] == 0
    first.context.set_offline(False)
    wait_until(first, "window.qmDoor.offline.online", timeout=15)
    assert len(scans_of(app, scene.event_id)) == 4


def scan_field(page, text: str) -> dict:
    dismiss(page)
    page.click("#door-code")
    wedge(page, text)
    return answer(page)


@pytest.fixture
def offline_phone(app, factory, phone):
    scene = door_scene(app, factory)
    sign_in(phone, scene.staff_email)
    open_offline_ready(phone, scene)
    return phone, scene


def test_reloaded_offline_the_scanner_decides_queues_and_sends_later(app, offline_phone):
    phone, scene = offline_phone
    phone.context.set_offline(True)
    phone.reload()
    wait_until(phone, "window.qmDoor !== undefined")
    wait_until(phone, "Boolean(window.qmDoor.offline.list)")
    wait_until(phone, "!window.qmDoor.offline.online")
    bar = door_state(phone)["bar"]
    assert zh(app, "Offline") in bar and zh(app, "%(n)s to sync", n=0) in bar
    assert zh(app, "List updated %(n)s s ago", n="@").split("@")[0] in bar
    family = scene.codes["王芳"]
    seen = scan_field(phone, family.lower())
    assert (seen["tone"], seen["count"]) == ("ok", "3人")
    assert "王*" in seen["text"] and "****1234" in seen["text"]
    assert (phone.locator("#door-answer [data-part=offline]").inner_text()
            == zh(app, "Offline · syncs later"))
    shot(phone, "door-offline-reloaded-admitted")
    assert scan_field(phone, "ZZZZZZZZZZZZZZZZZZZZ")["tone"] == "bad"
    shot(phone, "door-offline-unknown")
    dismiss(phone)
    # Walk-ins (+1, +N) and one person leaving are queued as well.
    phone.click("#door-walkins summary")
    phone.click("[data-walkin='1']")
    assert answer(phone)["count"] == "1人"
    dismiss(phone)
    phone.click("[data-walk-out]")
    assert answer(phone)["title"] == zh(app, "Left")
    dismiss(phone)
    assert door_state(phone)["pending"] == 3
    phone.evaluate("window.scrollTo(0, 0)")
    shot(phone, "door-offline-pending")
    with app.app_context():
        assert db.session.scalar(select(func.count(DoorScan.id))) == 0

    phone.context.set_offline(False)
    wait_until(phone, "window.qmDoor.offline.pending === 0", timeout=20)
    assert admitted(app, family) == 3
    with app.app_context():
        kinds = sorted(k.value for k in db.session.scalars(
            select(Admission.kind).where(Admission.event_id == scene.event_id)))
        offline = db.session.scalars(select(Admission.offline).where(
            Admission.event_id == scene.event_id)).all()
    assert kinds == sorted(["entry", "walk_in", "exit"])
    assert all(offline)
    assert zh(app, "Online") in door_state(phone)["bar"]


def test_the_status_bar_stays_in_view_and_names_the_list_age(app, offline_phone):
    phone, _scene = offline_phone
    age = zh(app, "List updated %(n)s s ago", n="@").split("@")[0]
    online, waiting = zh(app, "Online"), zh(app, "%(n)s to sync", n=0)
    wait_until(phone, "([a, b, c]) => [a, b, c].every(t => "
                      "document.getElementById('door-net').innerText.includes(t))",
               [age, online, waiting])
    bar = door_state(phone)["bar"]
    assert zh(app, "Online") in bar and zh(app, "%(n)s to sync", n=0) in bar
    assert zh(app, "List updated %(n)s s ago", n="@").split("@")[0] in bar
    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    box = phone.locator("#door-net").bounding_box()
    assert box is not None and 0 <= box["y"] < 5  # sticky at the top of the screen
    shot(phone, "door-offline-bar-scrolled")


def test_the_kiosk_decides_offline_and_sends_later(app, factory, phone):
    scene = door_scene(app, factory)
    sign_in(phone, scene.staff_email)
    open_offline_ready(phone, scene)  # the list of this event is on the tablet now
    phone.goto(kiosk_url(scene))
    wait_until(phone, "window.qmKiosk !== undefined")
    wait_until(phone, "Boolean(window.qmKiosk.offline.list)")
    phone.click("#kiosk-go")
    phone.context.set_offline(True)
    wait_until(phone, "!window.qmKiosk.offline.online")
    phone.fill("#kiosk-code", scene.codes["张伟"])
    phone.press("#kiosk-code", "Enter")
    phone.wait_for_selector("#kiosk-answer.tone-ok", timeout=10_000)
    text = phone.locator("#kiosk-answer").inner_text()
    assert "2人" in text and "张伟" not in text and "张*" not in text
    assert phone.locator("#kiosk-answer [data-part=offline]").is_visible()
    shot(phone, "kiosk-offline-welcome")
    wait_until(phone, "window.qmKiosk.offline.pending === 1")
    phone.context.set_offline(False)
    wait_until(phone, "window.qmKiosk.offline.pending === 0", timeout=20)
    assert admitted(app, scene.codes["张伟"]) == 2


def test_an_answer_later_than_2500_ms_is_decided_here_and_recorded_once(app, offline_phone):
    phone, scene = offline_phone
    late = []

    def too_slow(route):
        # The scan reaches the server and is recorded; its answer never comes back in time.
        late.append(route.fetch())

    phone.route("**/api/v1/checkins", too_slow)
    seen = scan_field(phone, scene.codes["王芳"])
    assert (seen["tone"], seen["count"]) == ("ok", "3人")
    assert phone.locator("#door-answer [data-part=offline]").is_visible()
    assert len(late) == 1 and late[0].status == 200
    phone.unroute("**/api/v1/checkins")
    assert len(scans_of(app, scene.event_id)) == 1 and admitted(app, scene.codes["王芳"]) == 3
    # The queue sends the same scan_id again: a repeat, nothing admitted twice.
    wait_until(phone, "window.qmDoor.offline.pending === 0", timeout=20)
    scans = scans_of(app, scene.event_id)
    assert len(scans) == 1 and scans[0].conflict is None
    assert admitted(app, scene.codes["王芳"]) == 3


def test_an_admission_decided_offline_can_be_undone_before_it_is_sent(app, offline_phone):
    phone, scene = offline_phone
    phone.context.set_offline(True)
    wait_until(phone, "!window.qmDoor.offline.online")
    assert scan_field(phone, scene.codes["李强"])["count"] == "1人"
    dismiss(phone)
    assert door_state(phone)["pending"] == 1
    phone.click("#door-undo")
    assert answer(phone)["title"] == zh(app, "Admission undone")
    dismiss(phone)
    assert door_state(phone)["pending"] == 0
    # Let in again (the phone forgot the undone admission), then sent once the network is back.
    phone.wait_for_timeout(1600)  # the same code typed again within 1.5 s is the same scan
    assert scan_field(phone, scene.codes["李强"])["count"] == "1人"
    dismiss(phone)
    phone.context.set_offline(False)
    wait_until(phone, "window.qmDoor.offline.pending === 0", timeout=20)
    assert len(scans_of(app, scene.event_id)) == 1 and admitted(app, scene.codes["李强"]) == 1


def test_offline_the_search_finds_a_family_on_the_phones_list(app, offline_phone):
    phone, scene = offline_phone
    phone.context.set_offline(True)
    wait_until(phone, "!window.qmDoor.offline.online")
    phone.click("#door-search summary")
    for query, name in (("1234", "王*"), ("王芳", "王*")):
        phone.fill("#door-q", query)
        phone.press("#door-q", "Enter")
        phone.wait_for_selector(".search-result [data-admit]")
        assert phone.locator(".search-result [data-name]").all_inner_texts() == [name]
    phone.locator(".search-result").scroll_into_view_if_needed()
    shot(phone, "door-offline-search")
    phone.click(".search-result [data-admit]")
    seen = answer(phone)
    assert (seen["tone"], seen["count"]) == ("ok", "3人")
    dismiss(phone)
    phone.context.set_offline(False)
    wait_until(phone, "window.qmDoor.offline.pending === 0", timeout=20)
    assert admitted(app, scene.codes["王芳"]) == 3
