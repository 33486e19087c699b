"""The database of the mixed-load benchmark (benchmarks/mixed.py): the demo programme copied out
across the districts, sessions half full, door events with tickets to scan, the bare app's table;
and the checks afterwards (nothing oversold, every acknowledged write present)."""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

# --- the database -------------------------------------------------------------------------------

FILL = 0.5  # of each session's places taken by the bulk-loaded registrations
DOORS = 6  # events whose doors scan during the run
TICKET_HOST = "https://zlj.example.gov.cn"


@dataclass
class Target:
    """A session open for registration."""

    event_id: int
    session_id: int
    capacity: int
    max_party: int


@dataclass
class Door:
    event_id: int
    session_id: int
    token: str  # a staff device's bearer token
    codes: list[str]  # tickets not scanned yet


@dataclass
class Programme:
    """What the requests are made of: ids, codes, tokens and accounts, read once."""

    event_ids: list[int]
    list_paths: list[str]
    ticket_codes: list[str]
    targets: list[Target]
    doors: list[Door]
    organisers: list[tuple[str, str, list[int]]]  # e-mail, password, events to report on
    registrations: int
    people: int
    entries_before: int = 0  # admissions at entrances before the load (last year's edition)
    phones: int = 0
    door_turn: int = 0

    def new_phone(self) -> str:
        self.phones += 1
        return f"15{self.phones:09d}"

    def next_door(self) -> int:
        self.door_turn += 1
        return self.door_turn % len(self.doors)

    def describe(self) -> str:
        return (f"{len(self.event_ids)} published events, {self.registrations} registrations "
                f"for {self.people} people loaded, {len(self.targets)} sessions to register "
                f"for, {len(self.doors)} doors with "
                f"{sum(len(d.codes) for d in self.doors)} tickets to scan")


def _qmevents_app(url: str, instance: Path):
    """The app for loading and checking the database, outside the clock. Its password hashes
    are cheap, as in the tests: at argon2's production cost the demo's 33 accounts take 5-15 s
    of CPU to create, and signing in is not part of the mix."""
    os.environ["QMEVENTS_INSTANCE"] = str(instance)
    from qmevents import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load-test-secret",
                       "PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 64})


def prepare_ours(url: str, instance: Path, total_events: int, scans: int,
                 rng: random.Random) -> Programme:
    """The demo programme (its accounts too), copied out to `total_events` events, every
    session half full, and `scans` tickets at the doors."""
    from sqlalchemy import func, select, text

    from qmevents.demo.loader import load_demo
    from qmevents.extensions import db
    from qmevents.models import Admission, AdmissionKind
    from qmevents.timeutil import to_local, utcnow

    with _qmevents_app(url, instance).app_context():
        db.create_all()
        today = to_local(utcnow()).date()
        load_demo(today)
        copy_programme(total_events, today)
        codes, people = fill_sessions(rng)
        doors = open_doors(scans, rng)  # first: their sessions are under way, closed to register
        programme = read_programme(codes, people, rng)
        programme.doors = doors
        programme.entries_before = db.session.scalar(select(func.count(Admission.id)).where(
            Admission.kind == AdmissionKind.ENTRY))
        if db.engine.dialect.name == "postgresql":
            # Fresh statistics for the planner, as autovacuum keeps them on a server in use.
            db.session.commit()
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return programme


def copy_programme(total: int, today: date) -> None:
    """Copies of the demo's published events, the districts taking turns, spread over ten days,
    until `total` events have sessions to come."""
    from sqlalchemy import func, select

    from qmevents.demo.loader import event_draft  # the demo's own spec-to-draft, in one place
    from qmevents.demo.programme import BUREAUS, DISTRICTS, EVENTS
    from qmevents.extensions import db
    from qmevents.models import EventSession
    from qmevents.services import accounts, events
    from qmevents.timeutil import utcnow

    published = [spec for spec in EVENTS if spec["status"] == "published"]
    upcoming = db.session.scalar(select(func.count(func.distinct(EventSession.event_id))).where(
        EventSession.starts_at > utcnow()))
    for k in range(total - upcoming):
        district = DISTRICTS[k % len(DISTRICTS)][0]
        spec = published[k % len(published)]
        spec = {**spec, "district": district, "title": f"{spec['title']}（第{k // 16 + 2}期）"}
        org = accounts.find_or_create_organisation(BUREAUS[district][0], district)
        events.create_event(org.id, event_draft(spec, today + timedelta(days=k % 10)), publish=True)


def fill_sessions(rng: random.Random) -> tuple[list[str], int]:
    """Confirmed registrations, bulk-inserted, for half the places of every session to come but
    the lotteries'; their codes and the people they hold. (Last year's edition, which the demo
    loads with its figures, is left as it is.)"""
    from sqlalchemy import bindparam, insert, select, update

    from qmevents.extensions import db
    from qmevents.models import Event, EventSession, EventStatus, Registration, RegistrationStatus
    from qmevents.services.registrations.codes import new_code
    from qmevents.timeutil import utcnow

    now, rows, taken = utcnow(), [], []
    sessions = db.session.execute(
        select(EventSession.id, EventSession.event_id, EventSession.capacity,
               EventSession.places_taken, Event.max_party_size)
        .join(Event, Event.id == EventSession.event_id)
        .where(Event.status == EventStatus.PUBLISHED, Event.registration_mode != "lottery",
               EventSession.starts_at > now)
    ).all()
    for s in sessions:
        people = 0
        while s.places_taken + people + s.max_party_size <= s.capacity * FILL:
            size = rng.randint(1, s.max_party_size)
            people += size
            rows.append({"code": new_code(), "event_id": s.event_id, "session_id": s.id,
                         "name": "市民", "phone": f"13{len(rows):09d}", "party_size": size,
                         "status": RegistrationStatus.CONFIRMED, "source": "web",
                         "consent_at": now, "created_at": now, "updated_at": now,
                         "admitted_people": 0})
        taken.append({"sid": s.id, "people": people})
    db.session.execute(insert(Registration), rows)
    table = EventSession.__table__
    db.session.execute(update(table).where(table.c.id == bindparam("sid")).values(
        places_taken=table.c.places_taken + bindparam("people")), taken)
    db.session.commit()
    return [r["code"] for r in rows], sum(r["party_size"] for r in rows)


def read_programme(codes: list[str], people: int, rng: random.Random) -> Programme:
    """Published events, sessions open for registration, the city's admin and three district
    bureaus with the events each may report on."""
    from flask import current_app
    from sqlalchemy import select

    from qmevents.demo.loader import ADMIN_EMAIL, DOMAIN, demo_password
    from qmevents.demo.programme import BUREAUS, DISTRICTS, EVENT_KINDS
    from qmevents.extensions import db
    from qmevents.models import Event, EventStatus, Organisation
    from qmevents.services.registrations.register import Availability, availability
    from qmevents.timeutil import utcnow

    published = db.session.scalars(
        select(Event).where(Event.status == EventStatus.PUBLISHED).order_by(Event.id)).all()
    now = utcnow()
    upcoming = [e for e in published if any(s.starts_at > now for s in e.sessions)]
    targets = [Target(e.id, s.id, s.capacity, e.max_party_size) for e in published
               for s in e.sessions if availability(e, s) == Availability.OPEN]
    secret = current_app.config["SECRET_KEY"]
    organisers = [(ADMIN_EMAIL, demo_password(secret, ADMIN_EMAIL), [e.id for e in published])]
    for district, _en in DISTRICTS[:3]:
        name, slug = BUREAUS[district]
        org_id = db.session.scalar(select(Organisation.id).filter_by(name=name))
        email = f"{slug}@{DOMAIN}"
        organisers.append((email, demo_password(secret, email),
                           [e.id for e in published if e.organisation_id == org_id]))
    return Programme(
        event_ids=[e.id for e in upcoming],
        list_paths=["/", "/?page=2", "/?page=3", "/?lang=en",
                    *(f"/?district={quote(d)}" for d, _en in DISTRICTS),
                    *(f"/?kind={k}" for k in EVENT_KINDS)],
        ticket_codes=rng.sample(codes, min(len(codes), 5000)), targets=targets, doors=[],
        organisers=organisers, registrations=len(codes), people=people)


def open_doors(scans: int, rng: random.Random) -> list[Door]:
    """DOORS events of the demo, each in its own district, without re-entry: the district's
    staff gets a device token, the first session `scans / DOORS` more tickets and the places
    for them."""
    from sqlalchemy import insert, select, update

    from qmevents.extensions import db
    from qmevents.models import (
        Event,
        EventSession,
        EventStatus,
        Registration,
        RegistrationStatus,
        StaffAssignment,
        User,
    )
    from qmevents.services import accounts
    from qmevents.services.registrations.codes import new_code
    from qmevents.timeutil import utcnow

    doors, districts = [], set()
    candidates = db.session.scalars(select(Event).where(
        Event.status == EventStatus.PUBLISHED, Event.allow_reentry.is_(False),
        Event.registration_mode != "lottery").order_by(Event.id)).all()
    now = utcnow()
    for event in candidates:
        staff = db.session.scalar(select(User).join(
            StaffAssignment, StaffAssignment.user_id == User.id).where(
            StaffAssignment.event_id == event.id))
        if staff is None or event.district_id in districts or event.sessions[0].starts_at < now:
            continue
        districts.add(event.district_id)
        session = event.sessions[0]
        token, _row = accounts.issue_token(staff)
        parties = [rng.randint(1, event.max_party_size) for _ in range(scans // DOORS + 1)]
        codes = [new_code() for _ in parties]
        db.session.execute(insert(Registration), [
            {"code": code, "event_id": event.id, "session_id": session.id, "name": "市民",
             "phone": f"14{len(doors)}{i:08d}", "party_size": size,
             "status": RegistrationStatus.CONFIRMED, "source": "web", "consent_at": now,
             "created_at": now, "updated_at": now, "admitted_people": 0}
            for i, (code, size) in enumerate(zip(codes, parties, strict=True))])
        # The day of the event: the door's session is under way (services.door.checkin admits a
        # session's tickets on its day, from an hour before it starts).
        db.session.execute(update(EventSession).where(EventSession.id == session.id).values(
            capacity=EventSession.capacity + sum(parties),
            places_taken=EventSession.places_taken + sum(parties),
            starts_at=now - timedelta(minutes=30), ends_at=now + timedelta(hours=3)))
        db.session.commit()
        doors.append(Door(event.id, session.id, token, codes))
        if len(doors) == DOORS:
            break
    return doors


def prepare_bare(url: str) -> None:
    """The bare table with 1000 rows for the reads."""
    from bare_app import Row, create_app, db

    from qmevents.timeutil import utcnow

    with create_app(url).app_context():
        db.create_all()
        db.session.add_all(Row(name="市民", phone=f"139{i:08d}", party_size=2, created_at=utcnow())
                           for i in range(1000))
        db.session.commit()
        db.engine.dispose()


def check_invariants(url: str, instance: Path, acknowledged: list[str],
                     entries: int) -> list[str]:
    """What must hold after the load, from the database itself; the broken ones, said."""
    from sqlalchemy import func, select

    from qmevents.extensions import db
    from qmevents.models import (
        HOLDS_PLACES,
        Admission,
        AdmissionKind,
        EventSession,
        Registration,
    )

    problems = []
    with _qmevents_app(url, instance).app_context():
        held = (select(Registration.session_id, func.sum(Registration.party_size).label("people"))
                .where(Registration.status.in_(HOLDS_PLACES)).group_by(Registration.session_id)
                .subquery())
        entered = (select(Admission.registration_id, func.sum(Admission.people).label("people"))
                   .where(Admission.kind == AdmissionKind.ENTRY)
                   .group_by(Admission.registration_id).subquery())
        count = db.session.scalar
        checks = {
            "sessions oversold": count(select(func.count(EventSession.id)).where(
                EventSession.places_taken > EventSession.capacity)),
            "sessions whose places differ from the people holding them": count(
                select(func.count(EventSession.id))
                .outerjoin(held, held.c.session_id == EventSession.id)
                .where(EventSession.places_taken != func.coalesce(held.c.people, 0))),
            "tickets let in beyond their party": count(select(func.count(Registration.id))
                .where(Registration.admitted_people > Registration.party_size)),
            "tickets whose people in differ from their admissions": count(
                select(func.count(Registration.id))
                .outerjoin(entered, entered.c.registration_id == Registration.id)
                .where(Registration.admitted_people != func.coalesce(entered.c.people, 0))),
        }
        found = sum(count(select(func.count(Registration.id)).where(
            Registration.phone.in_(acknowledged[i:i + 500])))
            for i in range(0, len(acknowledged), 500))
        rows = count(select(func.count(Admission.id)).where(
            Admission.kind == AdmissionKind.ENTRY))
        db.engine.dispose()
    problems = [f"{n} {what}" for what, n in checks.items() if n]
    if found != len(acknowledged):
        problems.append(f"{len(acknowledged) - found} acknowledged registrations missing")
    if rows != entries:
        problems.append(f"{entries} admissions expected (those before and the scans answered "
                        f"admitted), {rows} written")
    return problems
