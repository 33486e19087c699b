"""Checks of Chinese personal identifiers: mainland mobile numbers and resident ID numbers
(居民身份证号码, GB 11643-1999), and how they are shown masked."""
from __future__ import annotations

import re
from datetime import date

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()（）]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalise_mobile(raw: str | None) -> str | None:
    """The 11-digit mainland mobile number, or None when it is not one.

    Accepts the ways people type it: spaces or dashes, a +86 or 0086 prefix, full-width digits."""
    if not raw:
        return None
    value = _SEPARATORS.sub("", raw.translate(_FULLWIDTH))
    for prefix in ("+86", "0086", "86"):
        if value.startswith(prefix) and len(value) == 11 + len(prefix):
            value = value[len(prefix):]
            break
    return value if _MOBILE.match(value) else None


_FULLWIDTH = str.maketrans("０１２３４５６７８９＋", "0123456789+")


def mask_mobile(phone: str | None) -> str:
    """138****1234: enough for a person to recognise their own number, no more."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else "****"


def normalise_id_number(raw: str | None) -> str | None:
    """An 18-character resident ID number with a valid birth date and check digit, or None."""
    if not raw:
        return None
    value = _SEPARATORS.sub("", raw.translate(_FULLWIDTH)).upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return None
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None
    if born.year < 1900 or born > date.today():
        return None
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return value if _ID_CHECK[total % 11] == value[17] else None


def mask_id_number(value: str | None) -> str:
    """110105********123X: region and last four only."""
    if not value:
        return ""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "****"
