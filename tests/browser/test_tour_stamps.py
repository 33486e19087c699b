"""A family on the Putuo discovery tour, on a phone: the event page lists the stations in order
with their addresses, the ticket's stamp card fills as two stations scan it, and once the last
one has, the children's certificate opens."""
from __future__ import annotations

from ..test_tours import scan_at, tour  # noqa: F401  (the fixture)
from .conftest import screenshot


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
