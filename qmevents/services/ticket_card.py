"""The ticket as one picture (保存电子票图片): what a citizen keeps in the phone's photos and
forwards to the family in WeChat, where PDF and calendar downloads are often blocked.

One PNG, 1080 px wide: the event's title, the session's day and time (a series pass: each of its
sessions, and each one's address where they differ), the venue and its address, the party size,
the holder masked as the ticket page shows it (张*, 138****5678: a forwarded picture carries no
more of the holder's personal data, PIPL), the door code of a ticket registered by phone, the QR
(the ticket's URL) and the code spelled out to read aloud. Drawn with the same embedded Chinese
font as the PDF, large and dark enough to survive WeChat's recompression and a black-and-white
printer.

The lines drawn are also kept in the PNG's text chunk "Description" (what a screen reader or a
photo app shows for the picture), so a test can read what the picture says.
"""
from __future__ import annotations

import functools
import io
import logging
import re

from flask_babel import gettext as _
from flask_babel import ngettext
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from ..models import Registration, RegistrationStatus
from .fonts import font_path
from .identity import mask_mobile, mask_name
from .registrations import series, short_codes
from .tickets import group_code, qr_matrix, session_time

log = logging.getLogger(__name__)

WIDTH = 1080
MARGIN = 64
CONTENT = WIDTH - 2 * MARGIN
BRAND = (179, 0, 27)  # 质量月 red, as the site's header
INK, GREY, PAPER = (17, 17, 17), (68, 68, 68), (255, 255, 255)
QR_SIZE = 640  # pixels, quiet zone included: ~6 px a module for a ticket URL
MAX_TITLE_LINES, MAX_VALUE_LINES = 3, 2  # the title; each value (a session: each line of it)

_TOKENS = re.compile(r"[A-Za-z0-9@.,:;!?'’\-/_]+\s*|\S\s*|\s+")


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_path()
    if path is None:  # no Chinese font on the system: Latin and digits still read
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size, index=0)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list[str]:
    """Lines that fit `width`: Chinese breaks between any two characters, Latin between words;
    too long a text ends its last line with an ellipsis."""
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(" ".join(text.split())):
        if draw.textlength(line + token.rstrip(), font=font) <= width or not line:
            line += token
            continue
        lines.append(line.rstrip())
        line = token.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        lines = lines[: max_lines - 1] + [last + "…"]
    return lines


def _pass_sessions(registration: Registration) -> list[Registration]:
    """系列通票: the pass's registrations still standing (its own first, in the sessions'
    order); [] for a ticket of one session, or a pass given up down to one."""
    members = [m for m in series.members_of(registration)
               if m.status != RegistrationStatus.CANCELLED]
    return members if len(members) > 1 else []


def _facts(registration: Registration,
           members: list[Registration]) -> list[tuple[str, list[str]]]:
    """(label, values) in the order the ticket page says them; each value wrapped on its own."""
    event, session = registration.event, registration.session
    if members:  # one ticket, several sessions: each one's time, and its address if they differ
        places = {m.session.where for m in members}
        shared = places.pop() if len(places) == 1 else None
        times: list[str] = []
        for member in members:
            label = f" · {member.session.label}" if member.session.label else ""
            times.append(session_time(member) + label)
            if shared is None and member.session.where:
                times.append(member.session.where)
        facts = [(_("Sessions"), times), (_("Venue"), [event.venue])]
        if shared:
            facts.append((_("Address"), [shared]))
    else:
        facts = [(_("Time"), [session_time(registration)]), (_("Venue"), [event.venue])]
        if session.label:
            facts.insert(0, (_("Session"), [session.label]))
        if session.where:
            facts.append((_("Address"), [session.where]))
    facts.append((_("Party size"),
                  [ngettext("%(num)d person", "%(num)d people", registration.party_size)]))
    holder = f"{mask_name(registration.name)} {mask_mobile(registration.phone)}".strip()
    if holder:
        facts.append((_("Ticket holder"), [holder]))
    if registration.short_code:
        facts.append((_("Door code"), [short_codes.spelled(registration.short_code)]))
    return facts


def ticket_card_png(registration: Registration, url: str) -> bytes:
    """The card of a confirmed ticket (the caller checks): a PNG of about 1080 × 1700 px."""
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    head_font, title_font = font(40), font(56)
    label_font, value_font, code_font, note_font = font(32), font(40), font(52), font(32)
    title = _wrap(measure, registration.event.title, title_font, CONTENT, MAX_TITLE_LINES)
    members = _pass_sessions(registration)
    said_facts = _facts(registration, members)
    label_width = max(measure.textlength(label, font=label_font)
                      for label, _values in said_facts) + 32
    facts = [(label, [line for value in values
                      for line in _wrap(measure, value, value_font, int(CONTENT - label_width),
                                        MAX_VALUE_LINES)])
             for label, values in said_facts]
    code = group_code(registration.code)
    note = (_("Show the same QR code at each session.") if members
            else _("Show this QR code at the entrance"))

    band, title_leading, fact_leading = 120, 72, 54
    height = (band + 48 + len(title) * title_leading + 24
              + sum(len(lines) * fact_leading + 14 for _label, lines in facts) + 24
              + QR_SIZE + 24 + 70 + 56 + MARGIN)
    image = Image.new("RGB", (WIDTH, height), PAPER)
    draw = ImageDraw.Draw(image)

    heading = _("Quality Month ticket")
    draw.rectangle((0, 0, WIDTH, band), fill=BRAND)
    draw.text((WIDTH / 2, band / 2), heading, font=head_font, fill=PAPER, anchor="mm")
    y = band + 48
    for line in title:
        draw.text((MARGIN, y), line, font=title_font, fill=INK)
        y += title_leading
    y += 24
    for label, lines in facts:
        draw.text((MARGIN, y + 6), label, font=label_font, fill=GREY)
        for line in lines:
            draw.text((MARGIN + label_width, y), line, font=value_font, fill=INK)
            y += fact_leading
        y += 14
    y += 24
    qr = _qr_image(url, QR_SIZE)
    image.paste(qr, ((WIDTH - QR_SIZE) // 2, y))
    y += QR_SIZE + 24
    draw.text((WIDTH / 2, y + 35), code, font=code_font, fill=INK, anchor="mm")
    y += 70
    draw.text((WIDTH / 2, y + 28), note, font=note_font, fill=GREY, anchor="mm")

    said = [heading, *title, *(f"{label}：{' '.join(lines)}" for label, lines in facts), code,
            note]
    info = PngInfo()
    info.add_itxt("Description", "\n".join(said), lang="zh", tkey="Description")
    return png_bytes(image, info)


def png_bytes(image: Image.Image, info: PngInfo | None = None) -> bytes:
    """A drawn picture as a small PNG, quickly: 64 colours are plenty for text, a QR and one
    red (a third of the bytes over a phone's network), and zlib's default level without
    Pillow's `optimize` passes, which cost five times the drawing (benchmarks/tickets.py)."""
    out = io.BytesIO()
    image.quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(
        out, format="PNG", pnginfo=info)
    return out.getvalue()


def _qr_image(url: str, size: int) -> Image.Image:
    """The ticket's QR, modules scaled to whole pixels and centred in `size`, white around."""
    matrix = qr_matrix(url)
    n = len(matrix)
    module = max(1, size // n)
    code = Image.new("1", (n, n), 1)
    code.putdata([0 if dark else 1 for row in matrix for dark in row])
    code = code.resize((n * module, n * module), Image.Resampling.NEAREST).convert("RGB")
    square = Image.new("RGB", (size, size), PAPER)
    offset = (size - n * module) // 2
    square.paste(code, (offset, offset))
    return square
