"""入场口令: the short door code of a citizen registered by phone (代报名), who may have no
smartphone to show a QR. Six digits and a check letter ("482913K"), read aloud on the phone and
typed at the door.

- Unique within its event only (a database constraint), and it admits at that event's door only:
  it is not a ticket code, so the ticket page, cancelling and "my tickets" never take it.
- The check letter is a weighted sum of the digits modulo 23 (a prime, weights 1 to 6): a
  mistyped digit, or two neighbouring digits swapped, always gives another letter, so the door
  says "no such code" instead of admitting somebody else's family.
- Guessing: the check letter catches typos, not guesses (anyone may compute it), so an event has
  10^6 short codes for its few hundred callers. Only the event's signed-in door staff can try
  one (the scanner, POST /api/v1/checkins), and scans are not rate-limited (a busy door scans
  hundreds a minute): a guess gives them nothing they lack already, as their search finds any
  ticket by name or phone's last four digits and admits it. The door's offline list carries a
  short code's verifier (door/ticket_list.py): a lost door phone's list gives its event's short
  codes to whoever tries them all, and with them that event's door, nothing else.
"""
from __future__ import annotations

import re
import secrets
import unicodedata

LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S (1, 0 and 5 look alike)
DIGITS = 6
_SHORT = re.compile(r"^([0-9]{6})([A-Z])$", re.ASCII)


def check_letter(digits: str) -> str:
    return LETTERS[sum(int(d) * w for d, w in zip(digits, range(1, DIGITS + 1), strict=True))
                   % len(LETTERS)]


def new_short_code() -> str:
    digits = f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"
    return digits + check_letter(digits)


def normalise_short_code(raw: object) -> str | None:
    """The short code in what was typed ("482 913 k", "４８２９１３Ｋ", "482913-K"), or None
    when it is not one or its check letter is wrong."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    text = re.sub(r"[\s\-·.]", "", unicodedata.normalize("NFKC", raw)).upper()
    found = _SHORT.match(text)
    if found is None or check_letter(found.group(1)) != found.group(2):
        return None
    return text


def spelled(code: str) -> str:
    """482 913 K: grouped as it is read aloud."""
    return f"{code[:3]} {code[3:6]} {code[6:]}"
