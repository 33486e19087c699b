"""Fingerprints of what the public pages show, read in one query: a cached page is shown only while
the fingerprints it was rendered under still hold (public/pagecache.py).

- **An event's fingerprint** changes with anything its page and its line in the list show that can
  change: its status (published, cancelled, back to draft), any save of the event (update_event
  sets `updated_at`, sessions and stations included), and for each session still to come its
  capacity, places taken and how often they moved (`places_moves` only goes up: full, a place
  given back and taken again is a change, not "the same"), times, and which side of its
  registration window, start and end "now" is on. So a session that fills, a window that opens
  or closes, a cancellation each change it, and no fingerprint ever comes back to an earlier one.
- **The catalogue's fingerprint** changes with which events the list holds and in what order:
  the events with a session to come, their status and saves, their sessions' times. Places taken
  are left out: they change every second at an opening, and each listed event's own fingerprint
  carries them.

Drafts are not read: a published event taken back to draft drops out, which changes both.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Event, EventSession, EventStatus
from ..timeutil import utcnow


@dataclass(frozen=True)
class Fingerprints:
    catalogue: str
    events: dict[int, str]

    def of(self, event_ids: tuple[int, ...]) -> tuple[str | None, ...]:
        """The fingerprints of these events; None for one with no session to come (or a draft)."""
        return tuple(self.events.get(event_id) for event_id in event_ids)


_SESSIONS_TO_COME = (
    select(Event.id, Event.status, Event.updated_at, EventSession.id, EventSession.capacity,
           EventSession.places_taken, EventSession.places_moves, EventSession.starts_at,
           EventSession.ends_at, EventSession.registration_opens_at,
           EventSession.registration_closes_at)
    .join(EventSession, EventSession.event_id == Event.id)
    .where(Event.status != EventStatus.DRAFT)
    .order_by(Event.id, EventSession.id)
)


def fingerprints(event_ids: tuple[int, ...] | None = None,
                 now: datetime | None = None) -> Fingerprints:
    """Every event's, or only these events' (then the catalogue's is not read: "")."""
    now = now or utcnow()
    events: dict[int, list] = {}
    listed = []
    query = _SESSIONS_TO_COME.where(EventSession.ends_at > now)
    if event_ids is not None:
        query = query.where(Event.id.in_(event_ids))
    for (event_id, status, saved, session_id, capacity, taken, moves, starts, ends, opens,
         closes) in db.session.execute(query):
        times = (starts, ends, opens, closes)
        sides = tuple(t is not None and now >= t for t in (starts, opens, closes))
        events.setdefault(event_id, [status, saved]).append(
            (session_id, capacity, taken, moves, times, sides))
        listed.append((event_id, status, saved, session_id, times))
    return Fingerprints(catalogue=_digest(listed) if event_ids is None else "",
                        events={k: _digest(v) for k, v in events.items()})


def _digest(values: list) -> str:
    """The same in every process (Python's hash() of text is not), for a cache they share."""
    return hashlib.blake2b(repr(values).encode(), digest_size=12).hexdigest()
