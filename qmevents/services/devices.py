"""Door devices: a phone enrolled for one event's door by scanning a QR on the organiser's screen
(like pretixSCAN's device setup), with no account to create and no password to type.

1. The organiser names a device ("东门 2 号机"): `add` stores it with a pairing secret (only its
   hash) that expires after DEVICE_PAIRING_MINUTES; the screen shows it as a QR of the pairing
   page's address.
2. The phone opens that address and confirms: `pair` claims the secret once (a conditional
   UPDATE, so two phones scanning the same QR pair one) and gives the device a door staff
   account of its own, assigned to that event only. The page then signs the browser in as it;
   a scanner app trades the secret for a bearer token instead (POST /api/v1/devices/pair).
3. From then on the device is door staff like any other: services.access.may_scan decides, its
   admissions are "by" its account (its last scan is read from them), and `revoke` switches the
   account off, which ends its sign-in and its token at once.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from .. import links
from ..extensions import db
from ..ids import is_row_id
from ..models import Admission, DoorDevice, Event, Role, StaffAssignment, User
from ..timeutil import utcnow
from . import audit
from .accounts import end_everything
from .errors import NotFound, ValidationFailed
from .invitations import UNUSABLE_PASSWORD

MAX_NAME = 40


@dataclass(frozen=True)
class Pairing:
    device: DoorDevice
    url: str  # what the QR holds: the pairing page, with the secret
    expires_at: datetime


@dataclass(frozen=True)
class DeviceRow:
    id: int
    name: str
    paired_at: datetime | None
    last_scan_at: datetime | None
    scans: int
    pairing_open: bool  # not paired yet, and its QR still works


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_pairing(device: DoorDevice) -> Pairing:
    secret = secrets.token_urlsafe(24)
    device.pairing_hash = _digest(secret)
    device.pairing_expires_at = utcnow() + timedelta(
        minutes=float(current_app.config["DEVICE_PAIRING_MINUTES"]))
    return Pairing(device, links.external_url("door.pair", secret=secret),
                   device.pairing_expires_at)


def add(event: Event, name: str, actor: User) -> Pairing:
    """A new device of the event, waiting to be paired. Audited."""
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed({"name": _("Name the device (at most %(n)d characters), e.g. "
                                          "东门 2 号机.", n=MAX_NAME)})
    device = DoorDevice(event_id=event.id, name=name, created_by_id=actor.id)
    db.session.add(device)
    pairing = _new_pairing(device)
    db.session.flush()
    audit.record("device_added", actor_id=actor.id, event_id=event.id, device=name)
    db.session.commit()
    return pairing


def device_of(event: Event, device_id: int) -> DoorDevice:
    device = db.session.get(DoorDevice, device_id) if is_row_id(device_id) else None
    if device is None or device.event_id != event.id:
        raise NotFound(_("No such device."))
    return device


def renew_pairing(event: Event, device_id: int) -> Pairing:
    """A fresh QR for a device not paired yet (the first one expired)."""
    device = device_of(event, device_id)
    if device.paired_at is not None or device.revoked_at is not None:
        raise ValidationFailed({"device": _("This device is already paired or revoked.")})
    pairing = _new_pairing(device)
    db.session.commit()
    return pairing


def waiting(secret: object) -> DoorDevice | None:
    """The device this pairing secret is for, while it can still be paired."""
    if not isinstance(secret, str) or not 0 < len(secret) <= 100:
        return None
    device = db.session.scalar(select(DoorDevice).filter_by(pairing_hash=_digest(secret)))
    if (device is None or device.revoked_at is not None or device.pairing_expires_at is None
            or device.pairing_expires_at <= utcnow()):
        return None
    return device


def pair(secret: object) -> DoorDevice | None:
    """Trade the pairing secret, once, for the device's door staff account (device.user), in the
    caller's transaction; the caller signs it in or issues its token, then commits. None when
    the secret is unknown, expired or already used."""
    device = waiting(secret)
    if device is None:
        return None
    now = utcnow()
    claimed = db.session.execute(
        update(DoorDevice).where(DoorDevice.id == device.id,
                                 DoorDevice.pairing_hash == device.pairing_hash)
        .values(pairing_hash=None, pairing_expires_at=None, paired_at=now)).rowcount
    if claimed != 1:
        db.session.rollback()
        return None
    event = db.session.get(Event, device.event_id)
    user = User(email=f"device-{device.id}@door-devices.invalid", role=Role.STAFF,
                password_hash=UNUSABLE_PASSWORD, organisation_id=event.organisation_id)
    db.session.add(user)
    db.session.flush()
    db.session.add(StaffAssignment(user_id=user.id, event_id=event.id))
    db.session.execute(update(DoorDevice).where(DoorDevice.id == device.id)
                       .values(user_id=user.id))
    audit.record("device_paired", event_id=event.id, device=device.name)
    db.session.refresh(device)
    return device


def revoke(event: Event, device_id: int, actor: User) -> DoorDevice:
    """The device stops at once: its account is switched off, its sign-in and token end, its
    assignment to the event is removed."""
    device = device_of(event, device_id)
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        device.pairing_hash = None
        if device.user_id is not None:
            db.session.execute(update(User).where(User.id == device.user_id)
                               .values(active=False))
            end_everything(device.user_id)
            # The door asks for the assignment on every scan (a token's user may be cached by
            # a worker for a few seconds; its assignment never is).
            db.session.execute(delete(StaffAssignment).where(
                StaffAssignment.user_id == device.user_id))
        audit.record("device_revoked", actor_id=actor.id, event_id=event.id, device=device.name)
        db.session.commit()
    return device


def devices_of(event: Event) -> list[DeviceRow]:
    """The event's devices not revoked, with their last scan and how many admissions they made."""
    last = (select(Admission.by_id, func.max(Admission.at).label("last"),
                   func.count(Admission.id).label("scans"))
            .where(Admission.event_id == event.id).group_by(Admission.by_id).subquery())
    rows = db.session.execute(
        select(DoorDevice, last.c.last, last.c.scans)
        .outerjoin(last, last.c.by_id == DoorDevice.user_id)
        .where(DoorDevice.event_id == event.id, DoorDevice.revoked_at.is_(None))
        .order_by(DoorDevice.name, DoorDevice.id)).all()
    now = utcnow()
    return [DeviceRow(d.id, d.name, d.paired_at, last_at, scans or 0,
                      d.paired_at is None and d.pairing_expires_at is not None
                      and d.pairing_expires_at > now)
            for d, last_at, scans in rows]


def name_of(user_id: int) -> str | None:
    """The device's name when this account is a paired device's."""
    return db.session.scalar(select(DoorDevice.name).where(DoorDevice.user_id == user_id))
