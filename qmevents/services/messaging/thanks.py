"""The thank-you after the event, with the link to its short satisfaction survey (满意度).

When a session has ended, every party of it that was actually let in (admitted people > 0, its
registration still confirmed) and left a mobile number gets one text: thanks for coming to the
event, and the survey's address (the ticket's page + "/survey", services.survey). Never to
no-shows, never to cancelled registrations, never about a draft or a cancelled event.
`flask --app wsgi notify thanks` runs this from cron every few minutes.

When: from the session's end until THANKS_WITHIN (3 days) after it, and only in the daytime
(config THANKS_HOURS, 9 to 21 by default: from 09:00 until 21:00 Shanghai time): a session ending
at 21:30 is thanked at 09:00 the next morning, nobody's phone rings at night. A server down for longer than three days thanks nobody
for that session: a thank-you a week late is noise.

Sent once, whatever runs at the same time: each registration's thank-you is claimed by a
conditional UPDATE (… SET thanks_sent_at WHERE thanks_sent_at IS NULL) in the transaction that
stores the message, exactly like services.messaging.reminders.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ... import links
from ...models import (
    Event,
    EventSession,
    EventStatus,
    NotificationKind,
    Registration,
    RegistrationStatus,
)
from ...timeutil import to_local, utcnow
from . import claims, outbox, templates

THANKS_WITHIN = timedelta(days=3)  # after the session's end; later, no thank-you

THANK_YOU = templates.sms_template(
    "thank_you", NotificationKind.THANK_YOU, "感谢参加",
    "{name}，感谢您参加「{title}」！请花一分钟为本次活动评分，您的意见将帮助我们做得更好：{survey}",
    "场次结束后（3天内，9:00–21:00），发给实际入场、留有手机号的市民，附满意度问卷链接；"
    "未到场和已取消的不发。",
)


@dataclass
class ThanksRun:
    sent: int = 0  # thank-yous claimed and stored by this run


def daytime(now: datetime) -> bool:
    """Whether `now` is within the hours a thank-you may be sent: THANKS_HOURS (from, until),
    whole hours of Shanghai time."""
    first, last = current_app.config["THANKS_HOURS"]
    return int(first) <= to_local(now).hour < int(last)


def send_due(now: datetime | None = None) -> ThanksRun:
    """Claim, store and send every thank-you that is due at `now`. Idempotent."""
    now = now or utcnow()
    if not daytime(now):
        return ThanksRun()
    return ThanksRun(sent=claims.send_all(lambda: _claim_batch(now)))


def _due() -> list:
    """Who is due: the conditions of a thank-you, each checked again by the claiming UPDATE's
    WHERE except those that cannot change back (a session's end, the event's status)."""
    return [
        Registration.status == RegistrationStatus.CONFIRMED,
        Registration.pass_id.is_(None),  # a series pass: thanked once, for its first session
        Registration.admitted_people > 0,
        Registration.phone.is_not(None),
        Registration.thanks_sent_at.is_(None),
    ]


def _claim_batch(now: datetime) -> list[outbox.Staged]:
    sessions = select(EventSession.id).join(Event, Event.id == EventSession.event_id).where(
        Event.status == EventStatus.PUBLISHED,
        EventSession.ends_at <= now, EventSession.ends_at > now - THANKS_WITHIN)
    return claims.claim_batch(sessions, _due(), {"thanks_sent_at": now}, compose)


def compose(registration: Registration) -> outbox.Draft:
    """The thank-you of one registration."""
    return templates.draft(
        THANK_YOU, registration.phone,
        name=templates.addressee(registration),
        title=templates.short_title(registration.event.title),
        survey=links.ticket_url(registration.code) + "/survey",
    )
