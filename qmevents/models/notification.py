"""What the system tells citizens: every message is a row first (the outbox), then delivered, so a
provider outage never loses one; and the one-time codes that let a citizen find their tickets."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow
from .org import str_enum
from .types import UTCDateTime


class NotificationChannel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"  # not yet delivered; retried when next_attempt_at comes
    SENT = "sent"
    FAILED = "failed"  # gave up after NOTIFY_MAX_ATTEMPTS; stays visible to admins


class NotificationKind(enum.StrEnum):
    REGISTRATION_CONFIRMED = "registration_confirmed"
    REGISTRATION_CANCELLED = "registration_cancelled"
    ONE_TIME_CODE = "one_time_code"  # to see one's tickets ("my tickets")
    REGISTRATION_CODE = "registration_code"  # to register with a phone the registrant holds
    WAITLIST_PROMOTED = "waitlist_promoted"  # a place came free: confirmed, or offered until…
    OFFER_EXPIRED = "offer_expired"
    APPLICATION_ADMITTED = "application_admitted"  # the organiser's decisions (approval mode)
    APPLICATION_DECLINED = "application_declined"
    INVITATION = "invitation"
    LOTTERY_WON = "lottery_won"  # 摇号结果
    LOTTERY_WAITLISTED = "lottery_waitlisted"
    EVENT_CHANGED = "event_changed"  # time, venue or address changed by the organiser
    EVENT_CANCELLED = "event_cancelled"  # the event or the session called off
    REMINDER = "reminder"  # the day before, 18:00 Shanghai time
    THANK_YOU = "thank_you"  # after the event, with the satisfaction survey; never to no-shows
    ORGANISER_MESSAGE = "organiser_message"  # written by the organiser (the composer)
    STAFF_INVITATION = "staff_invitation"  # a one-time sign-in link for a colleague or volunteer


class OneTimeCodePurpose(enum.StrEnum):
    FIND_TICKETS = "find_tickets"  # a citizen who lost the link sees their tickets
    REGISTER = "register"  # the phone a registration names is held by the registrant


class Notification(db.Model):
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[NotificationChannel] = mapped_column(
        str_enum(NotificationChannel, "notification_channel")
    )
    recipient: Mapped[str] = mapped_column(String(254))  # a mobile number or an e-mail address
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    # A NotificationKind value, stored as a plain string rather than a CHECK-ed enum, so that a
    # new kind of message needs no migration.
    kind: Mapped[str] = mapped_column(String(40), index=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus, "notification_status"), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The backend that delivered it: "outbox" means nobody was sent anything, admins read it here.
    backend: Mapped[str | None] = mapped_column(String(10))
    # For providers that send only registered templates (Alibaba Cloud, Tencent Cloud): the
    # template's key (services.messaging.templates) and its parameters; the body is their text.
    template: Mapped[str | None] = mapped_column(String(40))
    params: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} {self.status}>"


class OneTimeCode(db.Model):
    """A 6-digit code sent to a phone. Only an HMAC of phone and code is kept, never the code."""

    __table_args__ = (Index("ix_one_time_code_phone_purpose", "phone", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(11))
    code_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[OneTimeCodePurpose] = mapped_column(
        str_enum(OneTimeCodePurpose, "one_time_code_purpose")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Broadcast(db.Model):
    """A message an organiser wrote to an event's registrants (the composer): who wrote it, to
    whom (statuses, session), how many were told. The messages themselves are in the outbox."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_session.id", ondelete="CASCADE"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    audience: Mapped[list] = mapped_column(JSON)  # the recipient groups chosen
    body: Mapped[str] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
