"""Times are stored in UTC and shown in Asia/Shanghai (the configured TIMEZONE)."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_local(dt: datetime | None, tz: ZoneInfo = SHANGHAI) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(tz)


def from_local(naive: datetime, tz: ZoneInfo = SHANGHAI) -> datetime:
    """A wall-clock time typed in Shanghai (a form field) as an aware UTC datetime."""
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=tz).astimezone(UTC)


def parse_iso(value: str) -> datetime:
    """ISO 8601 from the API; a time without an offset is Shanghai wall-clock time."""
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return from_local(dt)
