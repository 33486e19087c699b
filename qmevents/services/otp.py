"""One-time codes: a citizen who lost their ticket link proves they hold the phone.

A code is 6 digits from `secrets`, lives OTP_TTL_SECONDS, works once, and dies after
OTP_MAX_ATTEMPTS wrong tries. Only an HMAC (keyed with SECRET_KEY) of phone and code is stored.
Only the newest code for a phone counts: asking again makes the earlier ones worthless.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..extensions import db
from ..models import OneTimeCode, OneTimeCodePurpose
from ..timeutil import utcnow
from .errors import ValidationFailed
from .identity import normalise_mobile

CODE_DIGITS = 6


def code_hash(phone: str, code: str) -> str:
    """HMAC-SHA256 of phone and code: a stolen table gives neither, and a code for one phone
    proves nothing for another."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def issue(phone: str, purpose: OneTimeCodePurpose = OneTimeCodePurpose.FIND_TICKETS) -> str:
    """Store a new code for the phone and return it, in plain, this once. The caller sends it
    (messages.one_time_code) and should not say whether the phone has any registrations."""
    clean = normalise_mobile(phone) if isinstance(phone, str) else None
    if clean is None:
        raise ValidationFailed(
            {"phone": _("Enter a mainland mobile number of 11 digits, such as 13812345678.")}
        )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = utcnow()
    db.session.add(OneTimeCode(
        phone=clean, code_hash=code_hash(clean, code), purpose=purpose, created_at=now,
        expires_at=now + timedelta(seconds=int(current_app.config["OTP_TTL_SECONDS"])),
        attempts=0,
    ))
    db.session.commit()
    return code


def verify(phone: str, code: str,
           purpose: OneTimeCodePurpose = OneTimeCodePurpose.FIND_TICKETS) -> bool:
    """True once for the right code of the phone's newest live code; False for anything else."""
    clean = normalise_mobile(phone) if isinstance(phone, str) else None
    if clean is None or not isinstance(code, str):
        return False
    typed = code.strip().translate(_FULLWIDTH_DIGITS)
    now = utcnow()
    newest = db.session.scalar(
        select(OneTimeCode)
        .where(OneTimeCode.phone == clean, OneTimeCode.purpose == purpose)
        .order_by(OneTimeCode.created_at.desc(), OneTimeCode.id.desc())
        .limit(1)
    )
    max_attempts = int(current_app.config["OTP_MAX_ATTEMPTS"])
    if (newest is None or newest.used_at is not None or newest.expires_at <= now
            or newest.attempts >= max_attempts):
        return False
    live = (OneTimeCode.id == newest.id, OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > now, OneTimeCode.attempts < max_attempts)
    if not hmac.compare_digest(code_hash(clean, typed), newest.code_hash):
        db.session.execute(
            update(OneTimeCode).where(*live).values(attempts=OneTimeCode.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return False
    # Conditional on used_at IS NULL: of two verifications at once, one row count is 1.
    used = db.session.execute(
        update(OneTimeCode).where(*live).values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return used


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
