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
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import OneTimeCode, OneTimeCodePurpose
from ..numbers import ascii_digits
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
    code = add(phone, purpose)
    db.session.commit()
    return code


def add(phone: str, purpose: OneTimeCodePurpose) -> str:
    """`issue` in the caller's transaction (the caller commits): a new code stored with the
    message that carries it commit together."""
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
    return code


def verify(phone: str, code: str,
           purpose: OneTimeCodePurpose = OneTimeCodePurpose.FIND_TICKETS) -> bool:
    """True once for the right code of the phone's newest live code; False for anything else
    (a wrong code counts against the code's attempts). Commits."""
    if use(phone, code, purpose):
        db.session.commit()
        return True
    db.session.rollback()
    count_wrong(phone, purpose)
    return False


def use(phone: str, code: str, purpose: OneTimeCodePurpose) -> bool:
    """Mark the phone's newest code used if `code` is it and it is live (not used, not expired,
    attempts left), in the caller's transaction: registering checks the code in the same
    transaction that takes the places, so a registration that fails leaves the code unused.
    One conditional UPDATE; of two uses at once, one row count is 1."""
    clean = normalise_mobile(phone) if isinstance(phone, str) else None
    if clean is None or not isinstance(code, str):
        return False
    typed = ascii_digits(code.strip())
    return db.session.execute(
        update(OneTimeCode)
        .where(*_newest_live(clean, purpose), OneTimeCode.code_hash == code_hash(clean, typed))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def count_wrong(phone: str, purpose: OneTimeCodePurpose) -> None:
    """One wrong try against the phone's newest live code (after OTP_MAX_ATTEMPTS it is dead).
    Commits: the count must stand even when the caller's work is rolled back."""
    clean = normalise_mobile(phone) if isinstance(phone, str) else None
    if clean is None:
        return
    db.session.execute(
        update(OneTimeCode).where(*_newest_live(clean, purpose))
        .values(attempts=OneTimeCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _newest_live(phone: str, purpose: OneTimeCodePurpose) -> tuple:
    """The phone's newest code for `purpose`, while it is live: only the newest counts, so
    asking again makes the earlier ones worthless."""
    newest = (select(func.max(OneTimeCode.id))
              .where(OneTimeCode.phone == phone, OneTimeCode.purpose == purpose)
              .scalar_subquery())
    return (OneTimeCode.id == newest, OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > utcnow(),
            OneTimeCode.attempts < int(current_app.config["OTP_MAX_ATTEMPTS"]))
