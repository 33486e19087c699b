"""Who is coming: a registration is one party (a family registers together), with its answers to
the event's own questions."""
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
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .event import Event, EventSession
from .org import str_enum
from .types import UTCDateTime


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"  # holds its places
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # promoted from the waiting list, holds places until its deadline
    APPLIED = "applied"  # approval or lottery mode, waiting for a decision
    DECLINED = "declined"
    NOT_SELECTED = "not_selected"
    CANCELLED = "cancelled"


# Statuses that hold places in EventSession.places_taken.
HOLDS_PLACES = (RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED)
# Statuses after which the same phone may register again for the session.
ENDED = (RegistrationStatus.CANCELLED, RegistrationStatus.DECLINED, RegistrationStatus.NOT_SELECTED)
_ENDED_SQL = "status NOT IN ('cancelled', 'declined', 'not_selected')"


class QuestionKind(enum.StrEnum):
    TEXT = "text"
    SINGLE = "single"  # one of the options
    MULTIPLE = "multiple"  # any of the options
    NUMBER = "number"
    ID_CARD = "id_card"  # 居民身份证号码, checked with its checksum


class Question(db.Model):
    """A question an organiser asks everyone who registers for an event."""

    __table_args__ = (UniqueConstraint("event_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "question_kind"))
    label: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    # Choices for single/multiple, one per line.
    options: Mapped[str] = mapped_column(Text, default="")
    # The answer is shown at the door with the ticket's scan (a factory's real-name entry: the
    # ID number's last four characters), and nowhere else the door reaches.
    show_at_door: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    event: Mapped[Event] = relationship(back_populates="questions")

    @property
    def choices(self) -> list[str]:
        return [line.strip() for line in self.options.splitlines() if line.strip()]


class Registration(db.Model):
    __table_args__ = (
        CheckConstraint("party_size >= 1", name="party_size_positive"),
        # One active registration per phone number per session: the database is the truth.
        Index(
            "uq_registration_active_phone",
            "session_id",
            "phone",
            unique=True,
            sqlite_where=text(_ENDED_SQL),
            postgresql_where=text(_ENDED_SQL),
        ),
        # A short door code (6 digits and a check letter) is unique within its event only: it
        # admits at that event's door and opens nothing else.
        UniqueConstraint("event_id", "short_code", name="uq_registration_event_short_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("event_session.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(11), index=True)
    party_size: Mapped[int] = mapped_column(Integer)
    status: Mapped[RegistrationStatus] = mapped_column(
        str_enum(RegistrationStatus, "registration_status"), index=True
    )
    source: Mapped[str] = mapped_column(String(10), default="web")  # web, api, invite, hotline
    # 入场口令: for a citizen registered by phone (代报名), read aloud and typed at the door.
    short_code: Mapped[str | None] = mapped_column(String(8))
    # 系列通票: a member registration (one per further session of a series pass) points to the
    # pass's own registration, whose code the citizen holds; the pass itself has None.
    pass_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A place offered from the waiting list is held until then, and passes on after it.
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # People of the party let in at the entrance so far. Changed only by services.door.checkin's
    # conditional UPDATE (… WHERE admitted_people + n <= party_size), whose row count decides.
    admitted_people: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the reminder and the thank-you were claimed for sending: each set once, by a
    # conditional UPDATE (… WHERE reminder_sent_at IS NULL), so overlapping cron runs send one.
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    thanks_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    session: Mapped[EventSession] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="registration", cascade="all, delete-orphan"
    )

    @property
    def holds_places(self) -> bool:
        return self.status in HOLDS_PLACES


class LotteryDraw(db.Model):
    """A session's draw (摇号): run once, reproducible from its published seed and the ordered
    list of applicants stored with it."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("event_session.id", ondelete="CASCADE"), unique=True
    )
    seed: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(40))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    capacity: Mapped[int] = mapped_column(Integer)
    # [[registration id, party size], ...] in the order the applications were made.
    applicants: Mapped[list] = mapped_column(JSON)
    # Registration ids in drawn order; the first `winners` were selected, the rest wait in order.
    ranking: Mapped[list] = mapped_column(JSON)
    winners: Mapped[int] = mapped_column(Integer)

    session: Mapped[EventSession] = relationship()


class Answer(db.Model):
    __table_args__ = (UniqueConstraint("registration_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(Text)

    registration: Mapped[Registration] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()


class SurveyResponse(db.Model):
    """A party's answer to the thank-you's satisfaction survey (满意度): one per ticket."""

    __tablename__ = "survey_response"
    __table_args__ = (CheckConstraint("stars >= 1 AND stars <= 5", name="stars_one_to_five"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), unique=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    come_again: Mapped[bool | None] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
