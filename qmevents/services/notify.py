"""Telling citizens: one Notifier interface, three backends, and a stored row for every message.

A message is written to the notification table first (committed), then delivered once; a failed
delivery leaves the row pending with the error and a time for the next try (`deliver_due`, run by
`flask notify retry`), and after NOTIFY_MAX_ATTEMPTS it is "failed" — still there for admins.
Nothing here ever raises into a registration: it has been committed before we are called.

Backends: "outbox" (the default) delivers to the table itself, which admins read, so the demo
needs no provider; "smtp" sends e-mail; "sms" posts JSON to an SMS provider's HTTP API.
"""
from __future__ import annotations

import json
import logging
import os
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import ClassVar, Protocol
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import insert, or_, select, update

from ..extensions import db
from ..models import (
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    Registration,
    RegistrationStatus,
)
from ..timeutil import to_local, utcnow
from .identity import mask_mobile

log = logging.getLogger(__name__)

# While one worker is sending a message no other worker picks it up; a worker that died mid-send
# gives it back after this long.
CLAIM_SECONDS = 300
RETRY_BASE_SECONDS = 60  # 1, 2, 4, 8 … minutes between tries
RETRY_MAX_SECONDS = 3600
SEND_TIMEOUT_SECONDS = 10.0
MAX_TITLE = 40  # characters of an event title in an SMS


class SendFailed(Exception):
    """A backend could not deliver; the message says why, for the admins' outbox page."""


@dataclass(frozen=True)
class Message:
    """What a backend needs to deliver, and nothing of the database."""

    channel: str
    recipient: str
    subject: str
    body: str


class Notifier(Protocol):
    name: ClassVar[str]

    def send(self, message: Message) -> None:
        """Deliver or raise SendFailed."""


# --- backends ---------------------------------------------------------------------------------


class OutboxBackend:
    """Delivers to the stored row itself: admins read the outbox; nobody is sent anything."""

    name: ClassVar[str] = "outbox"

    @classmethod
    def from_config(cls, config: Mapping) -> OutboxBackend:
        return cls()

    def send(self, message: Message) -> None:
        return None


@dataclass
class SmtpBackend:
    host: str | None
    sender: str | None
    port: int = 587
    user: str | None = None
    password: str | None = None
    use_tls: bool = True
    timeout: float = SEND_TIMEOUT_SECONDS

    name: ClassVar[str] = "smtp"

    @classmethod
    def from_config(cls, config: Mapping) -> SmtpBackend:
        return cls(host=config.get("SMTP_HOST"), sender=config.get("SMTP_FROM"),
                   port=int(config.get("SMTP_PORT") or 587), user=config.get("SMTP_USER"),
                   password=config.get("SMTP_PASSWORD"),
                   use_tls=bool(config.get("SMTP_USE_TLS", True)))

    def compose(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender or ""
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(domain=(self.sender or "").rpartition("@")[2] or None)
        email.set_content(message.body)
        return email

    def send(self, message: Message) -> None:
        if message.channel != NotificationChannel.EMAIL:
            raise SendFailed(f"the smtp backend sends e-mail, not {message.channel}")
        if not self.host or not self.sender:
            raise SendFailed("SMTP_HOST and SMTP_FROM must be set")
        try:
            email = self.compose(message)
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(email)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            raise SendFailed(f"SMTP: {exc}") from exc


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirected POST would be replayed as a GET and look delivered; treat it as a failure."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass
class SmsBackend:
    """An SMS provider's HTTP API: POST {"to", "text", "sender"} as JSON, the key in a header."""

    url: str | None
    api_key: str | None
    sender: str = ""
    timeout: float = SEND_TIMEOUT_SECONDS

    name: ClassVar[str] = "sms"

    @classmethod
    def from_config(cls, config: Mapping) -> SmsBackend:
        return cls(url=config.get("SMS_API_URL"), api_key=config.get("SMS_API_KEY"),
                   sender=config.get("SMS_SENDER") or "")

    def send(self, message: Message) -> None:
        if message.channel != NotificationChannel.SMS:
            raise SendFailed(f"the sms backend sends text messages, not {message.channel}")
        if not self.url or urlsplit(self.url).scheme not in ("http", "https"):
            raise SendFailed("SMS_API_URL must be set to an http(s) address")
        payload = {"to": message.recipient, "text": message.body, "sender": self.sender}
        request = urllib.request.Request(
            self.url,
            data=json.dumps(payload, ensure_ascii=False).encode(),
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8",
                     "Authorization": f"Bearer {self.api_key or ''}"},
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            detail = exc.read(200).decode("utf-8", "replace").strip()
            raise SendFailed(f"SMS provider answered {exc.code} {detail}".strip()) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SendFailed(f"SMS provider unreachable: {reason}") from None
        if not 200 <= status < 300:
            raise SendFailed(f"SMS provider answered {status}")


BACKENDS: dict[str, type] = {b.name: b for b in (OutboxBackend, SmtpBackend, SmsBackend)}


def backend() -> Notifier:
    """The backend NOTIFY_BACKEND names, built from the app's settings."""
    name = _backend_name()
    if name not in BACKENDS:
        raise ValueError(f"NOTIFY_BACKEND is {name!r}; choose one of {', '.join(BACKENDS)}")
    return BACKENDS[name].from_config(current_app.config)


# --- the outbox: queue, deliver, retry --------------------------------------------------------


_INSERT_NOTIFICATION = insert(Notification.__table__)


@dataclass(frozen=True)
class Draft:
    """A composed message, not stored yet."""

    channel: NotificationChannel
    recipient: str
    kind: str
    subject: str
    body: str

    def fields(self) -> tuple:
        return (self.channel, self.recipient, self.kind, self.subject, self.body)


@dataclass(frozen=True)
class Staged:
    """A stored message: its id, and whether it still has to be sent (see `dispatch`)."""

    id: int
    pending: bool


def stage(channel: str, recipient: str, kind: str, subject: str, body: str,
          registration_id: int | None = None) -> Staged:
    """Add a message to the caller's transaction, so that a registration and the message about
    it commit together (or not at all). With the outbox backend the stored row IS the delivery;
    other backends get a pending row, sent by `dispatch` after the commit. One INSERT: this runs
    inside every registration, while places are held."""
    if channel == NotificationChannel.SMS:
        body = body.replace(recipient, mask_mobile(recipient))  # never a full number in a text
    now = utcnow()
    row = dict(channel=NotificationChannel(channel), recipient=recipient, kind=str(kind),
               subject=subject[:200], body=body, registration_id=registration_id,
               status=NotificationStatus.PENDING, attempts=0, next_attempt_at=now,
               created_at=now)
    if _backend_name() == OutboxBackend.name:
        row.update(status=NotificationStatus.SENT, attempts=1, sent_at=now, next_attempt_at=None,
                   backend=OutboxBackend.name)
    result = db.session.execute(_INSERT_NOTIFICATION, row)
    return Staged(id=result.inserted_primary_key[0],
                  pending=row["status"] == NotificationStatus.PENDING)


def queue(channel: str, recipient: str, kind: str, subject: str, body: str,
          registration_id: int | None = None) -> Notification:
    """Store a message on its own. Commits: call it after the caller's own commit."""
    staged = stage(channel, recipient, kind, subject, body, registration_id)
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


def _backend_name() -> str:
    return current_app.config.get("NOTIFY_BACKEND") or OutboxBackend.name


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
                            subject=notification.subject, body=notification.body))
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
        notification.last_error = error[:500]
        if notification.attempts >= int(current_app.config["NOTIFY_MAX_ATTEMPTS"]):
            notification.status = NotificationStatus.FAILED
            notification.next_attempt_at = None
            _forget_code(notification)
        else:
            notification.next_attempt_at = now + _backoff(notification.attempts)
    db.session.commit()


def _forget_code(notification: Notification) -> None:
    """Once a one-time code has left (or never will), its text need not keep it: codes are
    stored hashed, and the outbox must not be a second copy."""
    if notification.kind == NotificationKind.ONE_TIME_CODE:
        notification.body = _CODE_IN_TEXT.sub("******", notification.body)


_CODE_IN_TEXT = re.compile(r"\d{6}")


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
    """The newest messages first, for admins (the caller checks the role)."""
    rows = db.session.scalars(
        select(Notification)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(max(limit, 0)).offset(max(offset, 0))
    )
    return [
        OutboxEntry(id=n.id, created_at=n.created_at, channel=n.channel.value,
                    recipient=mask_recipient(n.recipient), kind=n.kind, subject=n.subject,
                    body=n.body, status=n.status.value, attempts=n.attempts,
                    last_error=n.last_error, sent_at=n.sent_at, backend=n.backend)
        for n in rows
    ]


def mask_recipient(recipient: str) -> str:
    """138****1234 for a phone, z***@example.cn for an address."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    return mask_mobile(recipient)


# --- what we tell citizens (in Chinese: their language) ---------------------------------------


def registration_confirmed(registration: Registration, ticket_url: str) -> Notification | None:
    """The message after registering: the ticket link, or where the application stands."""
    draft = draft_registration_confirmed(registration, ticket_url)
    return _queue_and_deliver(*draft.fields(), registration.id) if draft else None


def draft_registration_confirmed(registration: Registration, ticket_url: str) -> Draft | None:
    """The text of `registration_confirmed`, composed before the registration's transaction so
    that nothing but writes happens while places are held (see services.registration)."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        if r.status == RegistrationStatus.WAITLISTED:
            return ("候补登记", f"{r.name}，「{title}」{when}已满，您已进入候补名单（{r.party_size}人），"
                                f"有空位时将通知您。查看：{ticket_url}")
        if r.status == RegistrationStatus.APPLIED:
            return ("报名申请已提交", f"{r.name}，您已申请报名「{title}」{when}，{r.party_size}人，"
                                     f"结果将另行通知。查看：{ticket_url}")
        return ("报名成功", f"{r.name}，您已报名「{title}」{when}，{r.party_size}人。"
                           f"电子票：{ticket_url} 如需取消请打开链接。")

    return _draft_about(registration, NotificationKind.REGISTRATION_CONFIRMED, compose)


def registration_cancelled(registration: Registration, ticket_url: str) -> Notification | None:
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("报名已取消", f"{r.name}，您报名的「{title}」{when}已取消，名额已释放。"
                             f"详情：{ticket_url}")

    return _about_registration(registration, NotificationKind.REGISTRATION_CANCELLED, compose)


def _local_time(moment: datetime) -> str:
    local = to_local(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def promoted(registration: Registration, ticket_url: str) -> Notification | None:
    """A place came free for a party on the waiting list: theirs now, or theirs to confirm by a
    deadline."""
    draft = draft_promoted(registration, ticket_url)
    return _queue_and_deliver(*draft.fields(), registration.id) if draft else None


def draft_promoted(registration: Registration, ticket_url: str) -> Draft | None:
    """The text of `promoted`, for services.waitlist to store with the promotion itself."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        if r.status == RegistrationStatus.OFFERED and r.offer_expires_at:
            return ("候补空位待确认", f"{r.name}，「{title}」{when}有空位了，已为您保留{r.party_size}个名额，"
                                     f"请在{_local_time(r.offer_expires_at)}前打开链接确认，逾期名额将"
                                     f"顺延给下一位：{ticket_url}")
        return ("候补成功", f"{r.name}，「{title}」{when}有空位了，您已从候补名单转为报名成功，"
                           f"{r.party_size}人。电子票：{ticket_url} 如需取消请打开链接。")

    return _draft_about(registration, NotificationKind.WAITLIST_PROMOTED, compose)


def draft_offer_expired(registration: Registration, ticket_url: str) -> Draft | None:
    """An offered place not confirmed in time: it has gone to the next party in line."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("候补名额已过期", f"{r.name}，您在「{title}」{when}的候补名额未在截止时间前确认，"
                                 f"已顺延给下一位候补。详情：{ticket_url}")

    return _draft_about(registration, NotificationKind.OFFER_EXPIRED, compose)


def _organiser_note(message: str | None) -> str:
    return f"主办方留言：{message} " if message else ""


def admitted(registration: Registration, ticket_url: str,
             message: str | None = None) -> Notification | None:
    """An application admitted by the organiser: the ticket, and their note if they wrote one."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("报名申请已通过", f"{r.name}，您申请的「{title}」{when}已通过审核，{r.party_size}人。"
                                 f"{_organiser_note(message)}电子票：{ticket_url} 如需取消请打开链接。")

    return _about_registration(registration, NotificationKind.APPLICATION_ADMITTED, compose)


def declined(registration: Registration, message: str | None = None) -> Notification | None:
    """An application the organiser could not accept, said kindly; no link: nothing to show."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("报名申请结果", f"{r.name}，感谢您关注「{title}」。很遗憾，您{when}场次的报名申请"
                               f"本次未能通过。{_organiser_note(message)}欢迎报名参加质量月的其他活动。")

    return _about_registration(registration, NotificationKind.APPLICATION_DECLINED, compose)


def invited(registration: Registration, ticket_url: str) -> Notification | None:
    """A ticket the organiser gave directly: places are kept, nothing to apply for."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("活动邀请", f"{r.name}，诚邀您参加「{title}」{when}，已为您保留{r.party_size}个名额。"
                           f"电子票：{ticket_url} 如不能出席请打开链接取消。")

    return _about_registration(registration, NotificationKind.INVITATION, compose)


def lottery_won(registration: Registration, ticket_url: str,
                staged: bool = False) -> Notification | None:
    """Drawn in the lottery: the ticket now holds places."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("摇号中签", f"{r.name}，恭喜您在「{title}」{when}的摇号中签，{r.party_size}人。"
                           f"电子票：{ticket_url} 如不能参加请打开链接取消，名额将让给候补。")

    return _about_registration(registration, NotificationKind.LOTTERY_WON, compose, staged)


def lottery_waitlisted(registration: Registration, position: int, ticket_url: str,
                       staged: bool = False) -> Notification | None:
    """Not drawn: where the party stands on the waiting list, in the draw's order."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("摇号结果", f"{r.name}，「{title}」{when}摇号未中签，您在候补名单第{position}位"
                           f"（{r.party_size}人），有空位时将按顺序通知您。查看：{ticket_url}")

    return _about_registration(registration, NotificationKind.LOTTERY_WAITLISTED, compose, staged)


def one_time_code(phone: str, code: str) -> Notification | None:
    """The code that lets a citizen see their tickets; never raises."""
    minutes = max(int(current_app.config["OTP_TTL_SECONDS"]) // 60, 1)
    body = f"{_signature()}您的验证码为{code}，{minutes}分钟内有效，仅用于查看您的报名。请勿告诉他人。"
    return _queue_and_deliver(NotificationChannel.SMS, phone, NotificationKind.ONE_TIME_CODE,
                              "验证码", body)


def _about_registration(registration: Registration, kind: NotificationKind, compose,
                        staged: bool = False) -> Notification | Staged | None:
    """Compose and send a message about a registration. `staged`: only add it to the caller's
    transaction (the caller commits, then calls `dispatch` with what this returns)."""
    draft = _draft_about(registration, kind, compose)
    if draft is None:
        return None
    if staged:
        return stage(*draft.fields(), registration.id)
    return _queue_and_deliver(*draft.fields(), registration.id)


def _draft_about(registration: Registration, kind: NotificationKind, compose) -> Draft | None:
    """An SMS about a registration, composed but not stored. None when there is nobody to tell
    or it cannot be composed (logged: a message never turns a registration into an error)."""
    try:
        if not registration.phone:  # a walk-in without a phone: nobody to tell
            return None
        start = to_local(registration.session.starts_at)
        when = f"{start.month}月{start.day}日 {start:%H:%M}"
        title = registration.event.title
        if len(title) > MAX_TITLE:
            title = title[: MAX_TITLE - 1] + "…"
        subject, text = compose(registration, when, title)
    except Exception:
        log.exception("could not compose a %s message", kind)
        return None
    return Draft(NotificationChannel.SMS, registration.phone, kind, subject, _signature() + text)


def _signature() -> str:
    sender = current_app.config.get("SMS_SENDER")
    return f"【{sender}】" if sender else ""


def _queue_and_deliver(channel: NotificationChannel, recipient: str, kind: NotificationKind,
                       subject: str, body: str,
                       registration_id: int | None = None) -> Notification | None:
    """Store, then send. A failure is logged and left for the retry, never raised."""
    try:
        notification = queue(channel, recipient, kind, subject, body, registration_id)
    except Exception:
        log.exception("could not store a %s message", kind)
        db.session.rollback()
        return None
    dispatch(Staged(id=notification.id, pending=notification.status == NotificationStatus.PENDING))
    return notification
