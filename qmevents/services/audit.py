"""The audit log: who admitted, declined, invited, promoted, drew, exported or undid what, and
when. Entries are added to the caller's transaction, so an action and its record commit together."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import AuditEntry


def record(action: str, *, actor_id: int | None = None, event_id: int | None = None,
           registration_id: int | None = None, **detail) -> AuditEntry:
    """Add an entry to the current transaction (the caller commits). `actor_id` None means the
    system acted by itself, e.g. a promotion from the waiting list after a cancellation."""
    entry = AuditEntry(action=action, actor_id=actor_id, event_id=event_id,
                       registration_id=registration_id, detail=detail)
    db.session.add(entry)
    return entry


def entries(event_id: int, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
    """An event's log, newest first."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.event_id == event_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    ))
