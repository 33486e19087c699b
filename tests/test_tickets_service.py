"""A citizen's ticket: its QR code, the printable PDF and the calendar entry, through the service
the ticket page calls."""
from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
from datetime import UTC
from pathlib import Path

import icalendar
import pytest
import qrcode
from PIL import Image, ImageChops
from qrcode.constants import ERROR_CORRECT_M

from qmevents.extensions import db
from qmevents.models import EventSession
from qmevents.services import fonts, tickets
from qmevents.services.registrations import cancellation, codes
from qmevents.services.registrations import register as reg

URL = "https://qm.example.cn/t/"
POPPLER = all(shutil.which(tool) for tool in ("pdftotext", "pdffonts", "pdfinfo"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed")


@pytest.fixture
def ticket(app, factory):
    """张伟's confirmed ticket for two at the Yangpu open day, read inside an English request."""
    event_id = factory.event(title="威派格智慧水务质量开放日", host="上海威派格智慧水务股份有限公司")
    with app.test_request_context("/?lang=en"):
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))
        code = reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="张伟", phone="13812345678",
            party_size=2, consent=True)).code
        yield codes.ticket(code)


def pdf_tool(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "ticket.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool, *args, str(path), "-"] if tool == "pdftotext"
                          else [tool, *args, str(path)],
                          capture_output=True, text=True, check=True).stdout


def test_the_qr_png_is_a_sharp_black_and_white_image_big_enough_to_scan(ticket):
    image = Image.open(io.BytesIO(tickets.qr_png(URL + ticket.code)))
    assert image.format == "PNG"
    assert image.mode == "1"  # 1-bit: a ticket QR is a few hundred bytes
    assert image.width == image.height >= 29 * tickets.PNG_BOX  # version 3 with quiet zone
    assert image.getpixel((0, 0)) == 255  # the quiet zone is white


def test_the_qr_png_holds_the_ticket_url(ticket):
    """No QR decoder is installed, so compare with qrcode's own drawing of the URL."""
    url = URL + ticket.code
    reference = qrcode.make(url, error_correction=ERROR_CORRECT_M, box_size=tickets.PNG_BOX,
                            border=tickets.QUIET_ZONE).get_image()
    image = Image.open(io.BytesIO(tickets.qr_png(url)))
    assert image.size == reference.size
    assert ImageChops.difference(image.convert("L"), reference.convert("L")).getbbox() is None


def test_the_same_tickets_qr_is_drawn_once(ticket):
    url = URL + ticket.code
    first = tickets.qr_png(url)
    hits = tickets.qr_png.cache_info().hits
    assert tickets.qr_png(url) is first
    assert tickets.qr_png.cache_info().hits == hits + 1
    assert tickets.qr_svg(url) is tickets.qr_svg(url)


def test_the_qr_svg_scales_with_css_and_keeps_its_quiet_zone(ticket):
    svg = tickets.qr_svg(URL + ticket.code)
    assert svg.startswith("<svg")
    assert 'viewBox="0 0 ' in svg
    assert "width=" not in svg.split(">", 1)[0]  # the page's CSS decides its size
    assert 'fill="#000"' in svg and 'fill="#fff"' in svg
    assert 'd="M4 4h7' in svg  # finder pattern starts after 4 white modules


def test_different_tickets_have_different_qr_codes(ticket):
    assert tickets.qr_svg(URL + ticket.code) != tickets.qr_svg(URL + "0" * codes.CODE_LENGTH)


@needs_poppler
def test_the_pdf_ticket_shows_the_event_in_chinese_and_the_phone_masked(ticket, tmp_path):
    text = pdf_tool("pdftotext", tickets.ticket_pdf(ticket, URL + ticket.code), tmp_path)
    assert "威派格智慧水务质量开放日" in text
    assert "质量月活动入场券" in text
    assert "张伟" in text
    assert "138****5678" in text
    assert "13812345678" not in text
    assert tickets.group_code(ticket.code) in text
    assert "Show this QR code at the entrance" in text


@needs_poppler
def test_the_pdf_ticket_is_one_small_page(ticket, tmp_path):
    pdf = tickets.ticket_pdf(ticket, URL + ticket.code)
    assert re.search(r"^Pages:\s+1$", pdf_tool("pdfinfo", pdf, tmp_path), re.M)
    assert len(pdf) < 100_000


@needs_poppler
@pytest.mark.skipif(not any(Path(p).is_file() for _n, p in fonts.FONT_PATHS),
                    reason="no WenQuanYi TrueType font installed (Debian: fonts-wqy-microhei)")
def test_the_pdf_embeds_its_chinese_font_so_any_reader_prints_it(ticket, tmp_path):
    fonts = pdf_tool("pdffonts", tickets.ticket_pdf(ticket, URL + ticket.code), tmp_path)
    wqy = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert wqy and all(" yes " in line for line in wqy)  # emb yes, subset yes


@needs_poppler
def test_without_a_chinese_truetype_font_the_pdf_still_renders_and_says_why(
    ticket, tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(fonts, "FONT_PATHS", (("Missing", str(tmp_path / "none.ttc")),))
    fonts.cjk_font.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger=fonts.__name__):
            pdf = tickets.ticket_pdf(ticket, URL + ticket.code)
            tickets.ticket_pdf(ticket, URL + ticket.code)
    finally:
        fonts.cjk_font.cache_clear()
    # Poppler here lacks the Adobe-GB1 language pack to draw it; readers on phones have it.
    assert b"/BaseFont /STSong-Light" in pdf
    assert re.search(r"^Pages:\s+1$", pdf_tool("pdfinfo", pdf, tmp_path), re.M)
    assert len([r for r in caplog.records if fonts.FALLBACK_FONT in r.getMessage()]) == 1


def test_the_calendar_entry_imports_with_the_sessions_time_and_the_ticket_url(ticket):
    calendar = icalendar.Calendar.from_ical(tickets.ticket_ics(ticket, URL + ticket.code))
    assert calendar["METHOD"] == "PUBLISH" and calendar["PRODID"]
    (entry,) = calendar.walk("VEVENT")
    assert entry.decoded("dtstart").astimezone(UTC) == ticket.session.starts_at
    assert entry.decoded("dtend").astimezone(UTC) == ticket.session.ends_at
    assert str(entry["SUMMARY"]) == "威派格智慧水务质量开放日"
    assert str(entry["UID"]) == f"{ticket.code}@qmevents"
    assert str(entry["URL"]) == URL + ticket.code
    assert URL + ticket.code in str(entry["DESCRIPTION"])
    assert "威派格智慧水务" in str(entry["LOCATION"])
    assert "13812345678" not in str(entry.to_ical().decode())


def test_the_calendar_reminds_two_hours_before(ticket):
    calendar = icalendar.Calendar.from_ical(tickets.ticket_ics(ticket, URL + ticket.code))
    (alarm,) = calendar.walk("VALARM")
    assert alarm.decoded("trigger").total_seconds() == -2 * 3600


def test_a_cancelled_ticket_shows_as_cancelled_in_the_calendar(ticket):
    cancelled = cancellation.cancel(ticket.code)
    calendar = icalendar.Calendar.from_ical(tickets.ticket_ics(cancelled, URL + ticket.code))
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


def test_download_names_are_plain_ascii(ticket):
    assert tickets.ticket_filename(ticket, "pdf") == f"qmevents-ticket-{ticket.code}.pdf"
    assert tickets.ticket_filename(ticket, ".ICS\r\n") == f"qmevents-ticket-{ticket.code}.ics"
