"""The city's admins read every message kept for citizens — masked — see which failed and why,
and can retry the due ones at once. Nobody else may read them."""
from __future__ import annotations

from datetime import timedelta

import pytest

from qmevents.extensions import db
from qmevents.models import Notification, NotificationStatus
from qmevents.services.messaging import backends as notify_backends
from qmevents.services.messaging import messages
from qmevents.services.messaging import outbox as notify
from qmevents.services.messaging.outbox import SendFailed
from qmevents.timeutil import utcnow

from .conftest import csrf_from, login

PHONE = "13812345678"
MASKED = "138****5678"


class DownProvider:
    """An SMS provider that is down: every send fails with its answer."""

    name = "down"

    @classmethod
    def from_config(cls, config):
        return cls()

    def send(self, message):
        raise SendFailed("SMS provider answered 503 try later")


@pytest.fixture
def admin(factory, client):
    _, email = factory.user("admin")
    login(client, email)


def outbox_page(client) -> str:
    response = client.get("/organiser/outbox?lang=en")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_admin_reads_the_messages_with_masked_numbers(app, client, admin):
    with app.app_context():
        messages.one_time_code(PHONE, "402917")
        notify.queue("sms", "13900001111", "registration_confirmed", "报名成功",
                     "张伟，您已报名「威派格智慧水务质量开放日」，电话13900001111。")
    html = outbox_page(client)
    assert MASKED in html and "139****1111" in html
    assert PHONE not in html and "13900001111" not in html
    assert "402917" in html  # the demo reads its codes here: nothing was sent anywhere
    assert "One-time code" in html and "Registration confirmed" in html
    assert "Sent" in html and "outbox" in html


def test_a_failed_send_is_visible_with_its_error(app, client, admin, monkeypatch):
    monkeypatch.setitem(notify_backends.BACKENDS, "down", DownProvider)
    app.config["NOTIFY_BACKEND"] = "down"
    with app.app_context():
        messages.one_time_code(PHONE, "402917")
    html = outbox_page(client)
    assert "Waiting to be retried" in html
    assert "SMS provider answered 503 try later" in html


def test_the_retry_button_delivers_the_due_messages(app, client, admin, monkeypatch):
    monkeypatch.setitem(notify_backends.BACKENDS, "down", DownProvider)
    app.config["NOTIFY_BACKEND"] = "down"
    with app.app_context():
        message_id = messages.one_time_code(PHONE, "402917").id
        db.session.get(Notification, message_id).next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    app.config["NOTIFY_BACKEND"] = "outbox"  # the provider is back

    html = outbox_page(client)
    response = client.post("/organiser/outbox/retry?lang=en",
                           data={"csrf_token": csrf_from(html)})
    assert response.status_code == 303
    assert "Sent: 1." in outbox_page(client)
    with app.app_context():
        message = db.session.get(Notification, message_id)
        assert (message.status, message.attempts) == (NotificationStatus.SENT, 2)


def test_retrying_with_nothing_due_says_so(client, admin):
    html = outbox_page(client)
    client.post("/organiser/outbox/retry", data={"csrf_token": csrf_from(html)})
    assert "No message was due for another try." in outbox_page(client)


def test_the_retry_button_needs_the_forms_token(client, admin):
    assert client.post("/organiser/outbox/retry").status_code == 400


def test_an_organiser_may_not_read_the_outbox(client, organiser):
    assert client.get("/organiser/outbox").status_code == 403
    assert client.post("/organiser/outbox/retry",
                       data={"csrf_token": csrf_from(client.get("/organiser/").get_data(
                           as_text=True))}).status_code == 403


def test_door_staff_may_not_read_the_outbox(factory, client):
    _, email = factory.user("staff")
    login(client, email)
    assert client.get("/organiser/outbox").status_code == 403


def test_a_visitor_is_asked_to_sign_in(client):
    response = client.get("/organiser/outbox")
    assert response.status_code == 401
    assert 'action="/login"' in response.get_data(as_text=True)


def test_the_outbox_is_paged(app, client, admin):
    with app.app_context():
        for n in range(31):
            notify.queue("sms", PHONE, "one_time_code", "验证码", f"第{n}条")
    first = outbox_page(client)
    assert "Older ›" in first and "第30条" in first and "第0条" not in first
    second = client.get("/organiser/outbox?page=2&lang=en").get_data(as_text=True)
    assert "第0条" in second and "‹ Newer" in second


def test_admins_find_the_outbox_from_their_events_page(client, admin):
    assert 'href="/organiser/outbox"' in client.get("/organiser/").get_data(as_text=True)


def test_organisers_see_no_outbox_link(client, organiser):
    assert "/organiser/outbox" not in client.get("/organiser/").get_data(as_text=True)
