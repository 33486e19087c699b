"""Tickets that survive WeChat: the QR is an image (long press works on <img> only), the whole
ticket is one PNG card a phone keeps and forwards, and inside WeChat the page says how to open
what WeChat will not download. The card is read back as a phone would: its QR decoded."""
from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select, update

from qmevents.extensions import db
from qmevents.models import EventSession, Registration, RegistrationStatus
from qmevents.services.registrations import cancellation
from qmevents.services.registrations import register as reg

from .test_ticket_pages import PHONE, TITLE, register

WECHAT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI "
          "Language/zh_CN")


@pytest.fixture
def ticket(app, factory) -> str:
    return register(app, factory)[0]


def card(client, code: str) -> Image.Image:
    response = client.get(f"/t/{code}/ticket.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "private" in response.headers["Cache-Control"]
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert response.headers["Content-Disposition"].startswith("inline;")
    return Image.open(io.BytesIO(response.data))


def test_the_card_holds_the_tickets_qr_and_says_what_where_when(client, ticket):
    image = card(client, ticket)
    assert image.width == 1080 and image.height > 1400
    [found] = zxingcpp.read_barcodes(image)
    assert found.text == f"http://localhost/t/{ticket}"
    said = image.text["Description"]
    grouped = " ".join(ticket[i:i + 4] for i in range(0, 20, 4))
    for line in (TITLE, "威派格智慧水务", "上海市嘉定区恒定路1号", "3人", grouped,
                 "请在入口处出示此二维码"):
        assert line in said
    # A picture that gets forwarded names its holder masked, as the ticket page does (PIPL):
    # neither the whole name nor the whole phone number.
    assert "持票人：张* 138****5678" in said
    assert "张伟" not in said and PHONE not in said


def test_the_card_draws_its_words_in_ink_above_the_qr(client, ticket):
    """The text is drawn, not blank boxes: dark pixels under the title band, in every line."""
    image = card(client, ticket).convert("L")
    [found] = zxingcpp.read_barcodes(image)
    qr_top = found.position.top_left.y
    band = image.crop((0, 0, image.width, 120))
    assert band.getextrema()[0] < 100  # the red band is dark enough for white text
    text = image.crop((64, 140, image.width - 64, qr_top - 40))
    rows_with_ink = sum(1 for y in range(text.height)
                        if text.crop((0, y, text.width, y + 1)).getextrema()[0] < 80)
    assert rows_with_ink > 150  # a title and four facts, ~40 px high each


def test_a_long_title_is_wrapped_and_the_card_still_reads(app, factory, client):
    long_title = "上海市" + "质量月企业开放日暨家庭质量探寻之旅" * 6
    event_id = factory.event(title=long_title, venue="威派格智慧水务")
    with app.test_request_context("/"):
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
        code = reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="张伟", phone=PHONE, party_size=2,
            consent=True)).code
    image = card(client, code)
    [found] = zxingcpp.read_barcodes(image)
    assert found.text.endswith(code)
    assert image.text["Description"].count("…") == 1  # three lines, the last one cut


def test_the_english_card_speaks_english(client, ticket):
    client.set_cookie("lang", "en")
    said = card(client, ticket).text["Description"]
    assert "Show this QR code at the entrance" in said and "3 people" in said


def test_a_series_pass_card_lists_each_session_and_where_each_meets(app, factory, client):
    """One ticket for three talks in three towns: the picture a family keeps says all three."""
    from datetime import timedelta

    from qmevents.services import events
    from qmevents.services.registrations import series
    from qmevents.timeutil import utcnow

    start = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    towns = ["青浦区朱家角镇课植园", "青浦区金泽镇文化中心", "青浦区练塘镇陈云纪念馆"]
    event_id = factory.event(
        title="青浦区质量大讲堂", kind="lecture", series_pass=True, max_party_size=2,
        sessions=[events.SessionDraft(starts_at=start + timedelta(days=7 * i),
                                      ends_at=start + timedelta(days=7 * i, hours=2),
                                      capacity=30, label=f"第{i + 1}讲", address=town)
                  for i, town in enumerate(towns)])
    with app.test_request_context("/"):
        ids = list(db.session.scalars(select(EventSession.id).filter_by(event_id=event_id)
                                      .order_by(EventSession.starts_at)))
        code = series.register_series(reg.RegistrationRequest(
            event_id=event_id, session_id=None, name="张伟", phone=PHONE, party_size=2,
            consent=True), [str(i) for i in ids]).code
    image = card(client, code)
    [found] = zxingcpp.read_barcodes(image)
    assert found.text == f"http://localhost/t/{code}"
    said = image.text["Description"]
    assert said.index("第1讲") < said.index("第2讲") < said.index("第3讲")
    assert all(town in said for town in towns)
    assert "每场出示同一个二维码即可" in said and "请在入口处出示此二维码" not in said

    # Given up after the first talk, the card names the one talk still on it, as any ticket.
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.pass_id.is_not(None))
                           .values(status=RegistrationStatus.CANCELLED))
        db.session.commit()
    said = card(client, code).text["Description"]
    assert "第1讲" in said and "第2讲" not in said and towns[1] not in said
    assert "请在入口处出示此二维码" in said


def test_a_card_registered_by_phone_says_the_door_code(app, client, ticket):
    """代报名: the family member who opens the texted link keeps the door code with the QR."""
    from qmevents.services.registrations.short_codes import check_letter

    short = "482913" + check_letter("482913")
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.code == ticket)
                           .values(short_code=short))
        db.session.commit()
    assert f"入场口令：482 913 {short[-1]}" in card(client, ticket).text["Description"]


def test_a_ticket_without_a_place_has_no_card(app, client, ticket):
    with app.app_context():
        cancellation.cancel(ticket)
    response = client.get(f"/t/{ticket}/ticket.png")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_a_wrong_code_has_no_card(client, ticket):
    assert client.get(f"/t/{ticket[:-1]}/ticket.png").status_code == 404


def test_the_ticket_page_shows_the_qr_as_an_image_and_offers_the_card_first(client, ticket):
    page = client.get(f"/t/{ticket}").get_data(as_text=True)
    assert f'<img class="qr" src="/t/{ticket}/qr.png"' in page
    assert "<svg" not in page.split('class="ticket-qr"')[1].split("</figure>")[0]
    actions = page.split('class="ticket-actions"')[1]
    assert actions.index(f"/t/{ticket}/ticket.png") < actions.index(f"/t/{ticket}/ticket.pdf")
    assert "在浏览器中打开" not in page  # not in WeChat: no need to say it


def test_inside_wechat_the_page_says_how_to_open_pdf_and_calendar(client, ticket):
    page = client.get(f"/t/{ticket}", headers={"User-Agent": WECHAT}).get_data(as_text=True)
    assert "在浏览器中打开" in page and "长按" in page


def test_the_calendar_entry_says_its_charset_once(client, ticket):
    response = client.get(f"/t/{ticket}/calendar.ics")
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"


def test_an_ended_ticket_does_not_say_it_can_be_cancelled(app, client, ticket):
    assert "可以查看或取消" in client.get(f"/t/{ticket}").get_data(as_text=True)
    with app.app_context():
        cancellation.cancel(ticket)
    page = client.get(f"/t/{ticket}").get_data(as_text=True)
    keep = page.split('class="ticket-keep')[1].split("</p>")[0]
    assert "取消" not in keep and "已结束" in keep


def test_a_ticket_whose_party_came_in_no_longer_offers_or_says_cancelling(app, factory, client):
    """The door let the family in: cancelling is refused now (cancellation.py), so the page
    neither offers it nor says the link can cancel it."""
    from qmevents.models import User
    from qmevents.services.door import checkin

    from .conftest import on_the_day

    code, session_id = register(app, factory)
    client.set_cookie("lang", "en")
    page = client.get(f"/t/{code}").get_data(as_text=True)
    assert f"/t/{code}/cancel" in page and "can see and cancel it" in page
    staff_id, _email = factory.user("organiser")
    with app.app_context(), on_the_day(app, session_id):
        registration = db.session.scalar(select(Registration).filter_by(code=code))
        answer = checkin.redeem(code, event_id=registration.event_id, session_id=session_id,
                                checkpoint_id=None, people=None,
                                staff=db.session.get(User, staff_id))
        assert answer.result == checkin.Result.ADMITTED and answer.admitted_people == 3
    page = client.get(f"/t/{code}").get_data(as_text=True)
    keep = page.split('class="ticket-keep')[1].split("</p>")[0]
    assert "cancel" not in keep.lower() and "Anyone with the link can see it" in keep
    assert f"/t/{code}/cancel" not in page
    assert f'<img class="qr" src="/t/{code}/qr.png"' in page  # still a ticket to show


def test_a_waiting_ticket_shows_no_qr_image(app, client, ticket):
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.code == ticket)
                           .values(status=RegistrationStatus.WAITLISTED))
        db.session.commit()
    page = client.get(f"/t/{ticket}").get_data(as_text=True)
    assert 'class="qr"' not in page and "/ticket.png" not in page


# --- a shared link's card, the favicon --------------------------------------------------------


def meta(page: str, key: str) -> str | None:
    import re
    found = re.search(rf'<meta (?:property|name|itemprop)="{key}" content="([^"]*)"', page)
    return found.group(1) if found else None


def test_a_shared_event_link_shows_title_when_where_and_our_picture(app, factory, client):
    event_id = factory.event(title=TITLE, venue="威派格智慧水务",
                             description="走进智慧水务工厂，看一滴水如何安全到家。" * 5)
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert meta(page, "og:title") == TITLE == meta(page, "name")
    description = meta(page, "og:description")
    assert "威派格智慧水务" in description and "月" in description and "走进智慧水务工厂" in description
    assert description.endswith("…") and len(description) < 140
    assert meta(page, "og:url") == f"http://localhost/events/{event_id}"
    image = meta(page, "og:image")  # its name carries its hash (qmevents/staticfiles.py)
    assert re.fullmatch(r"http://localhost/static/img/share\.[0-9a-f]{10}\.png", image)
    assert client.get(image).status_code == 200
    assert client.get("/static/img/share.png").status_code == 200


def test_a_forged_host_never_reaches_a_share_card(app, factory, client):
    event_id = factory.event(title=TITLE)
    response = client.get(f"/events/{event_id}", headers={"Host": "evil.example"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "evil.example" not in page
    assert meta(page, "og:url") is None and meta(page, "og:title") == TITLE


def test_the_public_url_names_the_shared_link_whatever_the_host(app, factory, client):
    app.config["PUBLIC_URL"] = "https://qm.example.gov.cn/"
    event_id = factory.event(title=TITLE)
    page = client.get(f"/events/{event_id}", headers={"Host": "evil.example"}).get_data(
        as_text=True)
    assert meta(page, "og:url") == f"https://qm.example.gov.cn/events/{event_id}"


def test_the_event_list_has_a_share_card_and_every_page_our_icons(client):
    page = client.get("/").get_data(as_text=True)
    assert meta(page, "og:title") and meta(page, "og:description")
    touch = re.search(r'rel="apple-touch-icon" href="(/static/img/apple-touch-icon\.[0-9a-f]{10}'
                      r'\.png)"', page)
    assert touch and client.get(touch.group(1)).status_code == 200
    assert 'href="/favicon.ico"' in page
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert Image.open(io.BytesIO(icon.data)).format == "ICO"
    assert client.get("/static/img/apple-touch-icon.png").status_code == 200
    # Every icon the page names is served, a PNG of the size it says.
    for size, href in re.findall(r'<link rel="icon" type="image/png" sizes="(\d+)x\d+" '
                                 r'href="([^"]+)"', page):
        served = Image.open(io.BytesIO(client.get(href).data))
        assert served.format == "PNG" and served.size == (int(size), int(size))
    assert 'sizes="192x192"' in page and 'sizes="512x512"' in page


def test_a_ticket_page_has_no_share_card(client, ticket):
    page = client.get(f"/t/{ticket}").get_data(as_text=True)
    assert meta(page, "og:title") is None and meta(page, "og:description") is None
