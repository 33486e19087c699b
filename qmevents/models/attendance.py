"""What happened at the door and after: admissions (签到) at the entrance and the stations of a
tour, walk-ins, the service tallies staff bump at a fair, and the audit log of who admitted,
declined, invited, promoted, drew, exported or undid what, and when."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .org import User, str_enum
from .types import UTCDateTime


class AdmissionKind(enum.StrEnum):
    ENTRY = "entry"  # people of a ticket let in at the entrance: counted in admitted_people
    REENTRY = "reentry"  # a ticket's party back in, where the event allows it: not counted again
    VISIT = "visit"  # a ticket's party at a station of a tour: once per ticket and station
    WALK_IN = "walk_in"  # people without a ticket let in at the entrance, named or not
    # People leaving through an exit (or a checkpoint counting both ways): a ticket's party, or
    # without a ticket ("1 person left"). Never changes admitted_people: it keeps "inside now".
    EXIT = "exit"


class Admission(db.Model):
    """One pass of people through a checkpoint. A ticket's people at the entrance are counted by
    Registration.admitted_people (a conditional UPDATE); this row says when, where and by whom."""

    __table_args__ = (
        CheckConstraint("people >= 1", name="people_positive"),
        # One visit per ticket per station: two phones at one station record it once.
        Index("uq_admission_visit", "registration_id", "checkpoint_id", unique=True,
              sqlite_where=text("kind = 'visit'"), postgresql_where=text("kind = 'visit'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    # No index on these two: every index is written on every scan, and the figures read by event.
    session_id: Mapped[int] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"))
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoint.id", ondelete="CASCADE"))
    # None for a walk-in: people without a ticket.
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AdmissionKind] = mapped_column(str_enum(AdmissionKind, "admission_kind"))
    people: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # A walk-in's name and mobile, when they gave them (personal data: purged with the rest).
    name: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(11))
    # Decided by the device from its ticket list without network, recorded when it synced;
    # `at` is then when the device scanned, not when the server heard of it.
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    by: Mapped[User | None] = relationship()


class ScanConflict(enum.StrEnum):
    """What the server found when a device's scan reached it after the device had decided."""

    # The party was already in through another device: counted once, the first by scanned_at
    # stands, and this scan is kept as the attempt, both devices named.
    DUPLICATE = "duplicate"
    # Let in offline, but the ticket or the event had been cancelled meanwhile.
    AFTER_CANCELLATION = "after_cancellation"
    # Let in offline, but the server refuses the ticket (unknown code, another session…).
    REFUSED = "refused"


class DoorScan(db.Model):
    """A scan a device sent with an id of its own (scan_id): recorded once whatever how often it
    arrives (a batch sent twice, two batches racing, an answer lost on the way), with the answer
    it got, which a repeat gets again. Every scan of the door page carries one."""

    __tablename__ = "door_scan"
    __table_args__ = (UniqueConstraint("by_id", "scan_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    scan_id: Mapped[str] = mapped_column(String(64))
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)  # by the device's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    checkpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkpoint.id", ondelete="CASCADE"))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    admission_id: Mapped[int | None] = mapped_column(
        ForeignKey("admission.id", ondelete="SET NULL"))
    result: Mapped[str] = mapped_column(String(20))
    conflict: Mapped[ScanConflict | None] = mapped_column(str_enum(ScanConflict, "scan_conflict"))
    # For a duplicate: the device (account) whose admission stands.
    other_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The answer as the API gave it: a repeat of the scan gets it again, word for word.
    answer: Mapped[dict] = mapped_column(JSON, default=dict)

    by: Mapped[User] = relationship(foreign_keys=[by_id])
    other_by: Mapped[User | None] = relationship(foreign_keys=[other_by_id])


class Tally(db.Model):
    """A service counted at the door, e.g. 血压测量 or 资料发放. `count` only ever changes by a
    conditional UPDATE count = count + n, so bumps from several phones are never lost."""

    __table_args__ = (
        UniqueConstraint("event_id", "name"),
        CheckConstraint("count >= 0", name="count_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    count: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="tallies")  # noqa: F821


class AuditEntry(db.Model):
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # None for what the system did by itself (a promotion after a cancellation, a scheduled draw).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40), index=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="joined")
