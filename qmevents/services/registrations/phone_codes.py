"""The code that proves a registrant holds the phone they register with (Event.verify_phone).

Asked for on the registration form ("获取验证码") or with POST /api/v1/phone-codes; the
registration then carries it, and services.registrations.register uses it in the same transaction
that takes the places. The code goes to any valid number, and the answer never says whether the
number is known; what stops a script from texting strangers is the per-phone and per-address
limits (qmevents/ratelimits.py `limit_otp`, shared with "my tickets") and that the text holds
nothing but our own words and the code.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ...extensions import db
from ...models import OneTimeCodePurpose
from .. import otp
from ..identity import mask_mobile, normalise_mobile
from ..messaging import messages, outbox


@dataclass(frozen=True)
class Sent:
    masked: str  # 138****5678: where the code went, as the page may say it
    expires_in: int  # seconds


def send(phone: object) -> Sent:
    """Issue a registration code for `phone` and text it. ValidationFailed for a number that is
    not a mainland mobile."""
    code = otp.add(phone, OneTimeCodePurpose.REGISTER)  # ValidationFailed for a bad number
    clean = normalise_mobile(phone)
    # The code and its message commit together (one transaction), then the message is sent.
    draft = messages.draft_registration_code(clean, code)
    staged = outbox.stage(*draft.fields(), **draft.provider_fields())
    db.session.commit()
    outbox.dispatch(staged)
    return Sent(masked=mask_mobile(clean), expires_in=int(current_app.config["OTP_TTL_SECONDS"]))
