"""Places and tours that guide: a session's own address with a map link we build ourselves, a
tour's stations in order on the event page, the stamp card that fills as stations scan the
family's ticket, and the certificate once every station has."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from qmevents import links
from qmevents.extensions import db
from qmevents.models import Checkpoint, Event, EventSession, User
from qmevents.services import events
from qmevents.services.door import checkin
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow

from .conftest import on_the_day, submit
from .test_api import bearer, event_body, token_for

STATIONS = ["上海纺织博物馆", "苏州河工业文明展示馆", "英雄金笔厂"]


@pytest.fixture
def tour(app, factory) -> dict:
    """The Putuo family tour: three stations, the first the entrance; a family of three."""
    start = (utcnow() + timedelta(days=5)).replace(second=0, microsecond=0)
    event_id = factory.event(
        title="普陀区家庭探寻质量发展之旅", kind="family_tour", address="上海市普陀区澳门路150号",
        checkpoints=STATIONS,
        checkpoint_addresses=["上海市普陀区澳门路150号", "光复西路2690号", ""],
        checkpoint_hours=["09:00-16:00", "", "13:00-16:30"],
        sessions=[events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=3),
                                      capacity=30, label="上午场")])
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
        checkpoints = list(db.session.scalars(select(Checkpoint.id).filter_by(event_id=event_id)
                                              .order_by(Checkpoint.position)))
        code = reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="张伟", phone="13812345678",
            party_size=3, consent=True)).code
    return {"event_id": event_id, "session_id": session_id, "checkpoints": checkpoints,
            "code": code}


def scan_at(app, tour: dict, station: int, staff_id: int) -> checkin.Answer:
    with app.app_context(), on_the_day(app, tour["session_id"], minutes=10 + 20 * station):
        return checkin.redeem(tour["code"], event_id=tour["event_id"],
                              session_id=tour["session_id"],
                              checkpoint_id=None if station == 0 else tour["checkpoints"][station],
                              people=None, staff=db.session.get(User, staff_id))


# --- map links --------------------------------------------------------------------------------


def test_a_map_link_searches_the_address_or_pins_the_location():
    search = urlsplit(links.map_url("上海市普陀区澳门路150号"))
    assert (search.scheme, search.hostname, search.path) == ("https", "uri.amap.com", "/search")
    assert parse_qs(search.query)["keyword"] == ["上海市普陀区澳门路150号"]
    pin = urlsplit(links.map_url("", "31.2304,121.4737", "纺织博物馆"))
    assert pin.path == "/marker" and parse_qs(pin.query)["position"] == ["121.473700,31.230400"]
    assert links.map_url("") is None and links.map_url("  ", "") is None


@pytest.mark.parametrize("typed", [
    'javascript:alert(1)', '"><script>alert(1)</script>', "路1号&city=0&src=evil#x",
    "澳门路\n150号\r\nLocation: http://evil.example"])
def test_what_an_organiser_types_never_escapes_the_map_link(typed):
    url = links.map_url(typed)
    assert url.startswith("https://uri.amap.com/search?keyword=")
    keyword = url.split("keyword=")[1].split("&city=")[0]
    assert not re.search(r"[\"'<>&#\s:]", keyword)  # all of it percent-encoded
    assert parse_qs(urlsplit(url).query)["city"] == ["310000"]


@pytest.mark.parametrize("typed", ["121.47,31.23", "91,200", "31.2;121.4", "abc", "31.2,121.4,5",
                                   "1e3,121"])
def test_a_location_that_is_not_one_in_china_is_refused(typed):
    assert links.parse_location(typed) is None


def test_a_session_has_its_own_address_and_a_bad_location_is_a_message(app, factory):
    start = (utcnow() + timedelta(days=5)).replace(second=0, microsecond=0)
    with app.test_request_context("/?lang=en"):
        bad = events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=1),
                                  capacity=10, address="青浦区图书馆", location="200,10")
        draft = events.EventDraft(title="青浦质量大讲堂", kind="lecture", district="青浦区",
                                  venue="青浦区图书馆", sessions=[bad])
        errors = events.validate(draft)
        assert "latitude,longitude" in errors["sessions.0.location"]


@pytest.mark.parametrize("typed", [
    "澳门路150号\r\n回复TD退订",  # a second line in the text "地址改为…"
    "澳门路\t150号",
    "\u202e号051路门澳",  # a right-to-left override: reads backwards
    "澳门路\u200b150号",  # a zero-width space
])
def test_an_address_or_hours_on_more_than_one_line_is_refused_by_the_api(
        client, factory, typed):
    _user, email = factory.user("organiser")
    token = token_for(client, email)
    body = event_body()
    body["sessions"][0]["address"] = typed
    body["checkpoints"] = [{"name": "入口"}, {"name": "展厅", "hours": typed}]
    response = client.post("/api/v1/events", json=body, headers=bearer(token))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"sessions.0.address", "checkpoints"}
    body["sessions"][0]["address"] = "上海市普陀区澳门路150号（纺织博物馆北门）"
    body["checkpoints"][1]["hours"] = "周二至周日 09:00–16:30"
    assert client.post("/api/v1/events", json=body, headers=bearer(token)).status_code == 201


# --- the event page ---------------------------------------------------------------------------


def test_the_event_page_lists_the_stations_in_order_from_1(client, tour):
    page = client.get(f"/events/{tour['event_id']}").get_data(as_text=True)
    section = page.split('class="card event-stations"')[1].split("</section>")[0]
    assert re.findall(r'class="station-number" aria-hidden="true">(\d+)<', section) == \
        ["1", "2", "3"]
    names = re.findall(r"<strong>([^<]+)</strong>", section)
    assert names == STATIONS
    assert "光复西路2690号" in section and "开放时间 09:00-16:00" in section
    assert section.count('class="map-link"') == 2  # the third station has no address
    assert 'rel="noopener noreferrer"' in section


def test_an_event_with_one_entrance_lists_no_stations(client, factory):
    event_id = factory.event(title="威派格智慧水务质量开放日")
    assert "event-stations" not in client.get(f"/events/{event_id}").get_data(as_text=True)


def test_an_organiser_types_a_stations_address_and_hours_in_the_checkpoints_box(
        app, client, organiser, tour):
    url = f"/organiser/events/{tour['event_id']}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "苏州河工业文明展示馆 | 光复西路2690号" in page
    with app.app_context():
        event = db.session.get(Event, tour["event_id"])
        session = event.sessions[0]
        start = session.starts_at
    from qmevents.timeutil import to_local
    local = to_local(start)
    data = {
        "title": "普陀区家庭探寻质量发展之旅", "kind": "family_tour", "district": "普陀区",
        "venue": "上海纺织博物馆", "address": "上海市普陀区澳门路150号", "host": "",
        "description": "", "max_party_size": "5", "registration_mode": "fcfs",
        "sessions-0-id": str(session.id), "sessions-0-label": "上午场",
        "sessions-0-starts_at": local.strftime("%Y-%m-%dT%H:%M"),
        "sessions-0-ends_at": (local + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "sessions-0-capacity": "30", "sessions-0-address": "上海市普陀区光复西路2690号",
        "sessions-0-location": "31.2478，121.4189",
        "checkpoints": "上海纺织博物馆 | 澳门路150号 | 09:00-16:00\n南门 | 出口\n"
                       "英雄金笔厂 | 13:00–16:30 | 金沙江路1号",
        "tallies": "", "admission_opens_minutes": "60", "verify_phone": "y",
        "tell_confirmed": "1",
    }
    response = submit(client, url, data)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    with app.app_context():
        event = db.session.get(Event, tour["event_id"])
        rows = [(c.name, c.direction.value, c.address, c.hours) for c in event.checkpoints]
        assert rows == [("上海纺织博物馆", "in", "澳门路150号", "09:00-16:00"),
                        ("南门", "out", "", ""),
                        ("英雄金笔厂", "in", "金沙江路1号", "13:00–16:30")]
        assert event.sessions[0].address == "上海市普陀区光复西路2690号"
        assert event.sessions[0].location == "31.247800,121.418900"
    page = client.get(f"/events/{tour['event_id']}").get_data(as_text=True)
    section = page.split('class="card event-stations"')[1].split("</section>")[0]
    assert re.findall(r"<strong>([^<]+)</strong>", section) == ["上海纺织博物馆", "英雄金笔厂"]
    assert "position=121.418900,31.247800" in page  # the session's pin


def test_the_printed_ticket_and_the_calendar_entry_name_the_sessions_own_place(
        app, client, factory, tmp_path):
    start = (utcnow() + timedelta(days=5)).replace(second=0, microsecond=0)
    event_id = factory.event(
        title="青浦“质量故事巡讲”系列讲座", kind="lecture", district="青浦区",
        venue="青浦区各街镇巡讲点", address="上海市青浦区（各场地点见场次说明）",
        sessions=[events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=1),
                                      capacity=60, label="第2场·朱家角镇",
                                      address="上海市青浦区朱家角镇祥凝浜路1号",
                                      location="31.1100,121.0500")])
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
        code = reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="王芳", phone="13812340000",
            party_size=2, consent=True)).code
    ics = client.get(f"/t/{code}/calendar.ics").get_data(as_text=True).replace("\r\n ", "")
    assert "LOCATION:青浦区各街镇巡讲点，上海市青浦区朱家角镇祥凝浜路1号" in ics
    assert "GEO:31.11;121.05" in ics
    pdf = client.get(f"/t/{code}/ticket.pdf")
    assert pdf.status_code == 200
    if shutil.which("pdftotext"):
        path = tmp_path / "ticket.pdf"
        path.write_bytes(pdf.data)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "朱家角镇祥凝浜路1号" in "".join(text.split())
        assert "各场地点见场次说明" not in text


# --- the stamp card and the certificate ---------------------------------------------------------


def test_the_stamp_card_fills_as_stations_scan_and_then_the_certificate_opens(
        app, client, organiser, tour, tmp_path):
    code = tour["code"]
    page = client.get(f"/t/{code}").get_data(as_text=True)
    assert "已集 0/3 站" in page and "is-stamped" not in page
    assert client.get(f"/t/{code}/certificate.png").status_code == 404

    assert scan_at(app, tour, 0, organiser).result == checkin.Result.ADMITTED
    assert scan_at(app, tour, 1, organiser).result == checkin.Result.ADMITTED  # a visit
    page = client.get(f"/t/{code}").get_data(as_text=True)
    assert "已集 2/3 站" in page and page.count('class="stamp is-stamped"') == 2
    assert client.get(f"/t/{code}/certificate.pdf").status_code == 404

    scan_at(app, tour, 2, organiser)
    page = client.get(f"/t/{code}").get_data(as_text=True)
    assert "已集 3/3 站" in page and "全部站点已完成" in page
    picture = client.get(f"/t/{code}/certificate.png")
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert "private" in picture.headers["Cache-Control"]
    assert Image.open(io.BytesIO(picture.data)).size == (1600, 1130)
    pdf = client.get(f"/t/{code}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    if shutil.which("pdftotext"):
        path = tmp_path / "certificate.pdf"
        path.write_bytes(pdf.data)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "张伟" in text and "普陀区家庭探寻质量发展之旅" in text and "完成证书" in text
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                               check=True).stdout
        assert re.search(r"WenQuanYi\S*.*\byes\s+yes\b", fonts), fonts  # embedded, as a subset


def test_another_tickets_scans_do_not_stamp_this_card(app, client, organiser, tour):
    with app.app_context():
        other = reg.register(reg.RegistrationRequest(
            event_id=tour["event_id"], session_id=tour["session_id"], name="李娜",
            phone="13900001111", party_size=2, consent=True)).code
    scan_at(app, {**tour, "code": other}, 0, organiser)
    assert "已集 0/3 站" in client.get(f"/t/{tour['code']}").get_data(as_text=True)


def test_a_wrong_code_has_no_certificate(client, tour):
    assert client.get(f"/t/{tour['code'][:-1]}/certificate.png").status_code == 404
    assert client.get(f"/t/{tour['code']}/certificate.gif").status_code == 404
