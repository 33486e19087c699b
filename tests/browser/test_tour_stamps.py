"""A family on the Putuo discovery tour, on a phone: the event page lists the stations in order
with their addresses, the ticket's stamp card fills as two stations scan it, and once the last
one has, the children's certificate opens."""
from __future__ import annotations

from qmevents.extensions import db
from qmevents.models import Event

from ..test_door_pages import door_scene
from ..test_tours import scan_at, tour  # noqa: F401  (the fixture)
from .conftest import PHONE, screenshot
from .test_door_wedge import answer, dismiss, sign_in, wait_until, wedge


def test_the_stamp_card_fills_as_stations_scan(app, phone, factory, tour):  # noqa: F811
    staff_id, _email = factory.user("organiser")
    page = phone
    page.goto(f"/events/{tour['event_id']}")
    stations = page.locator(".event-stations .station")
    assert stations.count() == 3
    assert stations.nth(1).inner_text().startswith("2")
    assert "光复西路2690号" in stations.nth(1).inner_text()
    link = stations.nth(0).locator("a.map-link")
    assert link.get_attribute("href").startswith("https://uri.amap.com/")
    assert link.bounding_box()["height"] >= 44
    screenshot(page, "tour-event-stations")

    page.goto(f"/t/{tour['code']}")
    assert page.locator(".stamp.is-stamped").count() == 0
    scan_at(app, tour, 0, staff_id)
    scan_at(app, tour, 1, staff_id)
    page.reload()
    assert page.locator(".stamp.is-stamped").count() == 2
    assert "已集 2/3 站" in page.locator(".stamp-card h2").inner_text()
    assert page.locator(".stamp-certificate").count() == 0
    screenshot(page, "tour-stamp-card")

    scan_at(app, tour, 2, staff_id)
    page.reload()
    assert page.locator(".stamp.is-stamped").count() == 3
    page.click("text=完成证书（图片）")
    page.wait_for_url(f"**/t/{tour['code']}/certificate.png")
    assert page.evaluate("() => document.images[0].naturalWidth") == 1600
    page.set_viewport_size({"width": 800, "height": 565})
    screenshot(page, "tour-certificate")


def test_door_staff_scanning_at_two_stations_fill_the_familys_card_on_their_phone(
        app, factory, phone, browser, live_server):
    """The stamps come from the door as it really works: a staff member's own phone, the
    scanner page set to one station, a hand scanner typing the code; the family reloads."""
    scene = door_scene(app, factory, checkpoints=("上海纺织博物馆", "苏州河工业文明展示馆",
                                                  "英雄金笔厂"),
                       families=(("李娜", "13800001111", 3),), tallies=())
    code = scene.codes["李娜"]
    with app.app_context():
        stations = [c.id for c in db.session.get(Event, scene.event_id).checkpoints]

    phone.goto(f"/t/{code}")
    assert phone.locator(".stamp").count() == 3
    assert phone.locator(".stamp.is-stamped").count() == 0

    staff_context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                        has_touch=True, locale="zh-CN", base_url=live_server)
    try:
        staff = staff_context.new_page()
        sign_in(staff, scene.staff_email)

        def scan_at_station(checkpoint_id: int) -> str:
            staff.goto(f"/door/events/{scene.event_id}?session_id={scene.session_id}"
                       f"&checkpoint_id={checkpoint_id}")
            wait_until(staff, "window.qmDoor !== undefined")
            staff.focus("#door-code")
            wedge(staff, code)
            tone = answer(staff)["tone"]
            dismiss(staff)
            return tone

        assert scan_at_station(stations[0]) == "ok"  # the entrance: station 1
        assert scan_at_station(stations[2]) == "ok"  # station 3, before 2
        phone.reload()
        stamped = phone.evaluate("""() => [...document.querySelectorAll(".stamp")]
            .map((li) => li.classList.contains("is-stamped"))""")
        assert stamped == [True, False, True]
        assert "2/3" in phone.locator(".stamp-card h2").inner_text()
        assert phone.locator(".stamp-certificate").count() == 0
        phone.locator(".stamp-card").scroll_into_view_if_needed()
        screenshot(phone, "tour-stamp-card-from-the-door")

        assert scan_at_station(stations[1]) == "ok"
    finally:
        staff_context.close()
    phone.reload()
    assert phone.locator(".stamp.is-stamped").count() == 3
    assert phone.locator(".stamp-certificate a").count() == 2
    with phone.expect_response(lambda r: r.url.endswith("/certificate.png")) as seen:
        phone.locator(".stamp-certificate a").first.click()
    assert seen.value.status == 200
    assert seen.value.header_value("content-type") == "image/png"
