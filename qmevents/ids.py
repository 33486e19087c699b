"""Ids are 32-bit integers in the database: PostgreSQL refuses a larger one in a query ("integer
out of range") where SQLite quietly finds nothing. So a number from a URL, a form or a JSON body
is an id only when a row could have it; anything else matches nothing, before any query.
"""
from __future__ import annotations

MAX_ID = 2**31 - 1


def is_row_id(value: object) -> bool:
    """An id a row can have: a whole number (not a bool) from 1 to MAX_ID."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def is_count(value: object, most: int) -> bool:
    """A number of people or things from 1 to `most`: a whole number, not a bool."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= most
