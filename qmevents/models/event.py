"""What is offered: events, their sessions (场次) and their checkpoints (stations of a tour)."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .org import Organisation, str_enum
from .reference import District
from .types import UTCDateTime


class EventKind(enum.StrEnum):
    OPEN_DAY = "open_day"  # 质量开放日
    FAMILY_TOUR = "family_tour"  # 家庭探寻之旅
    CONSULTATION = "consultation"  # 宣传咨询活动
    LECTURE = "lecture"  # 讲座 / 巡讲
    FORUM = "forum"
    DEBATE = "debate"
    OTHER = "other"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RegistrationMode(enum.StrEnum):
    FCFS = "fcfs"  # first come, first served
    WAITLIST = "waitlist"
    APPROVAL = "approval"
    LOTTERY = "lottery"  # 摇号


class Event(db.Model):
    __table_args__ = (
        CheckConstraint("max_party_size >= 1 AND max_party_size <= 20", name="party_size"),
        CheckConstraint("admission_opens_minutes >= 0 AND admission_opens_minutes <= 1440",
                        name="admission_window"),
        CheckConstraint("safety_cap IS NULL OR safety_cap >= 1", name="safety_cap_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, "event_kind"))
    host: Mapped[str] = mapped_column(String(120), default="")
    venue: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[EventStatus] = mapped_column(
        str_enum(EventStatus, "event_status"), default=EventStatus.DRAFT, index=True
    )
    max_party_size: Mapped[int] = mapped_column(Integer, default=4)
    registration_mode: Mapped[RegistrationMode] = mapped_column(
        str_enum(RegistrationMode, "registration_mode"), default=RegistrationMode.FCFS
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether a ticket already let in may pass the entrance again (recorded, not counted twice).
    allow_reentry: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When `flask purge` anonymised its registrants and walk-ins (services.purge); None: not yet.
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A place is final only for a phone that proved, with a code sent to it, that the registrant
    # holds it (services.registrations.register). Off: registering takes the number as typed.
    verify_phone: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The door admits a session's tickets from this many minutes before it starts
    # (services.door.checkin); earlier, or on another day, only when staff deliberately override.
    admission_opens_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    # A reminder by text the day before, at 18:00 Shanghai time (`flask notify reminders`).
    send_reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # 最大承载量 of the venue: people inside at once, whatever their session (services.door.
    # inside): the door warns at 90% and refuses at 100% unless staff override. None: no cap.
    safety_cap: Mapped[int | None] = mapped_column(Integer)
    # 系列通票: citizens may register once for several sessions (a lecture series), first come.
    series_pass: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    district: Mapped[District] = relationship(lazy="joined")
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", order_by="EventSession.starts_at", cascade="all, delete-orphan"
    )
    checkpoints: Mapped[list[Checkpoint]] = relationship(
        back_populates="event", order_by="Checkpoint.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(  # noqa: F821
        back_populates="event", order_by="Question.position", cascade="all, delete-orphan"
    )
    tallies: Mapped[list[Tally]] = relationship(  # noqa: F821
        back_populates="event", order_by="Tally.position", cascade="all, delete-orphan"
    )

    def plain_fields(self) -> dict[str, Any]:
        """The event's own settings as plain values (enums by value, the district by name): what
        the API shows of it and what the organiser's edit form starts with."""
        return {
            "title": self.title, "kind": self.kind.value, "district": self.district.name,
            "venue": self.venue, "address": self.address, "host": self.host,
            "description": self.description, "max_party_size": self.max_party_size,
            "registration_mode": self.registration_mode.value, "allow_reentry": self.allow_reentry,
            "verify_phone": self.verify_phone, "send_reminders": self.send_reminders,
            "admission_opens_minutes": self.admission_opens_minutes,
            "safety_cap": self.safety_cap, "series_pass": self.series_pass,
        }

    @property
    def entrance(self) -> Checkpoint | None:
        return self.checkpoints[0] if self.checkpoints else None

    @property
    def is_published(self) -> bool:
        return self.status == EventStatus.PUBLISHED

    @property
    def places_left(self) -> int:
        return sum(s.places_left for s in self.sessions)

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title}>"


class EventSession(db.Model):
    """One 场次: a time slot with its own capacity, counted in people, and registration window."""

    __tablename__ = "event_session"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("places_taken >= 0 AND places_taken <= capacity", name="not_oversold"),
        CheckConstraint("safety_cap IS NULL OR safety_cap >= 1", name="safety_cap_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(60), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    # People holding a place. Only ever changed by a conditional UPDATE in services.
    places_taken: Mapped[int] = mapped_column(Integer, default=0)
    # Counts every move of places_taken, and only goes up: the page cache tells "full, a place
    # given back and taken again" from "unchanged" by it (services/catalogue.py).
    places_moves: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # None: open from publication / until the session starts.
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 最大承载量 of this session: its people inside at once (as Event.safety_cap). None: no cap.
    safety_cap: Mapped[int | None] = mapped_column(Integer)
    # Where this session meets, when not at the event's address (a series in several places);
    # "" means the event's. `location`: optional "lat,lng" (GCJ-02, as Chinese maps use).
    address: Mapped[str] = mapped_column(String(255), default="", server_default="")
    location: Mapped[str] = mapped_column(String(40), default="", server_default="")

    event: Mapped[Event] = relationship(back_populates="sessions")

    @property
    def where(self) -> str:
        """The address people go to for this session."""
        return self.address or self.event.address

    @property
    def places_left(self) -> int:
        return max(self.capacity - (self.places_taken or 0), 0)

    @property
    def closes_at(self) -> datetime:
        return self.registration_closes_at or self.starts_at

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        opens = self.registration_opens_at
        return (opens is None or opens <= now) and now < self.closes_at

    def __repr__(self) -> str:
        return f"<Session {self.id} of event {self.event_id} at {self.starts_at}>"


class CheckpointDirection(enum.StrEnum):
    """Which way people pass a checkpoint: in (the entrance, a station), out (an exit), or both
    (a gate whose staff switch between admitting and counting people leaving)."""

    IN = "in"
    OUT = "out"
    BOTH = "both"


class Checkpoint(db.Model):
    """An ordered station; position 0 is the entrance, which every event has. An exit (OUT), or a
    checkpoint counting both ways, keeps "inside now" (services.door.inside)."""

    __table_args__ = (UniqueConstraint("event_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    direction: Mapped[CheckpointDirection] = mapped_column(
        str_enum(CheckpointDirection, "checkpoint_direction"), default=CheckpointDirection.IN,
        server_default=CheckpointDirection.IN.value)
    # A tour's station: where it is and when it is open ("09:00-16:00"), shown to citizens.
    address: Mapped[str] = mapped_column(String(255), default="", server_default="")
    hours: Mapped[str] = mapped_column(String(60), default="", server_default="")

    event: Mapped[Event] = relationship(back_populates="checkpoints")

    @property
    def is_entrance(self) -> bool:
        return self.position == 0
