"""Messages an organiser writes to an event's registrants (the composer): "the bus leaves from
the north gate", "bring your ID card".

The text leaves from the government sender's number, so what an organiser may put in it is
narrow: at most MAX_TEXT characters of their own words, no web address (the only link is the
citizen's own ticket, added by us: a message that could carry any link would be a phishing
kit with an official signature), no control characters. It is wrapped in a fixed template that
names the event and the organiser, so a citizen always sees who speaks.

Who receives it: the parties with a mobile number in the groups the organiser picks, each
counted before sending (confirmed: coming, not in yet; waiting: on the waiting list or offered
a place; admitted: came in; no_show: confirmed, the session over, nobody came), optionally one
session. One message per party, staged in the transaction that records the Broadcast and its
audit entry, sent after it. At most BROADCASTS_PER_DAY per event in 24 hours, counted under a
lock on the event's row so that two organisers pressing send at once cannot pass the limit.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from ... import links
from ...extensions import db
from ...ids import is_row_id
from ...models import (
    Broadcast,
    Event,
    EventSession,
    NotificationKind,
    Registration,
    RegistrationStatus,
    User,
)
from ...timeutil import utcnow
from .. import audit
from ..errors import ValidationFailed
from ..locking import lock_row
from . import outbox, templates

MAX_TEXT = 150  # characters of the organiser's own words
AUDIENCES = ("confirmed", "waiting", "admitted", "no_show")

ORGANISER_MESSAGE = templates.sms_template(
    "organiser_message", NotificationKind.ORGANISER_MESSAGE, "主办方通知",
    "{name}，「{title}」主办方{organiser}通知：{text} 电子票：{ticket}",
    "主办方在“给报名者发消息”中撰写并确认发送时，发给其选择的报名者（报名成功、候补、已入场、"
    "未到场，留有手机号的）；每个活动24小时内最多3次。",
)

# A web address in any spelling a phone would still open or a reader would still type: a dot
# (or 。／．) between letters, a scheme, www, an IP address, a Chinese top-level domain.
_LINK = re.compile(
    r"(https?:|www\.|://|[a-z0-9-]\s*\.\s*[a-z]{2,}|\d{1,3}(\.\d{1,3}){3}"
    r"|[a-z0-9-]\.(中国|公司|网络|在线|中文网))", re.IGNORECASE)


def _invisible(text: str) -> bool:
    """Control and format characters (zero-width spaces, direction marks…): none is needed in
    a text message, and each can hide a link from a filter or a reader."""
    return any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in text)


@dataclass(frozen=True)
class Composed:
    text: str
    audience: tuple[str, ...]
    session_id: int | None


def _group(name: str, now):
    """The rows of one recipient group, as a WHERE clause."""
    confirmed = Registration.status == RegistrationStatus.CONFIRMED
    over = EventSession.ends_at <= now
    return {
        "confirmed": and_(confirmed, Registration.admitted_people == 0, ~over),
        "waiting": Registration.status.in_((RegistrationStatus.WAITLISTED,
                                            RegistrationStatus.OFFERED)),
        "admitted": and_(confirmed, Registration.admitted_people > 0),
        "no_show": and_(confirmed, Registration.admitted_people == 0, over),
    }[name]


def _recipients(event: Event, audience: tuple[str, ...], session_id: int | None):
    now = utcnow()
    query = (select(Registration).join(EventSession, EventSession.id == Registration.session_id)
             .where(Registration.event_id == event.id, Registration.phone.is_not(None),
                    or_(*[_group(name, now) for name in audience])))
    if session_id is not None:
        query = query.where(Registration.session_id == session_id)
    return query


def counts(event: Event, session_id: int | None = None) -> dict[str, int]:
    """How many parties with a mobile number each group holds (each party in one group)."""
    return {name: db.session.scalar(select(func.count()).select_from(
        _recipients(event, (name,), session_id).subquery())) or 0 for name in AUDIENCES}


def compose(event: Event, text: object, audience: object, session_id: object) -> Composed:
    """What the organiser typed and picked, checked. ValidationFailed names each problem."""
    errors: dict[str, str] = {}
    text = " ".join(str(text or "").split())
    # Full-width letters and dots (ｗｗｗ．ｅｘａｍｐｌｅ．ｃｎ, example。cn) are links too.
    plain = unicodedata.normalize("NFKC", text).replace("。", ".")
    if not text:
        errors["text"] = _("Write the message.")
    elif len(text) > MAX_TEXT:
        errors["text"] = _("At most %(n)d characters.", n=MAX_TEXT)
    elif _invisible(text):
        errors["text"] = _("The message holds characters that cannot be sent.")
    elif _LINK.search(plain):
        errors["text"] = _("A message may not contain a web address: each citizen's own ticket "
                           "link is added to it.")
    chosen = tuple(a for a in AUDIENCES if a in (audience or ()))
    if not chosen:
        errors["audience"] = _("Choose who receives it.")
    session = None
    if session_id not in (None, ""):
        try:
            session = int(str(session_id))
        except ValueError:
            session = None
        if session is None or not is_row_id(session) or session not in {
                s.id for s in event.sessions}:
            errors["session_id"] = _("Choose one of this event's sessions.")
    if errors:
        raise ValidationFailed(errors)
    return Composed(text, chosen, session)


def preview(event: Event, composed: Composed) -> tuple[str, int]:
    """The text one citizen would get (with a sample name and ticket link) and how many would."""
    sample = templates.draft(ORGANISER_MESSAGE, "", **_params(event, composed, "张先生",
                                                             links.ticket_url("ABCD" * 5)))
    total = db.session.scalar(select(func.count()).select_from(
        _recipients(event, composed.audience, composed.session_id).subquery())) or 0
    return sample.body, total


def _params(event: Event, composed: Composed, name: str, ticket: str) -> dict[str, str]:
    return dict(name=name, title=templates.short_title(event.title),
                organiser=event.organisation.name, text=composed.text, ticket=ticket)


def sent_recently(event_id: int) -> int:
    since = utcnow() - timedelta(hours=24)
    return db.session.scalar(select(func.count(Broadcast.id)).where(
        Broadcast.event_id == event_id, Broadcast.created_at > since)) or 0


def send(event: Event, composed: Composed, actor: User) -> Broadcast:
    """Record the broadcast and stage one message per recipient, in one transaction; then send.
    Refused beyond BROADCASTS_PER_DAY in 24 hours for the event."""
    lock_row(Event, event.id)
    limit = int(current_app.config["BROADCASTS_PER_DAY"])
    if sent_recently(event.id) >= limit:
        db.session.rollback()
        raise ValidationFailed({"text": _(
            "This event has had %(n)d messages in the last 24 hours: no more until tomorrow.",
            n=limit)})
    rows = list(db.session.scalars(_recipients(event, composed.audience, composed.session_id)
                                   .order_by(Registration.id)))
    staged = []
    for registration in rows:
        draft = templates.draft(ORGANISER_MESSAGE, registration.phone, **_params(
            event, composed, templates.addressee(registration),
            links.ticket_url(registration.code)))
        staged.append(outbox.stage(*draft.fields(), registration.id, **draft.provider_fields()))
    broadcast = Broadcast(event_id=event.id, session_id=composed.session_id,
                          sent_by_id=actor.id, audience=list(composed.audience),
                          body=composed.text, recipients=len(rows))
    db.session.add(broadcast)
    audit.record("message_sent", actor_id=actor.id, event_id=event.id,
                 audience=list(composed.audience), recipients=len(rows), text=composed.text)
    db.session.commit()
    for message in staged:
        outbox.dispatch(message)
    return broadcast


def history(event_id: int) -> list[Broadcast]:
    return list(db.session.scalars(select(Broadcast).where(Broadcast.event_id == event_id)
                                   .order_by(Broadcast.created_at.desc()).limit(50)))
