"""Numbers as people type them: one number is one number, whatever digits it was typed in.

Digits of other scripts (Arabic-Indic ١٣٨, Devanagari १, full-width １３８) and compatibility
forms (superscript ², circled ①) become their ASCII digits; after that, only ASCII 0–9 count.
`str.isdigit()` alone is not a test: "²".isdigit() is True and int("²") raises, and
int("١٣٨") is 138 while the database compares "١٣٨" and "138" as different strings.
Every phone number, one-time code and typed count goes through here before it is compared,
stored or turned into an int.
"""
from __future__ import annotations

import re
import unicodedata

_ASCII_NUMBER = re.compile(r"[0-9]+", re.ASCII)


def ascii_digits(text: str) -> str:
    """`text` with every decimal digit, of any script, as its ASCII digit (NFKC first, so
    full-width and superscript forms are digits too). Other characters are left as they are."""
    normal = unicodedata.normalize("NFKC", text)
    if normal.isascii():
        return normal
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in normal)


def whole_number(value: object, max_digits: int = 9) -> int | None:
    """A non-negative whole number typed as text (or given as an int), or None: never an
    exception, whatever the text holds. At most `max_digits` digits, so it fits a 32-bit id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**max_digits else None
    if not isinstance(value, str):
        return None
    digits = ascii_digits(value.strip())
    if len(digits) > max_digits or not _ASCII_NUMBER.fullmatch(digits):
        return None
    return int(digits)
