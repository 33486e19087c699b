"""Telling registrants that their event changed or was called off.

When an organiser moves a session (its start or end), or changes the venue or the address, every
party with an active registration of an affected session — a place, an offer, an application or
a waiting-list place — and a mobile number gets one text saying what changed, with the ticket
link. When the event is cancelled each of them is told that. The messages are stored in the same
transaction as the change (services.events), so a change is never saved without its messages or
told twice; they are sent after the commit.

`preview` answers, before anything is saved, how many would be told: the organiser sees the count
and confirms.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from ... import links
from ...extensions import db
from ...models import ENDED, Event, NotificationKind, Registration
from ...timeutil import to_local
from . import outbox, templates

CHANGED = templates.sms_template(
    "event_changed", NotificationKind.EVENT_CHANGED, "活动变更",
    "{name}，您报名的「{title}」有变更：{what}。请以最新安排为准，电子票：{ticket}",
    "主办方修改场次时间、活动地点或地址后立即发送，发给受影响场次中报名成功、候补和待审核的"
    "市民（留有手机号的），每次修改一条。",
)
CANCELLED = templates.sms_template(
    "event_cancelled", NotificationKind.EVENT_CANCELLED, "活动取消",
    "{name}，很抱歉，您报名的「{title}」{when}已取消，给您带来不便敬请谅解。详情：{ticket}",
    "主办方取消活动时立即发送，发给报名成功、候补和待审核的市民（留有手机号的）。",
)


@dataclass
class Before:
    """What registrants were told of an event, kept before an edit: when each session is, where."""

    venue: str
    address: str
    times: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    places: dict[int, str] = field(default_factory=dict)  # a session's own address ("": none)


def before(event: Event) -> Before:
    return Before(venue=event.venue, address=event.address,
                  times={s.id: (s.starts_at, s.ends_at) for s in event.sessions},
                  places={s.id: s.address or "" for s in event.sessions})


def what_changed(was: Before, venue: str, address: str,
                 times: dict[int, tuple[datetime, datetime]],
                 places: dict[int, str] | None = None) -> dict[int, str]:
    """{session id: what changed for its registrants, in words} for the sessions people know of;
    empty when nothing they were told changed. `places`: each session's own address, when
    sessions meet elsewhere than the event's address."""
    place = []
    if venue.strip() != was.venue:
        place.append(f"地点改为{venue.strip()}")
    address = (address or "").strip()
    told = {}
    for session_id, (starts, ends) in was.times.items():
        now = times.get(session_id)
        own_was = was.places.get(session_id, "")
        own = " ".join((places or {}).get(session_id, own_was).split())
        parts = list(place)
        if (own or address) != (own_was or was.address):
            parts.append(f"地址改为{own or address}")
        if now is not None and (_same(now[0], starts), _same(now[1], ends)) != (True, True):
            parts.insert(0, f"时间改为{_span(*now)}")
        if parts:
            told[session_id] = "，".join(parts)
    return told


def preview(event: Event, venue: str, address: str,
            times: dict[int, tuple[datetime, datetime]],
            places: dict[int, str] | None = None) -> int:
    """How many parties would be told if the event were saved like this."""
    changed = what_changed(before(event), venue, address, times, places)
    return _count(list(changed)) if changed else 0


def cancel_preview(event: Event) -> int:
    """How many parties would be told if the event were cancelled."""
    return _count([s.id for s in event.sessions])


def stage_changed(event: Event, was: Before) -> list[outbox.Staged]:
    """Inside the edit's transaction: one message per affected party. Sent by `dispatch`."""
    changed = what_changed(was, event.venue, event.address,
                           {s.id: (s.starts_at, s.ends_at) for s in event.sessions},
                           {s.id: s.address or "" for s in event.sessions})
    if not changed:
        return []
    return [_stage(CHANGED, r, what=changed[r.session_id]) for r in _told(list(changed))]


def stage_cancelled(event: Event) -> list[outbox.Staged]:
    """Inside the cancellation's transaction: one message per party that was coming."""
    return [_stage(CANCELLED, r, when=templates.local_time(r.session.starts_at)) for r in _told([s.id for s in event.sessions])]


def dispatch(staged: list[outbox.Staged]) -> None:
    for message in staged:
        outbox.dispatch(message)


def _told(session_ids: list[int]) -> list[Registration]:
    return list(db.session.scalars(_active(session_ids).order_by(Registration.id)))


def _count(session_ids: list[int]) -> int:
    return db.session.scalar(select(func.count()).select_from(
        _active(session_ids).subquery())) or 0


def _active(session_ids: list[int]):
    return select(Registration).where(Registration.session_id.in_(session_ids),
                                      Registration.status.not_in(ENDED),
                                      Registration.phone.is_not(None))


def _stage(template: templates.SmsTemplate, registration: Registration,
           **params: str) -> outbox.Staged:
    draft = templates.draft(
        template, registration.phone, name=templates.addressee(registration),
        title=templates.short_title(registration.event.title),
        ticket=links.ticket_url(registration.code), **params)
    return outbox.stage(*draft.fields(), registration.id, **draft.provider_fields())


def _span(starts: datetime, ends: datetime) -> str:
    start, end = to_local(starts), to_local(ends)
    if start.date() == end.date():
        return f"{start.month}月{start.day}日 {start:%H:%M}–{end:%H:%M}"
    return f"{start.month}月{start.day}日 {start:%H:%M}至{end.month}月{end.day}日 {end:%H:%M}"


def _same(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return to_local(a) == to_local(b)
