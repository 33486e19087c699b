"""Personal data kept no longer than needed (PIPL's minimal keeping): PERSONAL_DATA_DAYS after an
event's last session ends, `flask purge` anonymises what could name a person and keeps the
figures.

Gone: registrants' names (a neutral placeholder: the column is required) and mobiles, every answer
(ID numbers among them), the satisfaction survey's comments (its stars and "would come again"
stay, as figures), walk-ins' names and mobiles, the messages sent about those registrations,
the one-time codes and their messages for those mobiles, and free text in the event's audit
entries (an organiser's note to an applicant, an export's stated purpose).
Kept: party sizes, statuses, consent times, ticket codes, people let in, every admission (people,
time, checkpoint, staff), tallies, lottery draws: everything services.door.desk and
services.reporting.reports count.

Bounded memory and short locks: registrations, walk-ins and audit entries go in batches of ids,
one transaction per batch. Idempotent: a finished event is stamped (Event.personal_data_purged_at)
and skipped afterwards; an event interrupted half-way is simply done again.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, delete, func, or_, select, update

from ..extensions import db
from ..models import (
    Admission,
    Answer,
    AuditEntry,
    Event,
    EventSession,
    Notification,
    NotificationKind,
    OneTimeCode,
    Registration,
    SurveyResponse,
)
from ..timeutil import utcnow
from . import audit

ANONYMOUS = "匿名"  # a purged registrant's name: shown in lists as it is, in any language
REMOVED = "—"  # a purged free-text value in an audit entry's detail
BATCH = 500
# The texts that carried a one-time code: to find one's tickets, and to register.
CODE_KINDS = (NotificationKind.ONE_TIME_CODE, NotificationKind.REGISTRATION_CODE)
# Keys of audit details that hold free text a person typed, which may name someone.
FREE_TEXT_KEYS = frozenset({"message", "purpose", "name", "phone", "recipient", "note", "query"})


@dataclass
class Purged:
    """What one event lost (or, in a dry run, would lose)."""

    event_id: int
    title: str
    ended_at: datetime
    registrations: int = 0  # registrations whose name or mobile was removed
    answers: int = 0
    comments: int = 0  # survey comments cleared
    admissions: int = 0  # walk-ins whose name or mobile was removed
    messages: int = 0
    audit_entries: int = 0


@dataclass
class Summary:
    days: int
    cutoff: datetime
    dry_run: bool
    events: list[Purged] = field(default_factory=list)
    codes: int = 0  # one-time codes (and their messages) older than the cutoff

    def total(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.events)


def purge(days: int | None = None, *, dry_run: bool = False, now: datetime | None = None,
          batch: int = BATCH) -> Summary:
    """Anonymise every event whose last session ended more than `days` (default
    PERSONAL_DATA_DAYS) days ago and is not purged yet. `dry_run` counts and changes nothing."""
    days = int(current_app.config["PERSONAL_DATA_DAYS"] if days is None else days)
    if days < 0:
        raise ValueError("days must be 0 or more")
    now = now or utcnow()
    summary = Summary(days=days, cutoff=now - timedelta(days=days), dry_run=dry_run)
    for event_id, title, ended_at in due_events(summary.cutoff):
        found = Purged(event_id, title, ended_at)
        if dry_run:
            _count(found, now)
        else:
            _purge_event(found, now, days, batch)
        summary.events.append(found)
    summary.codes = _old_codes(summary.cutoff, dry_run)
    return summary


def due_events(cutoff: datetime) -> list[tuple[int, str, datetime]]:
    """(id, title, end of the last session) of the events over by `cutoff` and not purged."""
    ended = func.max(EventSession.ends_at)
    return [tuple(row) for row in db.session.execute(
        select(Event.id, Event.title, ended.label("ended_at"))
        .join(EventSession, EventSession.event_id == Event.id)
        .where(Event.personal_data_purged_at.is_(None))
        .group_by(Event.id, Event.title)
        .having(ended < cutoff)
        .order_by(Event.id)
    )]


# --- one event ---------------------------------------------------------------------------------


def _purge_event(found: Purged, now: datetime, days: int, batch: int) -> None:
    registrations = select(Registration.id).where(Registration.event_id == found.event_id)
    for ids in _batches(registrations, Registration.id, batch):
        _registrations(found, ids, now)
        db.session.commit()
    walk_ins = select(Admission.id).where(
        Admission.event_id == found.event_id,
        or_(Admission.name.is_not(None), Admission.phone.is_not(None)))
    for ids in _batches(walk_ins, Admission.id, batch):
        found.admissions += db.session.execute(
            update(Admission).where(Admission.id.in_(ids)).values(name=None, phone=None)
            .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
    entries = select(AuditEntry.id).where(AuditEntry.event_id == found.event_id)
    for ids in _batches(entries, AuditEntry.id, batch):
        found.audit_entries += _scrub_audit(ids)
        db.session.commit()
    db.session.execute(
        update(Event).where(Event.id == found.event_id)
        .values(personal_data_purged_at=now, updated_at=Event.updated_at)
        .execution_options(synchronize_session=False))
    audit.record("purge", event_id=found.event_id, days=days,
                 registrations=found.registrations, answers=found.answers,
                 comments=found.comments, admissions=found.admissions, messages=found.messages)
    db.session.commit()


def _registrations(found: Purged, ids: list[int], now: datetime) -> None:
    """One batch: names, mobiles, answers, messages, and the codes of those mobiles."""
    phones = list(db.session.scalars(
        select(Registration.phone).distinct()
        .where(Registration.id.in_(ids), Registration.phone.is_not(None))))
    found.registrations += db.session.execute(
        update(Registration)
        .where(Registration.id.in_(ids),
               or_(Registration.name != ANONYMOUS, Registration.phone.is_not(None)))
        .values(name=ANONYMOUS, phone=None, updated_at=Registration.updated_at)
        .execution_options(synchronize_session=False)).rowcount
    found.answers += db.session.execute(
        delete(Answer).where(Answer.registration_id.in_(ids))
        .execution_options(synchronize_session=False)).rowcount
    found.comments += db.session.execute(
        update(SurveyResponse)
        .where(SurveyResponse.registration_id.in_(ids), SurveyResponse.comment != "")
        .values(comment="")
        .execution_options(synchronize_session=False)).rowcount
    found.messages += db.session.execute(
        delete(Notification).where(Notification.registration_id.in_(ids))
        .execution_options(synchronize_session=False)).rowcount
    if phones:  # a code still live is in use right now, for another event: it expires soon
        found.messages += _forget_codes(
            (OneTimeCode.phone.in_(phones), OneTimeCode.expires_at <= now),
            (Notification.recipient.in_(phones), Notification.created_at <= now - _code_life()))


def _scrub_audit(ids: list[int]) -> int:
    """Free text in the details of these entries replaced by REMOVED; how many changed."""
    changed = 0
    for entry_id, detail in db.session.execute(
            select(AuditEntry.id, AuditEntry.detail).where(AuditEntry.id.in_(ids))):
        personal = _free_text(detail)
        if personal:
            scrubbed = {k: (REMOVED if k in personal else v) for k, v in detail.items()}
            db.session.execute(update(AuditEntry).where(AuditEntry.id == entry_id)
                               .values(detail=scrubbed)
                               .execution_options(synchronize_session=False))
            changed += 1
    return changed


def _free_text(detail) -> set[str]:
    """The keys of an audit detail that still hold free text."""
    if not isinstance(detail, dict):
        return set()
    return {k for k, v in detail.items() if k in FREE_TEXT_KEYS and v not in (None, "", REMOVED)}


def _forget_codes(codes_where: tuple, messages_where: tuple) -> int:
    """Delete one-time codes and the messages that carried them; the messages' count."""
    db.session.execute(delete(OneTimeCode).where(*codes_where)
                       .execution_options(synchronize_session=False))
    return db.session.execute(
        delete(Notification)
        .where(Notification.kind.in_(CODE_KINDS),
               Notification.registration_id.is_(None), *messages_where)
        .execution_options(synchronize_session=False)).rowcount


def _code_life() -> timedelta:
    return timedelta(seconds=int(current_app.config["OTP_TTL_SECONDS"]))


def _old_codes(cutoff: datetime, dry_run: bool) -> int:
    """One-time codes older than the cutoff, whoever asked (a phone with no registration too);
    their messages go with them. Codes live minutes: an old one is no use to anyone."""
    old = OneTimeCode.created_at < cutoff
    count = db.session.scalar(select(func.count(OneTimeCode.id)).where(old)) or 0
    if not dry_run:
        _forget_codes((old,), (Notification.created_at < cutoff,))
        db.session.commit()
    return int(count)


def _batches(query: Select, key, size: int) -> Iterator[list[int]]:
    """The ids `query` selects, `size` at a time in id order (keyset: no OFFSET, and rows the
    previous batch changed are not read twice)."""
    last = 0
    while True:
        ids = list(db.session.scalars(query.where(key > last).order_by(key).limit(size)))
        if not ids:
            return
        yield ids
        last = ids[-1]


# --- a dry run ---------------------------------------------------------------------------------


def _count(found: Purged, now: datetime) -> None:
    """What `_purge_event` would change, counted in SQL."""
    event_id = found.event_id
    of_event = select(Registration.id).where(Registration.event_id == event_id)
    phones = select(Registration.phone).where(Registration.event_id == event_id,
                                              Registration.phone.is_not(None))
    found.registrations = _scalar(
        select(func.count(Registration.id))
        .where(Registration.event_id == event_id,
               or_(Registration.name != ANONYMOUS, Registration.phone.is_not(None))))
    found.answers = _scalar(select(func.count(Answer.id))
                            .where(Answer.registration_id.in_(of_event)))
    found.comments = _scalar(select(func.count(SurveyResponse.id))
                             .where(SurveyResponse.registration_id.in_(of_event),
                                    SurveyResponse.comment != ""))
    found.messages = _scalar(select(func.count(Notification.id))
                             .where(Notification.registration_id.in_(of_event))) + _scalar(
        select(func.count(Notification.id))
        .where(Notification.kind.in_(CODE_KINDS),
               Notification.registration_id.is_(None), Notification.recipient.in_(phones),
               Notification.created_at <= now - _code_life()))
    found.admissions = _scalar(
        select(func.count(Admission.id))
        .where(Admission.event_id == event_id,
               or_(Admission.name.is_not(None), Admission.phone.is_not(None))))
    entries = select(AuditEntry.id).where(AuditEntry.event_id == event_id)
    for ids in _batches(entries, AuditEntry.id, BATCH):
        found.audit_entries += sum(1 for detail in db.session.scalars(
            select(AuditEntry.detail).where(AuditEntry.id.in_(ids))) if _free_text(detail))


def _scalar(query: Select) -> int:
    return int(db.session.scalar(query) or 0)
