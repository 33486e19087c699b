"""The lottery (摇号): after a session's registration window closes, one draw gives its places to
applicants, counted in people, and ranks the rest onto the waiting list. A draw runs once.

The algorithm, "sha256-first-fit-v1", is written so anyone can re-run it in any language:

1. Each application is a pair (registration id, party size). Its key is the SHA-256 of the UTF-8
   text ``<seed>:<registration id>`` (the id in decimal), as 64 lower-case hex digits.
2. The drawn order is the applications sorted by key (then by id; two equal keys never occur).
3. Walk the drawn order with the places left in the session: a party that fits is selected and
   takes its places; a party that does not fit waits. Selected parties, in drawn order, then
   waiting ones, in drawn order, make the ranking: ranking[:winners] won, the rest is the waiting
   list in that order.

Why it is fair: the seed is 128 random bits from `secrets`, unknown until the draw, so the drawn
order is a uniformly random permutation of the applications — the same for a single person and a
family of four, for the first and the last to apply. A family counts as one application and
takes its size in places. Party size matters only in the last places: once a party does not fit,
fewer places than the largest party are left, so at most `max party size - 1` further people get
in, in parties small enough for the gap (no place stays empty while someone who fits waits; the
waiting list fills places the same way). tests/test_lottery_fairness.py measures both claims.

`verify` is the algorithm, a pure function; `draw` uses it and stores the seed, the applicants in
application order and the ranking (models.LotteryDraw), which the public JSON publishes and
`flask --app wsgi lottery verify` re-runs. See docs/LOTTERY.md.
"""
from __future__ import annotations

import enum
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from ... import links
from ...extensions import db
from ...models import (
    Event,
    EventSession,
    EventStatus,
    LotteryDraw,
    Registration,
    RegistrationMode,
    RegistrationStatus,
)
from ...timeutil import utcnow
from .. import audit
from ..errors import DomainError, NotFound, ValidationFailed
from ..messaging import messages, outbox
from ..messaging.templates import local_time
from . import places

log = logging.getLogger(__name__)

ALGORITHM = "sha256-first-fit-v1"
_SEED = re.compile(r"[0-9A-Za-z]{8,64}")
_CHUNK = 500  # ids per IN (...) list


# --- the algorithm: one pure function ---------------------------------------------------------


class Outcome(NamedTuple):
    ranking: list[int]  # registration ids: the selected in drawn order, then the waiting list
    winners: int  # how many of the ranking were selected


def new_seed() -> str:
    """32 hex digits (128 bits) from the operating system's random source."""
    return secrets.token_hex(16)


def key(seed: str, registration_id: int) -> str:
    """Where an application falls in the drawn order: SHA-256 of "<seed>:<id>", in hex."""
    return hashlib.sha256(f"{seed}:{registration_id}".encode()).hexdigest()


def drawn_order(seed: str, applicants: Iterable[Sequence[int]]) -> list[tuple[int, int]]:
    """The applications as (id, party size), in the order the seed gives them."""
    return sorted(((int(i), int(n)) for i, n in applicants), key=lambda a: (key(seed, a[0]), a[0]))


def verify(seed: str, capacity: int, applicants: Iterable[Sequence[int]]) -> Outcome:
    """Re-run a draw: the ranking and the number of winners that `seed` gives `applicants`
    ([registration id, party size] pairs, in any order) for `capacity` places."""
    pairs = _checked(seed, capacity, applicants)
    selected: list[int] = []
    waiting: list[int] = []
    left = capacity
    for registration_id, size in drawn_order(seed, pairs):
        if size <= left:
            selected.append(registration_id)
            left -= size
        else:
            waiting.append(registration_id)
    return Outcome(ranking=selected + waiting, winners=len(selected))


def _checked(seed, capacity, applicants) -> list[tuple[int, int]]:
    errors: dict[str, str] = {}
    if not isinstance(seed, str) or not _SEED.fullmatch(seed):
        errors["seed"] = _("A seed is 8 to 64 letters and digits.")
    if not _is_count(capacity):
        errors["capacity"] = _("The capacity is a whole number of places, 0 or more.")
    pairs: list[tuple[int, int]] = []
    try:
        for entry in applicants:
            registration_id, size = entry
            if not (_is_count(registration_id) and registration_id > 0
                    and _is_count(size) and size > 0):
                raise ValueError
            pairs.append((registration_id, size))
    except (TypeError, ValueError):
        errors["applicants"] = _("Each applicant is a registration id and a party size, "
                                 "both whole numbers above 0.")
    if "applicants" not in errors and len({i for i, _n in pairs}) != len(pairs):
        errors["applicants"] = _("A registration id appears twice among the applicants.")
    if errors:
        raise ValidationFailed(errors)
    return pairs


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --- when a draw may run -----------------------------------------------------------------------


class Refusal(enum.StrEnum):
    NOT_LOTTERY = "not_lottery"
    NOT_PUBLISHED = "not_published"
    NO_CLOSING_TIME = "no_closing_time"
    WINDOW_OPEN = "window_open"
    STARTED = "started"
    ALREADY_DRAWN = "already_drawn"
    NO_APPLICANTS = "no_applicants"
    CHANGED = "changed"  # places or applications changed under the draw: try again


class DrawRefused(DomainError):
    """A draw that may not run (now, or ever); `reason` says which rule said no."""

    code = "draw_refused"

    def __init__(self, reason: Refusal, message: str):
        super().__init__(message)
        self.reason = reason


def refusal(event: Event, session: EventSession, *, drawn: bool, applications: int,
            now: datetime | None = None) -> DrawRefused | None:
    """Why `session` cannot be drawn now, or None: the one rule, for the draw and the pages."""
    now = now or utcnow()
    if event.registration_mode != RegistrationMode.LOTTERY:
        return DrawRefused(Refusal.NOT_LOTTERY, _("This event does not give places by lottery."))
    if drawn:
        return DrawRefused(Refusal.ALREADY_DRAWN,
                           _("This session has been drawn already: a draw runs only once."))
    if event.status != EventStatus.PUBLISHED:
        return DrawRefused(Refusal.NOT_PUBLISHED, _("Only a published event holds a draw."))
    if session.registration_closes_at is None:  # it would close when the session starts
        return DrawRefused(Refusal.NO_CLOSING_TIME, _(
            "This session's registration has no closing time: set one before the session "
            "starts, so that the draw can run in between."))
    if now < session.closes_at:
        when = local_time(session.closes_at)  # as every text writes a moment: 9月20日 14:00
        return DrawRefused(Refusal.WINDOW_OPEN, _(
            "Registration is open until %(when)s: the draw can run once it has closed.",
            when=when))
    if session.starts_at <= now:
        return DrawRefused(Refusal.STARTED,
                           _("This session has started: it is too late for a draw."))
    if applications == 0:
        return DrawRefused(Refusal.NO_APPLICANTS,
                           _("Nobody applied for this session: there is nothing to draw."))
    return None


# --- drawing ------------------------------------------------------------------------------------


def draw(session_id: int, actor_id: int | None = None, seed: str | None = None,
         now: datetime | None = None) -> LotteryDraw:
    """Draw a session once: winners confirmed with their places taken, the rest waitlisted in
    ranking order, the draw stored and audited, all in one transaction; then everyone is told.
    `actor_id` None is the scheduled draw (`run_due`)."""
    now = now or utcnow()
    session = db.session.get(EventSession, session_id)
    if session is None:
        raise NotFound(_("No such session."))
    event = session.event
    refused = refusal(event, session, drawn=drawn(session_id), now=now,
                      applications=_applications(session_id))
    if refused:
        raise refused
    seed = seed or new_seed()
    _checked(seed, 0, [])
    record = LotteryDraw(session_id=session_id, seed=seed, algorithm=ALGORITHM, drawn_at=now,
                         drawn_by_id=actor_id, capacity=0, applicants=[], ranking=[], winners=0)
    db.session.add(record)
    try:
        # The first write: the UNIQUE session_id makes a second, concurrent draw wait here and
        # then fail. Everything below is read under that guard.
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise DrawRefused(Refusal.ALREADY_DRAWN,
                          _("This session has been drawn already: a draw runs only once.")) from None
    staged = _settle(record, event, session_id, actor_id)
    db.session.commit()
    for message in staged:
        outbox.dispatch(message)
    return record


def _settle(record: LotteryDraw, event: Event, session_id: int, actor_id: int | None) -> list:
    """Inside the draw's transaction: run the algorithm, give the places, rank the rest."""
    rows = db.session.execute(
        select(Registration.id, Registration.party_size)
        .where(Registration.session_id == session_id,
               Registration.status == RegistrationStatus.APPLIED)
        .order_by(Registration.created_at, Registration.id)
        .with_for_update()
    ).all()
    if not rows:
        _changed_under_us()
    applicants = [[r.id, r.party_size] for r in rows]
    capacity = max(db.session.scalar(
        select(EventSession.capacity - EventSession.places_taken)
        .where(EventSession.id == session_id)) or 0, 0)
    outcome = verify(record.seed, capacity, applicants)
    sizes = dict(rows)
    won, waiting = outcome.ranking[:outcome.winners], outcome.ranking[outcome.winners:]
    people = sum(sizes[i] for i in won)
    if people and not places.claim_places(session_id, people):
        _changed_under_us()
    _set_status(won, RegistrationStatus.CONFIRMED)
    _set_status(waiting, RegistrationStatus.WAITLISTED)
    record.capacity, record.applicants = capacity, applicants
    record.ranking, record.winners = outcome.ranking, outcome.winners
    audit.record("drew", actor_id=actor_id, event_id=event.id, session_id=session_id,
                 seed=record.seed, algorithm=ALGORITHM, capacity=capacity,
                 applications=len(applicants), winners=len(won), people=people,
                 waiting=len(waiting))
    return _stage_messages(won, waiting)


def _set_status(ids: list[int], status: RegistrationStatus) -> None:
    """Applied → `status`, only from applied: a count that differs means someone cancelled."""
    now = utcnow()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        changed = db.session.execute(
            update(Registration)
            .where(Registration.id.in_(chunk), Registration.status == RegistrationStatus.APPLIED)
            .values(status=status, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != len(chunk):
            _changed_under_us()


def _changed_under_us():
    db.session.rollback()
    raise DrawRefused(Refusal.CHANGED, _(
        "The places or the applications changed during the draw. Nothing was drawn: "
        "please try again."))


def _stage_messages(won: list[int], waiting: list[int]) -> list:
    """The results, added to the draw's transaction (sent by dispatch after the commit)."""
    found = {r.id: r for r in registrations(won + waiting)}
    staged = []
    try:
        for registration_id in won:
            r = found[registration_id]
            staged.append(messages.lottery_won(r, links.ticket_url(r.code), staged=True))
        for position, registration_id in enumerate(waiting, start=1):
            r = found[registration_id]
            staged.append(messages.lottery_waitlisted(r, position, links.ticket_url(r.code),
                                                    staged=True))
    except Exception:  # a message never undoes a draw: the ticket pages show the result
        log.exception("could not compose the lottery messages")
    return staged


def registrations(ids: list[int]) -> list[Registration]:
    found: list[Registration] = []
    for start in range(0, len(ids), _CHUNK):
        found += db.session.scalars(  # populate_existing: the statuses were just updated
            select(Registration).where(Registration.id.in_(ids[start:start + _CHUNK]))
            .execution_options(populate_existing=True))
    return found


def run_due(now: datetime | None = None) -> list[tuple[int, LotteryDraw | DrawRefused]]:
    """Draw every lottery session whose window has closed, that has not started, has applicants
    and no draw yet (cron runs `flask lottery run-due`). A refusal is reported, not raised."""
    now = now or utcnow()
    due = db.session.scalars(
        select(EventSession.id).join(Event, Event.id == EventSession.event_id)
        .where(Event.registration_mode == RegistrationMode.LOTTERY,
               Event.status == EventStatus.PUBLISHED,
               EventSession.starts_at > now,
               EventSession.registration_closes_at <= now,
               ~exists().where(LotteryDraw.session_id == EventSession.id),
               exists().where(Registration.session_id == EventSession.id,
                              Registration.status == RegistrationStatus.APPLIED))
        .order_by(EventSession.registration_closes_at, EventSession.id)
    ).all()
    results: list[tuple[int, LotteryDraw | DrawRefused]] = []
    for session_id in due:
        try:
            results.append((session_id, draw(session_id, now=now)))
        except DrawRefused as refused:
            results.append((session_id, refused))
    return results


# --- reading draws ---------------------------------------------------------------------------


def drawn(session_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(LotteryDraw.session_id == session_id))))


def draw_of(session_id: int) -> LotteryDraw | None:
    return db.session.scalar(select(LotteryDraw).where(LotteryDraw.session_id == session_id))


def _applications(session_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Registration)
        .where(Registration.session_id == session_id,
               Registration.status == RegistrationStatus.APPLIED)) or 0


def waitlist_order(session_id: int) -> list[int]:
    """Ids of the session's registrations still on the waiting list, in the draw's order; []
    before a draw. Promotions from a drawn session's waiting list must follow this order."""
    found = draw_of(session_id)
    if found is None:
        return []
    waiting = set(db.session.scalars(
        select(Registration.id).where(Registration.session_id == session_id,
                                      Registration.status == RegistrationStatus.WAITLISTED)))
    return [i for i in found.ranking[found.winners:] if i in waiting]


def published(found: LotteryDraw) -> dict:
    """What anyone may see and re-run: no names, no phones."""
    return {
        "event_id": found.session.event_id, "session_id": found.session_id,
        "algorithm": found.algorithm, "seed": found.seed, "capacity": found.capacity,
        "drawn_at": found.drawn_at.isoformat(), "applicants": found.applicants,
        "ranking": found.ranking, "winners": found.winners,
    }


def matches(found: LotteryDraw) -> bool:
    """Whether re-running the stored draw gives the stored ranking."""
    again = verify(found.seed, found.capacity, found.applicants)
    return found.algorithm == ALGORITHM and again == (found.ranking, found.winners)
