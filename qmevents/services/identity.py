"""Checks of Chinese personal identifiers: people's names, mainland mobile numbers and resident
ID numbers (居民身份证号码, GB 11643-1999), and how they are shown masked."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_babel import gettext as _

from ..numbers import ascii_digits

_MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
_SEPARATORS = re.compile(r"[\s\-()（）]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


# --- names ----------------------------------------------------------------------------------------
# A name typed by a citizen is repeated by the official sender in every text message about the
# ticket ("王芳，您已报名…"). So a name holds what names hold, and nothing that makes a message to
# somebody else: no digits (a phone number), no dots, slashes or colons (a link), no symbols.

MAX_NAME = 30  # characters: 买买提·艾力·阿不都热合曼 and a full English name fit
MAX_NUMERALS = 3  # 张三, 李四, 万千 are names; 一三八一二三四五六七八 is a phone number
_MIDDLE_DOTS = str.maketrans({"・": "·", "•": "·", "‧": "·", "･": "·", "∙": "·", "⋅": "·"})
_JOINERS = frozenset("·-'’ ")


def normalise_name(raw: object) -> str | None:
    """The name as it is kept and shown, or None when it is not a person's name: letters of one
    script and their accents, single spaces, the middle dot (·) of minority names, hyphens and
    apostrophes; 1 to MAX_NAME characters; at most MAX_NUMERALS numeral characters (三, 万).
    One script: a Chinese name holds no Latin, Cyrillic or other letters ("加微信abcdef" or its
    Cyrillic look-alike "加微信аbсdеf" is a contact, not a name). Middle dots typed as ・ or •
    become ·; runs of spaces one space."""
    if not isinstance(raw, str):
        return None
    name = " ".join(unicodedata.normalize("NFKC", raw).translate(_MIDDLE_DOTS).split())
    if not 0 < len(name) <= MAX_NAME:
        return None
    if not all(c in _JOINERS or unicodedata.category(c)[0] in "LM" for c in name):
        return None
    if sum(unicodedata.numeric(c, None) is not None for c in name) > MAX_NUMERALS:
        return None
    if len({_script(c) for c in name if unicodedata.category(c)[0] == "L"} - {None}) > 1:
        return None
    return name


# Scripts that one name may mix: a Japanese name writes Kanji with Kana.
_SAME_SCRIPT = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HALFWIDTH": "CJK"}


def _script(letter: str) -> str | None:
    """The script a letter belongs to, as the first word of its Unicode name (LATIN, CJK,
    CYRILLIC…); None for a modifier letter, which belongs to none."""
    first = unicodedata.name(letter, "").split(" ", 1)[0]
    if first in ("", "MODIFIER"):
        return None
    return _SAME_SCRIPT.get(first, first)


def mask_name(name: str | None) -> str:
    """张*明, 张*, J*n: the first character, a star, and the last when there are three or more
    (a door offline recognises a party by it, a lost phone reveals no more)."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" + (name[-1] if len(name) >= 3 else "")


def name_refusal() -> str:
    """What to tell someone whose name normalise_name refused."""
    return _("A name holds letters (Chinese or another script), spaces, a middle dot (·), "
             "hyphens or apostrophes: at most %(n)d characters, without digits, links or other "
             "signs.", n=MAX_NAME)


# --- mobile numbers -------------------------------------------------------------------------------


def normalise_mobile(raw: str | None) -> str | None:
    """The 11-digit mainland mobile number, or None when it is not one.

    Accepts the ways people type it: spaces or dashes, a +86 or 0086 prefix, the digits of any
    script (full-width, Arabic-Indic…), which become ASCII: one phone is one string, so it cannot
    register twice, escape its limits or hide from "my tickets" by being typed differently."""
    if not raw or not isinstance(raw, str) or len(raw) > 40:
        return None
    value = _SEPARATORS.sub("", ascii_digits(raw))
    for prefix in ("+86", "0086", "86"):
        if value.startswith(prefix) and len(value) == 11 + len(prefix):
            value = value[len(prefix):]
            break
    return value if _MOBILE.fullmatch(value) else None


def mask_mobile(phone: str | None) -> str:
    """138****1234: enough for a person to recognise their own number, no more."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else "****"


def normalise_id_number(raw: str | None) -> str | None:
    """An 18-character resident ID number with a valid birth date and check digit, or None."""
    if not raw:
        return None
    value = _SEPARATORS.sub("", ascii_digits(raw)).upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value, re.ASCII):
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
