"""Telling citizens: one Notifier interface, three backends, and a stored row for every message.

A message is written to the notification table first (committed), then delivered once; a failed
delivery leaves the row pending with the error and a time for the next try (`deliver_due`, run by
`flask notify retry`), and after NOTIFY_MAX_ATTEMPTS it is "failed" — still there for admins.
Nothing here ever raises into a registration: it has been committed before we are called.

The backends ("outbox", "smtp", "sms") live in services/messaging/backends.py, the template
providers ("aliyun", "tencent") in services/messaging/providers.py, which adds them to
backends.BACKENDS when imported: here, where a backend is chosen.
"""
from __future__ import annotations

import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, or_, select, update

from ...extensions import db
from ...models import Notification, NotificationChannel, NotificationKind, NotificationStatus
from ...timeutil import utcnow
from ..identity import mask_mobile
from . import providers  # noqa: F401  (adds "aliyun" and "tencent" to backends.BACKENDS)
from .backends import Message, OutboxBackend, SendFailed, backend, backend_name

log = logging.getLogger(__name__)

# While one worker is sending a message no other worker picks it up; a worker that died mid-send
# gives it back after this long.
CLAIM_SECONDS = 300
RETRY_BASE_SECONDS = 60  # 1, 2, 4, 8 … minutes between tries
RETRY_MAX_SECONDS = 3600


# --- the outbox: queue, deliver, retry --------------------------------------------------------


_INSERT_NOTIFICATION = insert(Notification.__table__)


@dataclass(frozen=True)
class Staged:
    """A stored message: its id, and whether it still has to be sent (see `dispatch`)."""

    id: int
    pending: bool


def stage(channel: str, recipient: str, kind: str, subject: str, body: str,
          registration_id: int | None = None, *, template: str | None = None,
          params: dict | None = None) -> Staged:
    """Add a message to the caller's transaction, so that a registration and the message about
    it commit together (or not at all). With the outbox backend the stored row IS the delivery;
    other backends get a pending row, sent by `dispatch` after the commit. One INSERT: this runs
    inside every registration, while places are held."""
    if channel == NotificationChannel.SMS:  # never a full number in a text
        body = body.replace(recipient, mask_mobile(recipient))
        if params:
            params = {name: str(value).replace(recipient, mask_mobile(recipient))
                      for name, value in params.items()}
    now = utcnow()
    row = dict(channel=NotificationChannel(channel), recipient=recipient, kind=str(kind),
               subject=subject[:200], body=body, registration_id=registration_id,
               template=template, params=params,
               status=NotificationStatus.PENDING, attempts=0, next_attempt_at=now,
               created_at=now)
    if backend_name() == OutboxBackend.name:
        row.update(status=NotificationStatus.SENT, attempts=1, sent_at=now, next_attempt_at=None,
                   backend=OutboxBackend.name)
    result = db.session.execute(_INSERT_NOTIFICATION, row)
    return Staged(id=result.inserted_primary_key[0],
                  pending=row["status"] == NotificationStatus.PENDING)


def queue(channel: str, recipient: str, kind: str, subject: str, body: str,
          registration_id: int | None = None, **provider_fields) -> Notification:
    """Store a message on its own. Commits: call it after the caller's own commit."""
    staged = stage(channel, recipient, kind, subject, body, registration_id, **provider_fields)
    db.session.commit()
    return db.session.get(Notification, staged.id)


def dispatch(staged: Staged | None) -> None:
    """After the commit that stored a message: send it if it is still pending. In the background
    (NOTIFY_IN_BACKGROUND) a slow provider never holds up the citizen's answer; should the
    process die first, the pending row is sent by `flask notify retry`. Never raises."""
    if staged is None or not staged.pending:
        return
    if current_app.config.get("NOTIFY_IN_BACKGROUND"):
        _in_background(current_app._get_current_object(), staged.id)
    else:
        deliver(staged.id)


_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None


def _in_background(app, notification_id: int) -> None:
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():  # a pool made before gunicorn forked is dead
        _pool, _pool_pid = ThreadPoolExecutor(2, thread_name_prefix="notify"), os.getpid()
    _pool.submit(_deliver_with_app, app, notification_id)


def _deliver_with_app(app, notification_id: int) -> None:
    with app.app_context():
        try:
            deliver(notification_id)
        finally:
            db.session.remove()


def deliver(notification_id: int, now: datetime | None = None) -> NotificationStatus | None:
    """Try a due, pending message once. Its status afterwards, or None when it was not ours to
    send (already sent, not yet due, or another worker has it). Never raises."""
    now = now or utcnow()
    try:
        if not _claim(notification_id, now):
            return None
        notification = db.session.get(Notification, notification_id, populate_existing=True)
        error, used = _attempt(notification)
        _record(notification, error, used, now)
        return notification.status
    except Exception:  # the database itself failed: the row stays claimed, retried later
        log.exception("delivering notification %s failed", notification_id)
        db.session.rollback()
        return None


def _claim(notification_id: int, now: datetime) -> bool:
    """Take the message for this attempt; the WHERE clause means two workers cannot both."""
    claimed = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id,
               Notification.status == NotificationStatus.PENDING,
               or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now))
        .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()  # no transaction stays open while we talk to a provider
    return claimed


def _attempt(notification: Notification) -> tuple[str | None, str | None]:
    """(error or None, the backend's name)."""
    try:
        chosen = backend()
        chosen.send(Message(channel=notification.channel.value, recipient=notification.recipient,
                            subject=notification.subject, body=notification.body,
                            template=notification.template, params=notification.params))
    except SendFailed as exc:
        return str(exc) or "send failed", None
    except Exception as exc:  # a bug in a backend is a failed send, not a lost registration
        log.exception("notification backend crashed")
        return f"{type(exc).__name__}: {exc}", None
    return None, chosen.name


def _record(notification: Notification, error: str | None, used: str | None,
            now: datetime) -> None:
    notification.attempts += 1
    if error is None:
        notification.status = NotificationStatus.SENT
        notification.sent_at = now
        notification.backend = used
        notification.next_attempt_at = None
        notification.last_error = None
        if used != OutboxBackend.name:  # the outbox is read by admins: there the code must stay
            _forget_code(notification)
    else:
        # A provider's error may quote what it was sent (Alibaba Cloud's signature mismatch
        # repeats its string to sign): admins read it without the numbers, codes and links.
        notification.last_error = _masked_error(error)[:500]
        if notification.attempts >= int(current_app.config["NOTIFY_MAX_ATTEMPTS"]):
            notification.status = NotificationStatus.FAILED
            notification.next_attempt_at = None
            _forget_code(notification)
        else:
            notification.next_attempt_at = now + _backoff(notification.attempts)
    db.session.commit()


def _forget_code(notification: Notification) -> None:
    """Once a message has left (or never will), its text need not keep the secrets it carried:
    one-time codes are stored hashed, a ticket's code opens and cancels the ticket, a sign-in
    link signs in, so the outbox admins read must not be a second copy of any."""
    notification.body = _without_secrets(notification)
    notification.params = None  # they carried the same values as the text


def _without_secrets(notification: Notification) -> str:
    """The text with its one-time code (in a code's message) and its tickets' codes masked."""
    body = notification.body
    if notification.kind in _CODE_KINDS:
        body = _CODE_IN_TEXT.sub("******", body)
    body = _SIGN_IN_LINK_IN_TEXT.sub(r"\1\2…", body)
    return _TICKET_IN_TEXT.sub(r"\1\2…", body)


_CODE_KINDS = (NotificationKind.ONE_TIME_CODE, NotificationKind.REGISTRATION_CODE)
_CODE_IN_TEXT = re.compile(r"\d{6}")
_TICKET_IN_TEXT = re.compile(r"(/t/)([0-9A-Z]{4})[0-9A-Z]{16}\b")
_SIGN_IN_LINK_IN_TEXT = re.compile(r"(/signin/)([A-Za-z0-9_-]{4})[A-Za-z0-9_-]+")  # services/invitations.py


_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


def _masked_error(error: str) -> str:
    """A provider's answer with every mobile number masked and every code and link secret out."""
    error = _CODE_IN_TEXT.sub("******", _MOBILE_IN_TEXT.sub(r"\1****\2", error))
    return _TICKET_IN_TEXT.sub(r"\1\2…", _SIGN_IN_LINK_IN_TEXT.sub(r"\1\2…", error))


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** (attempts - 1), RETRY_MAX_SECONDS))


@dataclass
class DeliveryCounts:
    sent: int = 0
    retrying: int = 0  # failed this time, will be tried again
    failed: int = 0  # failed for good


def deliver_due(limit: int = 100, now: datetime | None = None) -> DeliveryCounts:
    """Retry the pending messages whose time has come, oldest first."""
    now = now or utcnow()
    due = list(db.session.scalars(
        select(Notification.id)
        .where(Notification.status == NotificationStatus.PENDING,
               or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now))
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    ))
    counts = DeliveryCounts()
    for notification_id in due:
        status = deliver(notification_id, now)
        if status == NotificationStatus.SENT:
            counts.sent += 1
        elif status == NotificationStatus.PENDING:
            counts.retrying += 1
        elif status == NotificationStatus.FAILED:
            counts.failed += 1
    return counts


@dataclass
class OutboxEntry:
    """A stored message as the admins' outbox page shows it: the recipient masked."""

    id: int
    created_at: datetime
    channel: str
    recipient: str
    kind: str
    subject: str
    body: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    backend: str | None


def recent(limit: int = 20, offset: int = 0) -> list[OutboxEntry]:
    """The newest messages first, for admins (the caller checks the role). Codes show only
    where the outbox is the delivery (the demo: nothing is sent, the outbox is how its codes are
    read); with a real provider an admin reads no one-time code and no ticket's code, even of a
    message still waiting to be sent."""
    shown = (lambda n: n.body) if backend_name() == OutboxBackend.name else _without_secrets
    rows = db.session.scalars(
        select(Notification)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(max(limit, 0)).offset(max(offset, 0))
    )
    return [
        OutboxEntry(id=n.id, created_at=n.created_at, channel=n.channel.value,
                    recipient=mask_recipient(n.recipient), kind=n.kind, subject=n.subject,
                    body=shown(n), status=n.status.value, attempts=n.attempts,
                    last_error=n.last_error, sent_at=n.sent_at, backend=n.backend)
        for n in rows
    ]


def mask_recipient(recipient: str) -> str:
    """138****1234 for a phone, z***@example.cn for an address."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    return mask_mobile(recipient)


def queue_and_deliver(channel: NotificationChannel, recipient: str, kind: NotificationKind,
                       subject: str, body: str,
                       registration_id: int | None = None,
                       **provider_fields) -> Notification | None:
    """Store, then send. A failure is logged and left for the retry, never raised."""
    try:
        notification = queue(channel, recipient, kind, subject, body, registration_id,
                             **provider_fields)
    except Exception:
        log.exception("could not store a %s message", kind)
        db.session.rollback()
        return None
    dispatch(Staged(id=notification.id, pending=notification.status == NotificationStatus.PENDING))
    return notification
