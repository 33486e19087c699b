"""`flask --app wsgi demo`: load the Quality Month programme of programme.py, with demo accounts.

Idempotent by a simple rule: create what is missing, leave what exists. Organisations match by
name, users by e-mail, events by (organisation, title), so a second run creates nothing and never
undoes what an organiser changed. Only new events are dated, N days after today in Shanghai.

Passwords are derived from the instance's SECRET_KEY (HMAC-SHA256 of the e-mail): nothing secret
lives in the repository, yet the same passwords can be printed on every run of this instance.
"""
from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Event, EventStatus, Organisation, Role, StaffAssignment, User, ensure_districts
from ..services import accounts, events
from ..services.errors import ValidationFailed
from ..timeutil import from_local, to_local, utcnow
from .history import HistoryReport, load_history
from .programme import BUREAUS, DISTRICTS, EVENTS, station

DOMAIN = "demo.qmevents.cn"
ADMIN_EMAIL = f"admin@{DOMAIN}"
LOGIN_URL = "http://127.0.0.1:5000/login"
# Crockford's base32, lower case: no i, l, o or u to misread when typing it from a terminal.
PASSWORD_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


class BrokenProgramme(Exception):
    """An event of programme.py that the event rules refuse: a bug in the demo data."""


@dataclass
class Count:
    """How many of one kind of thing this run created, and how many were already there."""

    created: int = 0
    existing: int = 0

    def add(self, created: bool) -> None:
        if created:
            self.created += 1
        else:
            self.existing += 1

    def __str__(self) -> str:
        return f"{self.created} created, {self.existing} already there"


@dataclass
class Account:
    email: str
    role: Role
    organisation: str  # its name, "" for the admin
    password: str
    still_valid: bool = True


@dataclass
class Report:
    organisations: Count = field(default_factory=Count)
    events: Count = field(default_factory=Count)
    users: Count = field(default_factory=Count)
    assignments: Count = field(default_factory=Count)
    published: int = 0  # of the programme's events, as they stand now
    accounts: list[Account] = field(default_factory=list)
    history: HistoryReport | None = None  # last year's edition, held and counted


def demo_password(secret: str, email: str) -> str:
    """12 readable characters from HMAC-SHA256(secret, email), grouped as `abcd-efgh-jkmn`."""
    digest = hmac.new(secret.encode(), email.encode(), hashlib.sha256).digest()
    bits = int.from_bytes(digest[:8], "big") >> 4  # 60 bits: 12 characters of 5 bits
    chars = [PASSWORD_ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(12))]
    return "-".join("".join(chars[i:i + 4]) for i in range(0, 12, 4))


def load_demo(today: date | None = None) -> Report:
    """Create what is missing of the demo programme; `today` is a Shanghai date."""
    today = today or to_local(utcnow()).date()
    ensure_districts()
    report = Report()
    secret = current_app.config["SECRET_KEY"]

    report.accounts.append(_ensure_user(report, secret, ADMIN_EMAIL, Role.ADMIN, None))
    for district, _name_en in DISTRICTS:
        org = _ensure_bureau(report, district)
        slug = BUREAUS[district][1]
        report.accounts.append(
            _ensure_user(report, secret, f"{slug}@{DOMAIN}", Role.ORGANISER, org)
        )
        staff = _ensure_user(report, secret, f"staff.{slug}@{DOMAIN}", Role.STAFF, org)
        report.accounts.append(staff)
        district_events = [
            _ensure_event(report, org, spec, today)
            for spec in EVENTS
            if spec["district"] == district
        ]
        _ensure_assignments(report, staff.email, district_events)
    report.history = load_history(today, _staff_ids())
    return report


def _staff_ids() -> dict[str, int | None]:
    """The district staff who scanned at last year's doors."""
    return {
        district: db.session.scalar(
            select(User.id).filter_by(email=f"staff.{BUREAUS[district][1]}@{DOMAIN}"))
        for district, _name_en in DISTRICTS
    }


def _ensure_bureau(report: Report, district: str) -> Organisation:
    name = BUREAUS[district][0]
    known = db.session.scalar(select(Organisation.id).filter_by(name=name)) is not None
    org = accounts.find_or_create_organisation(name, district)
    db.session.commit()
    report.organisations.add(not known)
    return org


def _ensure_user(report: Report, secret: str, email: str, role: Role,
                 org: Organisation | None) -> Account:
    """Create the account when missing; when it exists, check the printed password still works."""
    password = demo_password(secret, email)
    org_name = org.name if org else None
    exists = db.session.scalar(select(User.id).filter_by(email=email)) is not None
    if not exists:
        accounts.create_user(email, password, role.value, org_name)
    report.users.add(not exists)
    valid = not exists or accounts.authenticate(email, password) is not None
    return Account(email, role, org_name or "", password, valid)


def _ensure_event(report: Report, org: Organisation, spec: dict, today: date) -> Event:
    event = db.session.scalar(
        select(Event).filter_by(organisation_id=org.id, title=spec["title"])
    )
    report.events.add(event is None)
    if event is None:
        publish = spec["status"] == EventStatus.PUBLISHED.value
        try:
            event = events.create_event(org.id, event_draft(spec, today), publish=publish)
        except ValidationFailed as exc:  # the programme is ours: a failure here is a bug in it
            raise BrokenProgramme(f"{spec['title']}: {exc}") from exc
    report.published += event.status == EventStatus.PUBLISHED
    return event


def event_draft(spec: dict, today: date) -> events.EventDraft:
    """A programme entry (demo/programme.py) as the event form's draft, its days counted from
    `today`. The mixed-load benchmark builds its copies of the programme with it too."""
    return events.EventDraft(
        title=spec["title"],
        kind=spec["kind"],
        district=spec["district"],
        venue=spec["venue"],
        address=spec["address"],
        description=spec["description"],
        host=spec["host"],
        max_party_size=spec["max_party_size"],
        registration_mode=spec["registration_mode"],
        sessions=[_session(s, today, spec["registration_mode"]) for s in spec["sessions"]],
        # The first is the entrance, as in the data; a station may be (name, address, hours).
        checkpoints=[station(c)[0] for c in spec["checkpoints"]],
        checkpoint_addresses=[station(c)[1] for c in spec["checkpoints"]],
        checkpoint_hours=[station(c)[2] for c in spec["checkpoints"]],
        tallies=list(spec.get("tallies", [])),  # the services the digest names, counted at the door
        allow_reentry=spec.get("allow_reentry", False),
        series_pass=spec.get("series_pass", False),
    )


def _session(spec: dict, today: date, mode: str) -> events.SessionDraft:
    day = today + timedelta(days=spec["day"])
    starts_at = _shanghai(day, spec["start"])
    return events.SessionDraft(
        starts_at=starts_at,
        ends_at=_shanghai(day, spec["end"]),
        capacity=spec["capacity"],
        label=spec["label"],
        address=spec.get("address", ""),
        # A lottery is drawn when registration closes: the day before, at the same hour.
        registration_closes_at=starts_at - timedelta(days=1) if mode == "lottery" else None,
    )


def _shanghai(day: date, hhmm: str) -> datetime:
    return from_local(datetime.combine(day, time.fromisoformat(hhmm)))


def _ensure_assignments(report: Report, staff_email: str, district_events: list[Event]) -> None:
    staff_id = db.session.scalar(select(User.id).filter_by(email=staff_email))
    assigned = set(
        db.session.scalars(select(StaffAssignment.event_id).filter_by(user_id=staff_id))
    )
    for event in district_events:
        report.assignments.add(event.id not in assigned)
        if event.id not in assigned:
            db.session.add(StaffAssignment(user_id=staff_id, event_id=event.id))
    db.session.commit()


# --- output ----------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Terminal columns: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def account_table(rows: list[Account]) -> list[str]:
    header = ("email", "role", "organisation", "password")
    cells = [header] + [
        (a.email, a.role.value, a.organisation or "-",
         a.password if a.still_valid else "(changed or deactivated since)")
        for a in rows
    ]
    widths = [max(_width(row[i]) for row in cells) for i in range(3)]
    return [
        "  ".join(_pad(row[i], widths[i]) for i in range(3)) + "  " + row[3]
        for row in cells
    ]
