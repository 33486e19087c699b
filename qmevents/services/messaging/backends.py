"""How a message leaves: one Notifier interface and three backends. "outbox" (the default)
delivers to the notification table itself, which admins read, so the demo needs no provider;
"smtp" sends e-mail; "sms" posts JSON to an SMS provider's HTTP API. The template providers
("aliyun", "tencent": providers.py) add themselves to BACKENDS when outbox.py imports them.
services/messaging/outbox.py stores, queues and retries; a backend only delivers or raises
SendFailed.
"""
from __future__ import annotations

import http.client
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import ClassVar, Protocol
from urllib.parse import urlsplit

from flask import current_app

from ...models import NotificationChannel

SEND_TIMEOUT_SECONDS = 10.0


class SendFailed(Exception):
    """A backend could not deliver; the message says why, for the admins' outbox page."""


@dataclass(frozen=True)
class Message:
    """What a backend needs to deliver, and nothing of the database."""

    channel: str
    recipient: str
    subject: str
    body: str
    template: str | None = None  # services.messaging.templates: what template-only providers send
    params: dict | None = None


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
    password: str | None = field(default=None, repr=False)
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


def post(request: urllib.request.Request, timeout: float, provider: str) -> tuple[int, bytes]:
    """Send `request` once, never following a redirect: (HTTP status, the answer's first 64 KiB),
    an error status included (providers explain a refusal in its body). SendFailed when the
    provider cannot be reached."""
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read(65536)
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read(65536)
        except OSError:
            body = b""
        return exc.code, body
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendFailed(f"{provider} unreachable: {reason}") from None


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
    name = backend_name()
    if name not in BACKENDS:
        raise ValueError(f"NOTIFY_BACKEND is {name!r}; choose one of {', '.join(BACKENDS)}")
    return BACKENDS[name].from_config(current_app.config)


def backend_name() -> str:
    return current_app.config.get("NOTIFY_BACKEND") or OutboxBackend.name
