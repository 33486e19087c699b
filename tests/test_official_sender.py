"""The official sender carries only our words: a ticket link in a text message never comes from
a request's Host header, and a name typed by a citizen cannot turn a message into a link or a
phone number to somebody else."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import EventSession, Notification, NotificationKind, Registration
from qmevents.security import UnsafeProductionConfig
from qmevents.services.identity import normalise_name
from qmevents.services.messaging import messages

from .conftest import close_app, ready_app, submit

PUBLIC = "https://zlj.example.gov.cn"
EVIL = "evil.example"


@pytest.fixture
def public_app(tmp_path, monkeypatch, postgres_url):
    """The app as deployed: PUBLIC_URL set."""
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "instance"))
    app = ready_app(postgres_url, PUBLIC_URL=PUBLIC)
    yield app
    close_app(app)


def open_day(app, factory, **fields) -> tuple[int, int]:
    from .conftest import Factory

    event_id = Factory(app).event(**fields) if factory is None else factory.event(**fields)
    with app.app_context():
        return event_id, db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))


def register(client, event_id: int, session_id: int, phone: str, host: str = "localhost",
             **fields):
    body = {"session_id": session_id, "name": "张伟", "phone": phone, "party_size": 2, **fields}
    return client.post(f"/api/v1/events/{event_id}/registrations?lang=en", json=body,
                       headers={"Host": host})


def bodies(app, kind: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Notification.body).filter_by(kind=kind)
                                       .order_by(Notification.id)))


# --- links come from PUBLIC_URL, never from the Host header ---------------------------------------


def test_production_refuses_to_start_without_public_url(tmp_path, monkeypatch):
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("QMEVENTS_ENV", "production")
    sms = {"NOTIFY_BACKEND": "sms", "SMS_API_URL": "https://sms.example.cn/send"}
    for value in (None, "", "zlj.example.gov.cn", "javascript:alert(1)"):
        settings = {"SECRET_KEY": "x", "PUBLIC_URL": value, **sms}
        with pytest.raises(UnsafeProductionConfig, match="PUBLIC_URL"):
            create_app(settings)
    app = create_app({"SECRET_KEY": "x", "PUBLIC_URL": PUBLIC, **sms})
    assert app.config["PUBLIC_URL"] == PUBLIC


def test_a_forged_host_changes_no_link_a_citizen_receives(public_app):
    event_id, session_id = open_day(public_app, None, verify_phone=False)
    client = public_app.test_client()
    response = register(client, event_id, session_id, "13812345678", host=EVIL)
    assert response.status_code == 201
    assert response.get_json()["ticket_url"].startswith(PUBLIC + "/t/")
    [text] = bodies(public_app, NotificationKind.REGISTRATION_CONFIRMED)
    assert PUBLIC + "/t/" in text and EVIL not in text


def test_a_forged_host_on_a_cancellation_cannot_change_the_next_familys_text(public_app):
    """The attack: cancel one's own ticket with Host: evil.example, so that the official sender
    texts the family promoted from the waiting list a link to evil.example."""
    event_id, session_id = open_day(public_app, None, verify_phone=False,
                                    registration_mode="waitlist", max_party_size=4)
    client = public_app.test_client()
    with public_app.app_context():
        db.session.get(EventSession, session_id).capacity = 2
        db.session.commit()
    mine = register(client, event_id, session_id, "13812345678").get_json()["code"]
    waiting = register(client, event_id, session_id, "13900001111")
    assert waiting.get_json()["status"] == "waitlisted"
    page = f"/t/{mine}/cancel"
    html = client.get(page, headers={"Host": EVIL}).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    cancelled = client.post(page, data={"csrf_token": token},
                            headers={"Host": EVIL, "Referer": f"http://{EVIL}{page}"})
    assert cancelled.status_code == 303
    [promoted] = bodies(public_app, NotificationKind.WAITLIST_PROMOTED)
    assert PUBLIC + "/t/" in promoted and EVIL not in promoted
    for text in bodies(public_app, NotificationKind.REGISTRATION_CANCELLED):
        assert EVIL not in text


def test_without_public_url_only_a_trusted_host_builds_links(app, client, factory):
    """Development: links from the request's host only for LINK_HOSTS (localhost); a request to
    any other Host that could send a message is refused before anything is written."""
    event_id, session_id = open_day(app, factory)
    refused = register(client, event_id, session_id, "13812345678", host=EVIL)
    assert refused.status_code == 400 and refused.get_json()["error"] == "untrusted_host"
    with app.app_context():
        assert db.session.scalar(select(Registration.id)) is None
        assert db.session.scalar(select(Notification.id)) is None
    ok = register(client, event_id, session_id, "13812345678", host="127.0.0.1:5000")
    assert ok.status_code == 201
    assert ok.get_json()["ticket_url"].startswith("http://127.0.0.1:5000/t/")
    code = ok.get_json()["code"]
    # The page names no absolute link (its QR is an image); what draws the link refuses.
    page = client.get(f"/t/{code}", headers={"Host": EVIL})
    assert page.status_code == 200 and "evil" not in page.get_data(as_text=True)
    for drawn in ("qr.png", "ticket.png", "ticket.pdf", "calendar.ics"):
        assert client.get(f"/t/{code}/{drawn}", headers={"Host": EVIL}).status_code == 400
    assert client.get(f"/t/{code}").status_code == 200


def test_a_forged_host_on_the_form_is_refused_before_anything_happens(app, client, factory):
    event_id, session_id = open_day(app, factory)
    url = f"/events/{event_id}/sessions/{session_id}/register?lang=en"
    response = submit(client, url, {"name": "张伟", "phone": "13812345678", "party_size": "1",
                                    "consent": "y"}, headers={"Host": EVIL})
    assert response.status_code == 400
    assert "not one of this site" in response.get_data(as_text=True)


def test_link_hosts_can_name_the_sites_own_domains(tmp_path, monkeypatch, postgres_url):
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "instance"))
    app = ready_app(postgres_url, LINK_HOSTS=[".example.cn"])
    try:
        event_id, session_id = open_day(app, None, verify_phone=False)
        client = app.test_client()
        assert register(client, event_id, session_id, "13812345678",
                        host="qm.example.cn").status_code == 201
        assert register(client, event_id, session_id, "13900001111",
                        host="example.cn.evil.example").status_code == 400
    finally:
        close_app(app)


# --- names hold what names hold ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["王芳", "欧阳娜娜", "买买提·艾力", "阿依古丽・买买提", "张三",
                                  "Mary O'Brien-Smith", "José Müller", "Nguyễn Văn An"])
def test_names_of_people_are_taken(app, client, factory, name):
    event_id, session_id = open_day(app, factory)
    response = register(client, event_id, session_id, "13812345678", name=name)
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("name", [
    "13812345678", "王芳13812345678", "请拨一三八一二三四五六七八", "evil.com", "http://x.cn",
    "王芳 www.evil.cn", "加微信abcdef", "王芳@evil", "王芳/退款", "王芳：点击", "<b>王芳</b>",
    "王芳😀", "王\u200b芳", "x" * 31, " ", "王芳\n退订回T", "加微信Ѕһеոց", "Ivan Петров",
])
def test_what_makes_a_message_to_someone_else_is_refused(app, client, factory, name):
    event_id, session_id = open_day(app, factory)
    response = register(client, event_id, session_id, "13812345678", name=name)
    assert response.status_code == 422, name
    assert set(response.get_json()["errors"]) == {"name"}
    with app.app_context():
        for registration in db.session.scalars(select(Registration)):
            assert normalise_name(registration.name) == registration.name


def test_a_refused_name_says_what_a_name_may_hold_in_chinese(app, client, factory):
    event_id, session_id = open_day(app, factory)
    body = {"session_id": session_id, "name": "王芳13812345678", "phone": "13812345678",
            "party_size": 1}
    response = client.post(f"/api/v1/events/{event_id}/registrations", json=body)
    assert "姓名" in response.get_json()["errors"]["name"]


def test_every_message_names_its_citizen_only_by_a_valid_name(app, factory):
    """Rows written before names were checked (or by hand) reach no text as they are."""
    event_id, session_id = open_day(app, factory)
    with app.app_context():
        registration = Registration(
            code="ABCDEFGHJKMNPQRSTVWX", event_id=event_id, session_id=session_id,
            name="退款请点 evil.cn 或拨13900001111", phone="13812345678", party_size=1,
            status="confirmed", source="web")
        db.session.add(registration)
        db.session.commit()
        for compose in (messages.registration_confirmed, messages.registration_cancelled,
                        messages.promoted, messages.invited, messages.cancelled_by_organiser):
            compose(registration, PUBLIC + "/t/ABCDEFGHJKMNPQRSTVWX")
        texts = db.session.scalars(select(Notification.body)).all()
    assert len(texts) == 5
    for text in texts:
        assert "evil" not in text and "1390000" not in text and "您好，" in text
