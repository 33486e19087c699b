"""The reminder the day before: the no-show rate is the number organisers of free events fight.

At 18:00 Shanghai time on the day before a session (Event.send_reminders, on by default), every
confirmed party with a mobile number gets one text: when, where, how many, the ticket, and a link
to give the places back ("can't come", the ticket's own cancel page, which passes them to the
waiting list). `flask --app wsgi notify reminders` runs this from cron every few minutes.

Sent once, whatever runs at the same time: each registration's reminder is claimed by a
conditional UPDATE (… SET reminder_sent_at WHERE reminder_sent_at IS NULL) in the transaction
that stores the message, so of two overlapping runs the second finds nothing left to claim (on
PostgreSQL it waits for the first's row lock, then sees the row already claimed).

A run that comes late (the server was down at 18:00) still reminds, up to an hour before the
session starts; after that a reminder would only be noise.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from ... import links
from ...extensions import db
from ...models import (
    Event,
    EventSession,
    EventStatus,
    NotificationKind,
    Registration,
    RegistrationStatus,
)
from ...timeutil import SHANGHAI, to_local, utcnow
from ..registrations.short_codes import spelled
from . import claims, outbox, templates

REMIND_AT = time(18, 0)  # Shanghai time, the day before
LAST_CALL = timedelta(hours=1)  # no reminder later than this before the start

REMINDER = templates.sms_template(
    "reminder", NotificationKind.REMINDER, "活动提醒",
    "{name}，提醒您：「{title}」将于{when}在{venue}举行，{people}人。入场请出示电子票：{ticket}"
    " 如不能参加，请点此释放名额：{cancel}",
    "活动前一天18:00（上海时间），发给报名成功、留有手机号的市民；可在活动设置中关闭。",
)

# 代报名: a citizen registered by phone may have no browser; the reminder repeats the short door
# code they say at the entrance.
REMINDER_BY_PHONE = templates.sms_template(
    "reminder_by_phone", NotificationKind.REMINDER, "活动提醒（含入场口令）",
    "{name}，提醒您：「{title}」将于{when}在{venue}举行，{people}人。入场口令：{door_code}，"
    "到场时告诉工作人员即可入场。如不能参加，请点此释放名额：{cancel}",
    "同“活动提醒”，发给电话代报名（热线）的市民，含入场口令。",
)


@dataclass
class ReminderRun:
    sent: int = 0  # reminders claimed and stored by this run


def reminder_time(starts_at: datetime) -> datetime:
    """When a session's reminder is due: 18:00 Shanghai time on the day before (UTC)."""
    day_before = to_local(starts_at).date() - timedelta(days=1)
    return datetime.combine(day_before, REMIND_AT, tzinfo=SHANGHAI).astimezone(UTC)


def send_due(now: datetime | None = None) -> ReminderRun:
    """Claim, store and send every reminder that is due at `now`. Idempotent."""
    now = now or utcnow()
    return ReminderRun(sent=claims.send_all(lambda: _claim_batch(now)))


def _due_sessions(now: datetime) -> list[int]:
    """Sessions whose reminder time has come and which start more than LAST_CALL from now.
    A session starts at most about 30 hours after its reminder time (18:00 the day before to
    23:59 on the day), so only that window is read, then each is checked exactly."""
    rows = db.session.execute(
        select(EventSession.id, EventSession.starts_at)
        .join(Event, Event.id == EventSession.event_id)
        .where(Event.status == EventStatus.PUBLISHED, Event.send_reminders.is_(True),
               EventSession.starts_at > now + LAST_CALL,
               EventSession.starts_at <= now + timedelta(hours=31))
    ).all()
    return [session_id for session_id, starts_at in rows if reminder_time(starts_at) <= now]


def _claim_batch(now: datetime) -> list[outbox.Staged]:
    sessions = _due_sessions(now)
    if not sessions:
        db.session.rollback()
        return []
    due = [Registration.status == RegistrationStatus.CONFIRMED,
           Registration.pass_id.is_(None),  # a series pass: reminded of its first session
           Registration.phone.is_not(None), Registration.reminder_sent_at.is_(None)]
    return claims.claim_batch(sessions, due, {"reminder_sent_at": now}, compose)


def compose(registration: Registration) -> templates.Draft:
    """The reminder of one registration."""
    ticket = links.ticket_url(registration.code)
    common = dict(name=templates.addressee(registration),
                  title=templates.short_title(registration.event.title),
                  when=templates.local_time(registration.session.starts_at),
                  venue=registration.event.venue, people=registration.party_size,
                  cancel=ticket + "/cancel")
    if registration.short_code:
        return templates.draft(REMINDER_BY_PHONE, registration.phone,
                               door_code=spelled(registration.short_code), **common)
    return templates.draft(REMINDER, registration.phone, ticket=ticket, **common)
