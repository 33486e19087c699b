"""What a citizen carries to the door: the ticket's QR code (PNG and inline SVG), a printable
one-page PDF ticket, and a calendar entry.

The QR holds only the ticket's URL (`/t/<code>`), so any camera app, WeChat's scanner included,
opens the ticket page. The caller passes that URL in: nothing here knows about HTTP. A ticket's
QR never changes, so each is encoded and drawn once per worker and served from memory after.
"""
from __future__ import annotations

import functools
import io
import logging
import re
from datetime import timedelta

import icalendar
import qrcode
from flask_babel import gettext as _
from flask_babel import ngettext
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from .. import labels, links
from ..filters import localtime
from ..models import Registration, RegistrationStatus
from ..timeutil import utcnow
from .fonts import cjk_font
from .identity import mask_mobile

log = logging.getLogger(__name__)

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks
PNG_BOX = 10  # pixels per module: ~370 px, sharp on a phone screen and on paper
CACHE_SIZE = 4096  # tickets per worker; a PNG is ~1 KB, an SVG ~5 KB

# TrueType CJK fonts reportlab can embed (as a subset), first found wins. Debian: fonts-wqy-*.
TICKET_TITLE = "质量月活动入场券 / Quality Month ticket"
ENTRANCE_NOTE = "请在入口处出示此二维码 / Show this QR code at the entrance"

# How a calendar shows the entry: a held place is confirmed, an ended one cancelled.
_ICS_STATUS = {
    RegistrationStatus.CONFIRMED: "CONFIRMED",
    RegistrationStatus.OFFERED: "CONFIRMED",
    RegistrationStatus.WAITLISTED: "TENTATIVE",
    RegistrationStatus.APPLIED: "TENTATIVE",
}


# --- the QR code ----------------------------------------------------------------------------

Matrix = tuple[tuple[bool, ...], ...]


@functools.lru_cache(maxsize=256)
def qr_matrix(url: str) -> Matrix:
    """The modules of the URL's QR, quiet zone included. Level M: room for a thumb over the
    screen or a crease in the paper, while modules stay large enough for cheap cameras."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def _runs(matrix: Matrix) -> list[tuple[int, int, int]]:
    """(x, y, length) of each horizontal run of dark modules: few shapes, small files."""
    runs = []
    for y, row in enumerate(matrix):
        x, n = 0, len(row)
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                runs.append((start, y, x - start))
            else:
                x += 1
    return runs


@functools.lru_cache(maxsize=CACHE_SIZE)
def qr_png(url: str) -> bytes:
    """A 1-bit PNG of the URL's QR, for download and for pages that cannot inline SVG."""
    matrix = qr_matrix(url)
    n = len(matrix)
    image = Image.new("1", (n, n), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    image = image.resize((n * PNG_BOX, n * PNG_BOX), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@functools.lru_cache(maxsize=CACHE_SIZE)
def qr_svg(url: str) -> str:
    """The QR as inline SVG: black on white with its quiet zone, sized by CSS through viewBox.

    Built from the URL's modules only, never from user text, so a template may mark it safe."""
    matrix = qr_matrix(url)
    n = len(matrix)
    path = "".join(f"M{x} {y}h{w}v1h-{w}z" for x, y, w in _runs(matrix))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" '
        f'shape-rendering="crispEdges">'
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>'
    )


# --- the printable ticket -------------------------------------------------------------------


_TOKENS = re.compile(r"[A-Za-z0-9@.,:;!?'’\-/_]+\s*|\S\s*|\s+")


def _wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Lines that fit `width`: Chinese breaks between any two characters, Latin between words.
    Too long a text ends its last line with an ellipsis."""
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(" ".join(text.split())):
        if pdfmetrics.stringWidth(line + token.rstrip(), font, size) <= width or not line:
            line += token
            continue
        lines.append(line.rstrip())
        line = token.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and pdfmetrics.stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        lines = lines[: max_lines - 1] + [last + "…"]
    return lines


def group_code(code: str) -> str:
    """ABCD EFGH JKMN PQRS TVWX: a code a person can read out and type at the door."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def session_time(registration: Registration) -> str:
    session = registration.session
    start = localtime(session.starts_at, "full")
    same_day = localtime(session.starts_at, "date") == localtime(session.ends_at, "date")
    end = localtime(session.ends_at, "time" if same_day else "full")
    return f"{start}–{end}"


def place_of(registration: Registration) -> str:
    """Where the party goes: its session's own address, else the event's ("" when neither)."""
    return registration.session.address or registration.event.address or ""


def _details(registration: Registration) -> list[tuple[str, str]]:
    event, session = registration.event, registration.session
    rows = []
    if session.label:
        rows.append((_("Session"), session.label))
    rows += [
        (_("Time"), session_time(registration)),
        (_("Venue"), event.venue),
    ]
    address = place_of(registration)
    if address:
        rows.append((_("Address"), address))
    rows += [
        (_("Party size"), ngettext("%(num)d person", "%(num)d people", registration.party_size)),
        (_("Status"), str(labels.REGISTRATION_STATUS[registration.status])),
        (_("Ticket holder"), f"{registration.name}  {mask_mobile(registration.phone)}".strip()),
    ]
    return rows


_GREY = Color(0.25, 0.25, 0.25)


def _centred(canvas: Canvas, lines: list[str], font: str, size: float, y: float,
             leading: float, bold: bool = False) -> float:
    """Draw lines centred on the page from baseline y down; the baseline after the last."""
    x = A4[0] / 2
    canvas.saveState()  # the render mode below outlives the text object: restore it after
    for line in lines:
        text = canvas.beginText()
        text.setFont(font, size)
        if bold:  # the CJK font has no bold face: stroke the glyphs' outline too
            text.setTextRenderMode(2)
            canvas.setLineWidth(size / 30)
        text.setTextOrigin(x - pdfmetrics.stringWidth(line, font, size) / 2, y)
        text.textLine(line)
        canvas.drawText(text)
        y -= leading
    canvas.restoreState()
    return y


def _draw_qr(canvas: Canvas, url: str, left: float, top: float, size: float) -> None:
    """The QR as vector squares, quiet zone included: sharp on any printer, a few KB."""
    matrix = qr_matrix(url)
    module = size / len(matrix)
    path = canvas.beginPath()
    for x, y, w in _runs(matrix):
        # A hair taller than a module, so rows touch without a seam when rasterised.
        path.rect(left + x * module, top - (y + 1) * module - 0.05, w * module, module + 0.1)
    canvas.setFillColor(black)
    canvas.drawPath(path, stroke=0, fill=1)


_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN, _PAD = 36, 28
_LEFT, _RIGHT = _MARGIN + _PAD, _PAGE_WIDTH - _MARGIN - _PAD
_CONTENT = _RIGHT - _LEFT
_LABEL_WIDTH = 110
_VALUE_SIZE, _VALUE_LEADING, _ROW_GAP = 14, 20, 7
_QR_LARGEST, _QR_SMALLEST = 300.0, 200.0  # points: 106 mm down to 71 mm
_FOOTER_TOP = _MARGIN + _PAD + 14


def ticket_pdf(registration: Registration, url: str) -> bytes:
    """A one-page A4 ticket to print: the QR large in the middle, what and where around it.
    The QR gives up size (never below 71 mm) when a long title or address needs the room."""
    font = cjk_font()
    event = registration.event
    host = event.host or event.organisation.name
    rows = [(label, _wrap(value, font, _VALUE_SIZE, _CONTENT - _LABEL_WIDTH, 2))
            for label, value in _details(registration)]

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{event.title} — {TICKET_TITLE}")
    canvas.setAuthor(host)
    _draw_frame(canvas)
    y = _draw_header(canvas, font, event.title, host)

    details_height = sum(len(lines) * _VALUE_LEADING + _ROW_GAP for _label, lines in rows)
    below_qr = 8 + 26 + 14 + 28  # code, note, rule, first row
    room = y - below_qr - details_height - _FOOTER_TOP
    qr_size = max(_QR_SMALLEST, min(_QR_LARGEST, room))
    _draw_qr(canvas, url, (_PAGE_WIDTH - qr_size) / 2, y, qr_size)
    y -= qr_size + 8
    y = _centred(canvas, [group_code(registration.code)], "Courier-Bold", 22, y, 26)
    y = _centred(canvas, [ENTRANCE_NOTE], font, 12, y, 14)
    canvas.setLineWidth(0.8)
    canvas.line(_LEFT, y, _RIGHT, y)
    _draw_details(canvas, font, rows, y - 28)

    canvas.setFillColor(_GREY)
    _centred(canvas, [url], "Helvetica", 9, _MARGIN + _PAD - 6, 12)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw_frame(canvas: Canvas) -> None:
    """A dashed rounded border: a cut line for those who trim the ticket out."""
    canvas.setStrokeColor(black)
    canvas.setLineWidth(1.2)
    canvas.setDash(6, 4)
    canvas.roundRect(_MARGIN, _MARGIN, _PAGE_WIDTH - 2 * _MARGIN, _PAGE_HEIGHT - 2 * _MARGIN,
                     14, fill=0)
    canvas.setDash()


def _draw_header(canvas: Canvas, font: str, title: str, host: str) -> float:
    """The ticket's name, the event's title and its host; the top of the QR below them."""
    canvas.setFillColor(black)
    y = _centred(canvas, [TICKET_TITLE], font, 18, _PAGE_HEIGHT - _MARGIN - _PAD - 18, 14,
                 bold=True)
    canvas.setLineWidth(0.8)
    canvas.line(_LEFT, y, _RIGHT, y)
    y = _centred(canvas, _wrap(title, font, 22, _CONTENT, 3), font, 22, y - 32, 29, bold=True)
    canvas.setFillColor(_GREY)
    y = _centred(canvas, _wrap(_("Host: %(host)s", host=host), font, 12, _CONTENT, 2), font, 12,
                 y + 6, 16)
    canvas.setFillColor(black)
    return y


def _draw_details(canvas: Canvas, font: str, rows: list[tuple[str, list[str]]],
                  y: float) -> None:
    for label, lines in rows:
        canvas.setFillColor(_GREY)
        canvas.setFont(font, 12)
        canvas.drawString(_LEFT, y, label)
        canvas.setFillColor(black)
        canvas.setFont(font, _VALUE_SIZE)
        for line in lines:
            canvas.drawString(_LEFT + _LABEL_WIDTH, y, line)
            y -= _VALUE_LEADING
        y -= _ROW_GAP


# --- the calendar entry ---------------------------------------------------------------------


def ticket_ics(registration: Registration, url: str) -> bytes:
    """One event for the phone's calendar, with a reminder two hours before. The UID is the
    ticket's, so importing again after a change updates the entry instead of adding one."""
    event, session = registration.event, registration.session
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//qmevents//Quality Month tickets//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")

    entry = icalendar.Event()
    entry.add("uid", f"{registration.code}@qmevents")
    entry.add("dtstamp", utcnow())
    entry.add("dtstart", session.starts_at)
    entry.add("dtend", session.ends_at)
    entry.add("summary", event.title)
    entry.add("location", "，".join(part for part in (event.venue, place_of(registration))
                                   if part))
    point = links.parse_location(session.location)
    if point is not None:  # the session's pin: the phone's calendar offers the way there
        entry.add("geo", point)
    party = ngettext("%(num)d person", "%(num)d people", registration.party_size)
    entry.add("description", "\n".join([
        _("Party size: %(party)s", party=party),
        _("Ticket: %(url)s", url=url),
        ENTRANCE_NOTE,
    ]))
    entry.add("url", url)
    entry.add("status", _ICS_STATUS.get(registration.status, "CANCELLED"))

    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", event.title)
    alarm.add("trigger", timedelta(hours=-2))
    entry.add_component(alarm)
    calendar.add_component(entry)
    return calendar.to_ical()


def ticket_filename(registration: Registration, ext: str) -> str:
    """qmevents-ticket-<code>.pdf: ASCII only, so every browser and WeChat keeps it intact."""
    code = re.sub(r"[^A-Za-z0-9]", "", registration.code)
    ext = re.sub(r"[^a-z0-9]", "", ext.lower()) or "bin"
    return f"qmevents-ticket-{code}.{ext}"
