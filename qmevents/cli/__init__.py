"""The `flask` commands, one module per group: accounts (users.py), an event's door staff
(staff.py), the demo, the outbox, reminders and thank-yous (notify), the lottery, the waiting
list and the purge of personal data. Each is a thin shell over a service: the same functions the pages and
the API call."""
from __future__ import annotations

from flask import Flask

from . import demo, lottery, notify, purge, staff, users, waitlist


def register(app: Flask) -> None:
    for group in (users, staff, demo, notify, lottery, waitlist, purge):
        group.register(app)
