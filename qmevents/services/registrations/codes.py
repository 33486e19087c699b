"""Ticket codes: making one, reading one as typed or scanned, and finding its registration.

A code is the ticket: whoever holds it may open, download or cancel the ticket, so it is random
(100 bits), never logged, and kept from door staff (they name tickets by id). The door's
JavaScript accepts what `normalise_code` reduces to CODE_LENGTH (static/js/door/codes.js).
"""
from __future__ import annotations

import re
import secrets

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Registration
from ..errors import NotFound

# Crockford's base32: no I, L, O or U, so a code read aloud or typed at the door survives.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 100 bits of randomness


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str | None) -> str | None:
    """A ticket code as typed or scanned: case, dashes and look-alike letters forgiven."""
    if not raw or len(raw) > 200:
        return None
    value = re.sub(r"[\s\-]", "", raw).upper().translate(str.maketrans("OIL", "011"))
    if len(value) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in value):
        return None
    return value


def ticket(code: str | None) -> Registration:
    """The registration behind a ticket code, or NotFound (for a wrong or truncated code too)."""
    clean = normalise_code(code)
    registration = None
    if clean:
        registration = db.session.scalar(
            select(Registration)
            .where(Registration.code == clean)
            .options(selectinload(Registration.answers))
        )
    if registration is None:
        raise NotFound(_("No ticket has this code."))
    return registration


def tickets_for_phone(phone: str) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            # A series pass is one ticket: its members (further sessions) are not listed apart.
            .where(Registration.phone == phone, Registration.pass_id.is_(None))
            .order_by(Registration.created_at.desc())
        )
    )
