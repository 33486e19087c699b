"""A tour that guides: its stations in order (where, when open, a map link), the family's stamp
card (集章卡: which stations scanned their ticket, and when) and, once every station has, the
certificate of completion the children take home (PNG to keep on the phone, PDF to print).

A station is any checkpoint people come in by (the entrance is station 1); exits are not
stations. A stamp is an admission of the ticket at that checkpoint: the entry at the entrance, a
visit at any other station (services/door/checkin.py records them, one visit per station).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from PIL import Image, ImageDraw
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import func, select

from .. import links
from ..extensions import db
from ..filters import localtime
from ..models import Admission, AdmissionKind, CheckpointDirection, Event, Registration
from .fonts import cjk_font
from .ticket_card import BRAND, GREY, INK, PAPER, font, png_bytes

STAMPED_BY = (AdmissionKind.ENTRY, AdmissionKind.REENTRY, AdmissionKind.VISIT)


@dataclass
class Station:
    number: int  # from 1, in the order visitors pass them
    checkpoint_id: int
    name: str
    address: str
    hours: str
    map_url: str | None
    visited_at: datetime | None = None  # UTC; on a stamp card only


def stations(event: Event) -> list[Station]:
    """The event's stations in order; a tour has two or more (one entrance alone is no tour)."""
    found = [cp for cp in sorted(event.checkpoints, key=lambda c: c.position)
             if cp.direction != CheckpointDirection.OUT]
    return [Station(number=i + 1, checkpoint_id=cp.id, name=cp.name, address=cp.address,
                    hours=cp.hours, map_url=links.map_url(cp.address, name=cp.name)
                    if cp.address else None)
            for i, cp in enumerate(found)]


def is_tour(event: Event) -> bool:
    return len(stations(event)) > 1


def stamp_card(registration: Registration) -> list[Station]:
    """The tour's stations with when this ticket was first scanned at each: one query."""
    card = stations(registration.event)
    if len(card) < 2:
        return []
    first = dict(db.session.execute(
        select(Admission.checkpoint_id, func.min(Admission.at))
        .where(Admission.registration_id == registration.id, Admission.kind.in_(STAMPED_BY))
        .group_by(Admission.checkpoint_id)).all())
    for station in card:
        station.visited_at = first.get(station.checkpoint_id)
    return card


def completed_at(card: list[Station]) -> datetime | None:
    """When the last station stamped the card; None until every one has."""
    if not card or any(s.visited_at is None for s in card):
        return None
    return max(s.visited_at for s in card)  # type: ignore[type-var]


# --- the certificate ------------------------------------------------------------------------


@dataclass
class Certificate:
    name: str  # the family's name as registered
    title: str  # the tour
    stations: int
    completed_at: datetime

    @property
    def lines(self) -> list[str]:
        return [
            _("Certificate of completion"),
            self.name,
            _("completed all %(n)d stations of", n=self.stations),
            self.title,
            localtime(self.completed_at, "date"),
        ]


def certificate(registration: Registration) -> Certificate | None:
    """The family's certificate once every station stamped its card; None before."""
    card = stamp_card(registration)
    done = completed_at(card)
    if done is None:
        return None
    return Certificate(name=registration.name, title=registration.event.title,
                       stations=len(card), completed_at=done)


def certificate_png(found: Certificate) -> bytes:
    """A landscape picture (1600 × 1130) in the campaign's red, to keep and share."""
    width, height = 1600, 1130
    image = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((24, 24, width - 24, height - 24), outline=BRAND, width=12)
    draw.rectangle((52, 52, width - 52, height - 52), outline=BRAND, width=3)
    heading, name, did, title, day = found.lines
    draw.text((width / 2, 230), heading, font=font(96), fill=BRAND, anchor="mm")
    draw.text((width / 2, 440), name, font=font(120), fill=INK, anchor="mm")
    draw.text((width / 2, 580), did, font=font(48), fill=GREY, anchor="mm")
    draw.text((width / 2, 690), _fit(draw, title, 64, width - 240), font=font(64), fill=INK,
              anchor="mm")
    draw.text((width / 2, 900), day, font=font(44), fill=GREY, anchor="mm")
    draw.text((width / 2, 980), _("Shanghai Quality Month"), font=font(44), fill=BRAND,
              anchor="mm")
    return png_bytes(image)


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> str:
    while text and draw.textlength(text, font=font(size)) > width:
        text = text[:-2] + "…"
    return text


def certificate_pdf(found: Certificate) -> bytes:
    """The same certificate on landscape A4 to print, the Chinese font embedded."""
    face = cjk_font()
    width, height = landscape(A4)
    red = Color(BRAND[0] / 255, BRAND[1] / 255, BRAND[2] / 255)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(width, height))
    canvas.setTitle(f"{found.title} — {found.lines[0]}")
    canvas.setStrokeColor(red)
    canvas.setLineWidth(6)
    canvas.rect(18, 18, width - 36, height - 36)
    canvas.setLineWidth(1.5)
    canvas.rect(32, 32, width - 64, height - 64)
    heading, name, did, title, day = found.lines
    for text, size, y, colour in ((heading, 40, height - 130, red), (name, 48, height - 230, None),
                                  (did, 20, height - 290, None), (title, 26, height - 340, None),
                                  (day, 18, 150, None),
                                  (_("Shanghai Quality Month"), 18, 120, red)):
        canvas.setFillColor(colour or Color(0.07, 0.07, 0.07))
        while text and pdfmetrics.stringWidth(text, face, size) > width - 120:
            text = text[:-2] + "…"
        canvas.setFont(face, size)
        canvas.drawCentredString(width / 2, y, text)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
