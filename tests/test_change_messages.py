"""An event moved, relocated or called off: every party still coming (a place, an offer, an
application, the waiting list) is texted once, with what changed and the ticket link; the
organiser sees how many before confirming, and nothing is saved or sent until they do."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import Event, EventSession, Notification, NotificationKind, Registration
from qmevents.services import events
from qmevents.services.registrations import cancellation
from qmevents.services.registrations import register as reg
from qmevents.timeutil import SHANGHAI

from .conftest import csrf_from, submit

MORNING = datetime(2031, 9, 16, 9, 30, tzinfo=SHANGHAI)
AFTERNOON = datetime(2031, 9, 16, 14, 0, tzinfo=SHANGHAI)


def two_sessions(factory) -> int:
    return factory.event(registration_mode="waitlist", sessions=[
        events.SessionDraft(starts_at=MORNING, ends_at=MORNING + timedelta(hours=2), capacity=2),
        events.SessionDraft(starts_at=AFTERNOON, ends_at=AFTERNOON + timedelta(hours=2),
                            capacity=10)])


def register(app, session_id: int, phone: str, party_size: int = 2) -> str:
    with app.test_request_context("/"):
        event_id = db.session.get(EventSession, session_id).event_id
        return reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="李华", phone=phone,
            party_size=party_size, consent=True)).code


def sessions_of(app, event_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(EventSession.id).filter_by(event_id=event_id)
                                       .order_by(EventSession.starts_at)))


def told(app, kind: NotificationKind) -> dict[str, str]:
    """{phone: text} of the messages of `kind`."""
    with app.app_context():
        return {n.recipient: n.body for n in db.session.scalars(
            select(Notification).filter_by(kind=kind.value))}


def edit_form(app, event_id: int, **changes) -> dict:
    with app.app_context():
        event = db.session.get(Event, event_id)
        fields = {**event.plain_fields(), "checkpoints": "入口", "action": "save"}
        for switch in ("allow_reentry", "verify_phone", "send_reminders", "series_pass"):
            if fields.pop(switch):
                fields[switch] = "y"
        for i, s in enumerate(sorted(event.sessions, key=lambda s: s.starts_at)):
            fields.update({f"sessions-{i}-id": str(s.id), f"sessions-{i}-label": s.label,
                           f"sessions-{i}-starts_at": f"{s.starts_at.astimezone(SHANGHAI):%Y-%m-%dT%H:%M}",
                           f"sessions-{i}-ends_at": f"{s.ends_at.astimezone(SHANGHAI):%Y-%m-%dT%H:%M}",
                           f"sessions-{i}-capacity": str(s.capacity),
                           f"sessions-{i}-registration_opens_at": "",
                           f"sessions-{i}-registration_closes_at": ""})
    fields.update(changes)
    return fields


def test_a_moved_session_is_told_to_its_registrants_after_the_organiser_confirms(
        app, factory, client, organiser):
    app.config["PUBLIC_URL"] = "https://qm.example.cn"
    event_id = two_sessions(factory)
    morning, afternoon = sessions_of(app, event_id)
    holder = register(app, morning, "13800138001")
    register(app, morning, "13800138002")  # full: waiting list, told as well
    gone = register(app, morning, "13800138003")
    with app.test_request_context("/"):
        cancellation.cancel(gone)  # the waiting family was promoted; this one is told nothing
    register(app, afternoon, "13800138004")  # another session: not concerned

    path = f"/organiser/events/{event_id}/edit"
    moved = edit_form(app, event_id, **{"sessions-0-starts_at": "2031-09-16T10:00",
                                        "sessions-0-ends_at": "2031-09-16T12:00"})
    asked = submit(client, path, moved)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'name="tell_confirmed"' in page
    assert "2 位报名者" in page or "2 registrants" in page
    with app.app_context():
        assert db.session.get(EventSession, morning).starts_at == MORNING  # nothing saved yet
    assert told(app, NotificationKind.EVENT_CHANGED) == {}

    confirmed = client.post(path, data={**moved, "tell_confirmed": "1",
                                        "csrf_token": csrf_from(page)})
    assert confirmed.status_code == 302
    messages = told(app, NotificationKind.EVENT_CHANGED)
    assert set(messages) == {"13800138001", "13800138002"}
    assert "时间改为9月16日 10:00–12:00" in messages["13800138001"]
    assert f"https://qm.example.cn/t/{holder}" in messages["13800138001"]
    with app.app_context():
        assert db.session.get(EventSession, morning).starts_at.astimezone(SHANGHAI).hour == 10

    # Saved again unchanged: nobody is asked about or told anything twice.
    again = submit(client, path, edit_form(app, event_id, title="新标题"))
    assert again.status_code == 302
    assert len(told(app, NotificationKind.EVENT_CHANGED)) == 2


def test_a_new_venue_is_told_to_every_session(app, factory, client, organiser):
    event_id = two_sessions(factory)
    morning, afternoon = sessions_of(app, event_id)
    register(app, morning, "13800138005")
    register(app, afternoon, "13800138006")
    moved = edit_form(app, event_id, venue="上海国际会议中心", tell_confirmed="1")
    assert submit(client, f"/organiser/events/{event_id}/edit", moved).status_code == 302
    messages = told(app, NotificationKind.EVENT_CHANGED)
    assert set(messages) == {"13800138005", "13800138006"}
    assert all("地点改为上海国际会议中心" in text for text in messages.values())


def test_a_cancelled_event_tells_everyone_coming_once(app, factory, client, organiser):
    event_id = two_sessions(factory)
    morning, afternoon = sessions_of(app, event_id)
    register(app, morning, "13800138007")
    register(app, morning, "13800138008")  # waiting list
    register(app, afternoon, "13800138009")
    path = f"/organiser/events/{event_id}/cancel"
    page = client.get(path).get_data(as_text=True)
    assert "3" in page and ("短信" in page or "text message" in page)
    assert client.post(path, data={"csrf_token": csrf_from(page)}).status_code == 302
    client.post(path, data={"csrf_token": csrf_from(page)})  # twice: refused, nobody told again
    messages = told(app, NotificationKind.EVENT_CANCELLED)
    assert set(messages) == {"13800138007", "13800138008", "13800138009"}
    assert "已取消" in messages["13800138007"] and "9月16日 09:30" in messages["13800138007"]
    with app.app_context():
        assert db.session.scalar(select(Event.status).filter_by(id=event_id)).value == "cancelled"
        assert len(list(db.session.scalars(select(Notification).filter_by(
            kind=NotificationKind.EVENT_CANCELLED.value)))) == 3
        assert db.session.scalar(select(Registration.status).filter_by(phone="13800138007"))
