"""Telling citizens about their registration: stored first, delivered by one backend, retried when
the provider fails, and never at the cost of the registration."""
from __future__ import annotations

import email
import json
import re
import socket
import socketserver
import threading
from datetime import timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from qmevents import cli
from qmevents.extensions import db
from qmevents.models import EventSession, Notification, Registration, RegistrationStatus
from qmevents.services.errors import ValidationFailed
from qmevents.services.messaging import backends as notify_backends
from qmevents.services.messaging import messages
from qmevents.services.messaging import outbox as notify
from qmevents.services.messaging.backends import Message, SendFailed, SmsBackend, SmtpBackend
from qmevents.services.registrations import cancellation
from qmevents.services.registrations import register as reg
from qmevents.timeutil import to_local, utcnow

PHONE = "13812345678"
TICKET_URL = "https://zlj.example.cn/t/ABCDEFGHJKMNPQRSTVWX"


@pytest.fixture
def registered(app, factory):
    """张伟 has registered a party of two for the open day: the registration's id."""
    event_id = factory.event(title="威派格智慧水务质量开放日")
    with app.app_context():
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))
        result = reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="张伟", phone=PHONE, party_size=2,
            consent=True))
        return result.registration_id


class BrokenBackend:
    name = "broken"
    calls = 0

    @classmethod
    def from_config(cls, config):
        return cls()

    def send(self, message):
        BrokenBackend.calls += 1
        raise SendFailed("provider down")


@pytest.fixture
def provider_down(app, monkeypatch):
    monkeypatch.setitem(notify_backends.BACKENDS, "broken", BrokenBackend)
    app.config["NOTIFY_BACKEND"] = "broken"


def confirm(registration_id: int) -> Notification:
    notification = messages.registration_confirmed(
        db.session.get(Registration, registration_id), TICKET_URL)
    return db.session.get(Notification, notification.id)


# --- the outbox (default) ---------------------------------------------------------------------


def test_the_confirmation_waits_in_the_outbox_with_the_ticket_link(app, registered):
    with app.app_context():
        message = confirm(registered)
        assert message.status == "sent" and message.backend == "outbox"
        assert TICKET_URL in message.body
        assert (message.channel, message.recipient, message.kind) == (
            "sms", PHONE, "registration_confirmed")
        assert message.registration_id == registered


def test_the_confirmation_names_event_time_and_party_but_not_the_phone(app, registered):
    with app.app_context():
        message = confirm(registered)
        starts = db.session.get(Registration, registered).session.starts_at
        local = to_local(starts)
        assert "【质量月】张伟" in message.body
        assert "「威派格智慧水务质量开放日」" in message.body
        assert f"{local.month}月{local.day}日 {local:%H:%M}" in message.body
        assert "2人" in message.body
        assert PHONE not in message.body


def test_a_phone_number_typed_as_the_name_never_reaches_a_text(app, factory):
    """Refused when typed; and a name stored before names were checked is not repeated by the
    official sender: the message greets the citizen instead."""
    event_id = factory.event()
    with app.app_context():
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))
        with pytest.raises(ValidationFailed) as refused:
            reg.register(reg.RegistrationRequest(
                event_id=event_id, session_id=session_id, name=PHONE, phone=PHONE,
                party_size=1, consent=True))
        assert set(refused.value.errors) == {"name"}
        result = reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="王芳", phone=PHONE, party_size=1,
            consent=True))
        db.session.get(Registration, result.registration_id).name = "请回电13900001111"
        db.session.commit()
        message = confirm(result.registration_id)
        assert "13900001111" not in message.body and "请回电" not in message.body
        assert message.body.startswith("【质量月】您好，您已报名")


def test_cancelling_sends_a_cancellation(app, registered):
    with app.app_context():
        cancelled = cancellation.cancel(db.session.get(Registration, registered).code)
        notification = messages.registration_cancelled(cancelled, TICKET_URL)
        message = db.session.get(Notification, notification.id)
        assert message.kind == "registration_cancelled" and message.status == "sent"
        assert "已取消" in message.body and PHONE not in message.body


def test_admins_see_the_latest_messages_first_with_masked_recipients(app, registered):
    with app.app_context():  # registering sent the confirmation
        messages.one_time_code(PHONE, "123456")
        entries = notify.recent(limit=20)
        assert [e.kind for e in entries] == ["one_time_code", "registration_confirmed"]
        assert {e.recipient for e in entries} == {"138****5678"}
        assert "123456" in entries[0].body  # the outbox is how the demo reads its codes


# --- failures and retries ---------------------------------------------------------------------


def test_a_failed_send_keeps_the_registration_and_a_pending_message(app, registered,
                                                                    provider_down):
    with app.app_context():
        message = confirm(registered)
        assert db.session.get(Registration, registered).status == RegistrationStatus.CONFIRMED
        assert message.status == "pending" and message.attempts == 1
        assert message.last_error == "provider down"
        assert message.next_attempt_at > utcnow()


def test_a_crashing_backend_counts_as_a_failed_send(app, registered, monkeypatch):
    class Crashing(BrokenBackend):
        def send(self, message):
            raise RuntimeError("bug")

    monkeypatch.setitem(notify_backends.BACKENDS, "broken", Crashing)
    app.config["NOTIFY_BACKEND"] = "broken"
    with app.app_context():
        message = confirm(registered)
        assert message.status == "pending" and "RuntimeError" in message.last_error


def test_a_message_is_not_retried_before_its_time(app, registered, provider_down):
    with app.app_context():
        confirm(registered)
        app.config["NOTIFY_BACKEND"] = "outbox"
        counts = notify.deliver_due()
        assert (counts.sent, counts.retrying, counts.failed) == (0, 0, 0)


def test_a_due_message_is_retried_and_sent_when_the_provider_is_back(app, registered,
                                                                     provider_down):
    with app.app_context():
        message_id = confirm(registered).id
        app.config["NOTIFY_BACKEND"] = "outbox"
        counts = notify.deliver_due(now=utcnow() + timedelta(hours=1))
        assert counts.sent == 1
        message = db.session.get(Notification, message_id)
        assert message.status == "sent" and message.attempts == 2 and message.last_error is None


def test_a_message_fails_for_good_after_the_last_attempt(app, registered, provider_down):
    app.config["NOTIFY_MAX_ATTEMPTS"] = 3
    with app.app_context():
        message_id = confirm(registered).id
        later = utcnow()
        for expected in ("retrying", "failed"):
            later += timedelta(hours=2)
            counts = notify.deliver_due(now=later)
            assert getattr(counts, expected) == 1
        message = db.session.get(Notification, message_id)
        assert message.status == "failed" and message.attempts == 3
        assert message.next_attempt_at is None
        assert notify.deliver_due(now=later + timedelta(days=1)).failed == 0


def test_the_retry_command_reports_its_counts_and_the_list_masks_phones(app, runner, registered,
                                                                        provider_down):
    if "notify" not in app.cli.commands:
        cli.notify.register(app)
    with app.app_context():
        confirm(registered)
    listing = runner.invoke(args=["notify", "list"])
    assert "138****5678" in listing.output and PHONE not in listing.output
    assert "provider down" in listing.output
    result = runner.invoke(args=["notify", "retry"])
    assert result.exit_code == 0
    assert result.output.strip() == "sent 0, retrying later 0, failed 0"


# --- the SMS provider adapter -----------------------------------------------------------------


class _Provider(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.server.received.append((dict(self.headers), json.loads(self.rfile.read(length))))
        self.send_response(self.server.answer)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}' if self.server.answer < 300 else b'{"error": "quota"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    server.received, server.answer = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}/send"
    yield server
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TEXT = Message(channel="sms", recipient=PHONE, subject="验证码", body="【质量月】您的验证码为123456")


def test_the_sms_provider_receives_json_with_the_api_key(sms_provider):
    SmsBackend(url=sms_provider.url, api_key="k-123", sender="质量月").send(TEXT)
    headers, payload = sms_provider.received[0]
    assert payload == {"to": PHONE, "text": TEXT.body, "sender": "质量月"}
    assert headers["Authorization"] == "Bearer k-123"


def test_an_sms_provider_error_is_a_failed_send(sms_provider):
    sms_provider.answer = 500
    with pytest.raises(SendFailed, match="500"):
        SmsBackend(url=sms_provider.url, api_key="k").send(TEXT)


def test_an_unreachable_sms_provider_is_a_failed_send():
    with pytest.raises(SendFailed, match="unreachable"):
        SmsBackend(url=f"http://127.0.0.1:{free_port()}/send", api_key="k").send(TEXT)


def test_a_code_sent_by_sms_is_not_kept_in_the_stored_text(app, sms_provider):
    app.config.update(NOTIFY_BACKEND="sms", SMS_API_URL=sms_provider.url, SMS_API_KEY="k")
    with app.app_context():
        notification = messages.one_time_code(PHONE, "246810")
        message = db.session.get(Notification, notification.id)
        assert message.status == "sent" and message.backend == "sms"
        assert "246810" in sms_provider.received[0][1]["text"]
        assert "246810" not in message.body


def test_a_registration_code_and_a_ticket_link_sent_by_sms_are_not_kept_either(
        app, client, factory, sms_provider):
    """Admins read the outbox: with a real provider it holds neither the code that proves a
    phone nor the code that opens (and cancels) a ticket."""
    app.config.update(NOTIFY_BACKEND="sms", SMS_API_URL=sms_provider.url, SMS_API_KEY="k")
    event_id = factory.event(verify_phone=True)
    with app.app_context():
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))
    client.post("/api/v1/phone-codes", json={"phone": PHONE})
    code = re.search(r"\d{6}", sms_provider.received[0][1]["text"]).group()
    ticket = client.post(f"/api/v1/events/{event_id}/registrations", json={
        "session_id": session_id, "name": "张伟", "phone": PHONE, "party_size": 1,
        "phone_code": code}).get_json()["code"]
    assert ticket in sms_provider.received[1][1]["text"]
    with app.app_context():
        stored = " ".join(db.session.scalars(db.select(Notification.body)))
    assert code not in stored and ticket not in stored and f"/t/{ticket[:4]}…" in stored


# --- SMTP ------------------------------------------------------------------------------------


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: accept everything, keep each message."""

    def handle(self):
        self.wfile.write(b"220 sink ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.received.append(data)
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_sink():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSink)
    server.daemon_threads = True
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


MAIL = Message(channel="email", recipient="zhang.wei@example.cn", subject="报名成功",
               body=f"您已报名。电子票：{TICKET_URL}")


def test_smtp_delivers_the_mail_with_subject_and_link(smtp_sink):
    SmtpBackend(host="127.0.0.1", port=smtp_sink.server_address[1], sender="noreply@example.cn",
                use_tls=False).send(MAIL)
    received = email.message_from_bytes(smtp_sink.received[0], policy=policy.default)
    assert received["To"] == "zhang.wei@example.cn"
    assert received["Subject"] == "报名成功"
    assert TICKET_URL in received.get_content()


def test_an_unreachable_mail_server_is_a_failed_send():
    backend = SmtpBackend(host="127.0.0.1", port=free_port(), sender="noreply@example.cn",
                          use_tls=False)
    with pytest.raises(SendFailed, match="SMTP"):
        backend.send(MAIL)


def test_smtp_refuses_text_messages():
    with pytest.raises(SendFailed, match="e-mail"):
        SmtpBackend(host="127.0.0.1", sender="noreply@example.cn").send(TEXT)


def test_with_a_real_provider_the_outbox_shows_no_code_even_of_a_message_still_waiting(
        app, factory):
    """The provider is down: the code's text is pending (retried later) and keeps its code for
    the retry, but the admins' outbox page shows it masked."""
    app.config.update(NOTIFY_BACKEND="sms", SMS_API_URL=f"http://127.0.0.1:{free_port()}/x")
    with app.app_context():
        messages.one_time_code(PHONE, "135790")
        stored = db.session.scalar(db.select(Notification))
        assert stored.status == "pending" and "135790" in stored.body
        assert "135790" not in notify.recent()[0].body
        app.config["NOTIFY_BACKEND"] = "outbox"  # the demo: the outbox is the delivery
        assert "135790" in notify.recent()[0].body
