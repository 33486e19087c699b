"""Scans the door devices decided without the network, and the conflicts the server found when
they synced (services/door/sync.py), for the organiser's event report: how many, and each
conflict in words ("两台设备都放行了同一家庭：东门 1 号机 09:02（有效）、东门 2 号机 09:05（重复）").
Devices are named as people know them: their DoorDevice name, else the staff's e-mail. No names
of citizens: door staff see the report too (figures only)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from ...extensions import db
from ...models import Admission, DoorDevice, DoorScan, ScanConflict, User
from ...timeutil import parse_iso, to_local


@dataclass
class ConflictLine:
    conflict: str  # ScanConflict value
    at: datetime  # the earliest scan of the line
    text: str  # what happened, in words


@dataclass
class OfflineScans:
    offline: int  # scans decided offline that reached the server
    duplicates: int
    after_cancellation: int
    refused: int
    lines: list[ConflictLine] = field(default_factory=list)

    @property
    def conflicts(self) -> int:
        return self.duplicates + self.after_cancellation + self.refused


def offline_scans(event_id: int) -> OfflineScans:
    """Offline scans of the event, and its conflicts in the order they happened."""
    counts = dict(db.session.execute(
        select(DoorScan.conflict, func.count())
        .where(DoorScan.event_id == event_id, DoorScan.offline.is_(True))
        .group_by(DoorScan.conflict)).all())
    rows = db.session.execute(
        select(DoorScan.conflict, DoorScan.scanned_at, DoorScan.by_id, DoorScan.other_by_id,
               DoorScan.admission_id, DoorScan.answer, DoorScan.result,
               Admission.people.label("admission_people"))
        .outerjoin(Admission, Admission.id == DoorScan.admission_id)
        .where(DoorScan.event_id == event_id, DoorScan.conflict.is_not(None))
        .order_by(DoorScan.scanned_at, DoorScan.id)).all()
    names = _device_names({r.by_id for r in rows} | {r.other_by_id for r in rows})
    lines = [_line(row, names) for row in rows]
    lines.sort(key=lambda line: line.at)
    return OfflineScans(
        offline=sum(counts.values()), duplicates=counts.get(ScanConflict.DUPLICATE, 0),
        after_cancellation=counts.get(ScanConflict.AFTER_CANCELLATION, 0),
        refused=counts.get(ScanConflict.REFUSED, 0), lines=lines)


def _line(row, names: dict[int | None, str]) -> ConflictLine:
    device = names.get(row.by_id, "-")
    if row.conflict == ScanConflict.DUPLICATE:
        previous = (row.answer or {}).get("previous") or {}
        other_at = parse_iso(previous["at"]) if previous.get("at") else row.scanned_at
        this = (device, row.scanned_at)
        other = (names.get(row.other_by_id, previous.get("by") or "-"), other_at)
        # This scan stands when the swap gave it the admission (sync._duplicate).
        first, second = (this, other) if row.admission_id is not None else (other, this)
        return ConflictLine(row.conflict, first[1], _(
            "Two devices let in the same family: %(first)s %(first_at)s (stands), "
            "%(second)s %(second_at)s (duplicate)", first=first[0], first_at=_time(first[1]),
            second=second[0], second_at=_time(second[1])))
    if row.conflict == ScanConflict.AFTER_CANCELLATION:
        return ConflictLine(row.conflict, row.scanned_at, _(
            "Let in offline after the cancellation: %(device)s %(at)s, %(n)d people (not "
            "counted as admitted)", device=device, at=_time(row.scanned_at),
            n=row.admission_people or 0))
    return ConflictLine(row.conflict, row.scanned_at, _(
        "Let in offline, refused by the server: %(device)s %(at)s: %(reason)s",
        device=device, at=_time(row.scanned_at), reason=_refusal(row.result)))


def _refusal(result: str) -> str:
    """The server's refusal in the door's own words (qmevents/door/answers.py, same msgids)."""
    words = {"unknown": _("Unknown code"), "not_confirmed": _("Not confirmed"),
             "wrong_event": _("Another event"), "wrong_session": _("Another session"),
             "wrong_day": _("Not today's session"), "not_yet_open": _("Admission not open yet"),
             "cancelled": _("Cancelled")}
    return words.get(result, result)


def _device_names(user_ids: set[int | None]) -> dict[int | None, str]:
    ids = [i for i in user_ids if i is not None]
    if not ids:
        return {}
    return dict(db.session.execute(
        select(User.id, func.coalesce(DoorDevice.name, User.email))
        .outerjoin(DoorDevice, DoorDevice.user_id == User.id)
        .where(User.id.in_(ids))).all())


def _time(at: datetime) -> str:
    return to_local(at).strftime("%H:%M")
