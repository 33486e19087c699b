"""A ticket opened inside WeChat's browser on a phone: the QR is an image that loaded (WeChat's
long press reads images only), the ticket card is the first action and opens as a picture whose
QR reads back, and the page says how to get the PDF and the calendar entry out of WeChat."""
from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image

from ..test_ticket_card import WECHAT
from ..test_ticket_pages import register
from .conftest import phone_page, screenshot


@pytest.fixture
def wechat(browser, live_server):
    with phone_page(browser, live_server, user_agent=WECHAT) as page:
        yield page


def test_a_ticket_in_wechat_saves_as_a_picture(app, factory, wechat, tmp_path):
    code, _session = register(app, factory)
    page = wechat
    page.goto(f"/t/{code}")
    qr = page.locator("img.qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    box = qr.bounding_box()
    assert box["width"] >= 250 and box["height"] == box["width"]  # large, square, on screen
    first = page.locator(".ticket-actions a.button").first
    assert first.inner_text() == "保存电子票图片"
    assert "在浏览器中打开" in page.locator(".ticket-wechat-hint").inner_text()
    screenshot(page, "ticket-wechat")

    first.click()
    page.wait_for_url(f"**/t/{code}/ticket.png")
    shown = page.evaluate("() => [document.images[0].naturalWidth, document.images[0].naturalHeight]")
    assert shown[0] == 1080 and shown[1] > 1400
    png = tmp_path / "card.png"
    png.write_bytes(page.request.get(f"/t/{code}/ticket.png").body())
    [found] = zxingcpp.read_barcodes(Image.open(png))
    assert found.text.endswith(f"/t/{code}")
    page.set_viewport_size({"width": 1080, "height": 1800})
    screenshot(page, "ticket-card")


def test_a_series_pass_in_wechat_saves_as_one_picture_of_every_talk(app, factory, wechat,
                                                                    tmp_path):
    """Qingpu's talks: the one picture a family keeps names each talk, and its QR reads back."""
    from ..test_registration_changes import session_ids
    from ..test_series_pass import lectures, take_pass

    event_id = factory.event(title="青浦区质量大讲堂", kind="lecture", series_pass=True,
                             max_party_size=2, sessions=lectures())
    code = take_pass(app, event_id, session_ids(app, event_id)[:3]).code
    page = wechat
    page.goto(f"/t/{code}")
    page.locator(".ticket-actions a.button").first.click()
    page.wait_for_url(f"**/t/{code}/ticket.png")
    assert page.evaluate("() => document.images[0].naturalWidth") == 1080
    png = tmp_path / "card.png"
    png.write_bytes(page.request.get(f"/t/{code}/ticket.png").body())
    card = Image.open(png)
    [found] = zxingcpp.read_barcodes(card)
    assert found.text.endswith(f"/t/{code}")
    said = card.text["Description"]
    assert all(f"第{n}讲" in said for n in (1, 2, 3)) and "第4讲" not in said
    page.set_viewport_size({"width": 1080, "height": 1900})
    screenshot(page, "ticket-card-series")
