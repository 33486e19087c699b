"""Who organises: organisations (a district bureau or a host enterprise), their users, API
tokens, one-time sign-in links (invitations), and door devices paired to one event."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .reference import District
from .types import UTCDateTime


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: a VARCHAR with a CHECK constraint, storing the value."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class OrgKind(enum.StrEnum):
    # 区市场监督管理局: sees every published event of its district (services.access), edits its own
    BUREAU = "bureau"
    ENTERPRISE = "enterprise"  # 承办企业: its own events only


class Role(enum.StrEnum):
    ADMIN = "admin"  # the city: sees all districts
    ORGANISER = "organiser"
    STAFF = "staff"  # door staff, assigned to events


class Organisation(db.Model):
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind, "org_kind"), default=OrgKind.BUREAU)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))

    district: Mapped[District] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Organisation {self.name}>"


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class StaffAssignment(db.Model):
    """Door staff see only the events they are assigned to."""

    __table_args__ = (UniqueConstraint("user_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored, so a leaked database leaks no usable token."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class SignInLink(db.Model):
    """A one-time sign-in link: how a new colleague or door volunteer gets in without a password
    typed anywhere. Only its SHA-256 is stored; it expires and is used once."""

    __tablename__ = "sign_in_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # Who made it, and for which event (a door volunteer's invitation), for the audit and the page.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    event: Mapped[Event | None] = relationship("Event")  # noqa: F821 (models.event imports this)


class DoorDevice(db.Model):
    """A phone enrolled as a door device for one event (like pretixSCAN's device setup): no
    password, a name people recognise ("东门 2 号机"). Pairing: the organiser's screen shows a QR
    holding a short-lived pairing secret (only its hash is stored); the phone trades it, once, for
    a sign-in of the device's own door staff account (`user`, assigned to this event only), so
    every door rule, token and revocation is the staff's, asked in one place. Its scans are the
    admissions by that account."""

    __tablename__ = "door_device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    pairing_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pairing_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    event: Mapped[Event] = relationship("Event")  # noqa: F821 (models.event imports this)
