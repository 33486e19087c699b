"""The reminder the day before: due at 18:00 Shanghai time, to confirmed parties only, once —
even when two cron runs overlap (two real processes on one database) — with a link that gives
the places back to the waiting list."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import (
    Event,
    EventSession,
    Notification,
    NotificationKind,
    Registration,
    RegistrationStatus,
    ensure_districts,
)
from qmevents.services import events
from qmevents.services.messaging import reminders
from qmevents.services.registrations import register as reg
from qmevents.timeutil import SHANGHAI, utcnow

from .conftest import Factory, csrf_from, submit
from .support.server import app_env

# A session at 10:00 Shanghai time on 2031-09-16: its reminder is due at 18:00 on the 15th.
STARTS = datetime(2031, 9, 16, 10, 0, tzinfo=SHANGHAI)
DUE = datetime(2031, 9, 15, 18, 0, tzinfo=SHANGHAI)


def make_event(factory: Factory, starts: datetime = STARTS, capacity: int = 30, **overrides) -> int:
    return factory.event(
        registration_mode=overrides.pop("registration_mode", "waitlist"),
        sessions=[events.SessionDraft(starts_at=starts, ends_at=starts + timedelta(hours=2),
                                      capacity=capacity)],
        **overrides)


def register(app, event_id: int, phone: str, party_size: int = 2) -> str:
    with app.test_request_context("/"):
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
        return reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="王小明", phone=phone,
            party_size=party_size, consent=True)).code


def sent_reminders(app) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(
            select(Notification).filter_by(kind=NotificationKind.REMINDER.value)
            .order_by(Notification.id)))


def run_at(app, moment: datetime) -> int:
    with app.app_context():
        return reminders.send_due(now=moment.astimezone(SHANGHAI)).sent


def test_due_at_six_the_evening_before_once_with_ticket_and_cancel_links(app, factory):
    app.config["PUBLIC_URL"] = "https://qm.example.cn"
    event_id = make_event(factory)
    code = register(app, event_id, "13800138000", party_size=3)

    assert run_at(app, DUE - timedelta(minutes=1)) == 0
    assert run_at(app, DUE) == 1
    assert run_at(app, DUE + timedelta(minutes=5)) == 0  # the next cron run: nothing twice

    (message,) = sent_reminders(app)
    assert message.recipient == "13800138000"
    assert message.template == "reminder"
    assert "9月16日 10:00" in message.body and "3人" in message.body
    assert f"https://qm.example.cn/t/{code}" in message.body
    assert f"https://qm.example.cn/t/{code}/cancel" in message.body
    assert message.params["cancel"] == f"https://qm.example.cn/t/{code}/cancel"
    with app.app_context():
        assert db.session.scalar(select(Registration.reminder_sent_at)) is not None


def test_only_confirmed_parties_of_published_events_that_want_reminders(app, factory):
    wanted = make_event(factory, capacity=2)
    confirmed = register(app, wanted, "13800138001", party_size=2)
    register(app, wanted, "13800138002", party_size=1)  # full: on the waiting list
    cancelled = register(app, make_event(factory), "13800138003")
    opted_out = make_event(factory, send_reminders=False)
    register(app, opted_out, "13800138004")
    with app.test_request_context("/"):
        from qmevents.services.registrations import cancellation
        cancellation.cancel(cancelled)
        statuses = Counter(db.session.scalars(select(Registration.status)))
    assert statuses[RegistrationStatus.WAITLISTED] == 1

    assert run_at(app, DUE) == 1
    (message,) = sent_reminders(app)
    assert confirmed in message.body


def test_a_late_run_reminds_until_an_hour_before_the_start(app, factory):
    event_id = make_event(factory)
    register(app, event_id, "13800138005")
    assert run_at(app, STARTS - timedelta(minutes=59)) == 0  # too late to be of use
    assert run_at(app, STARTS - timedelta(hours=2)) == 1  # the server was down at 18:00


def test_a_cancelled_event_reminds_nobody(app, factory):
    event_id = make_event(factory)
    register(app, event_id, "13800138006")
    with app.app_context():
        events.cancel(db.session.get(Event, event_id))
    assert run_at(app, DUE) == 0


def test_reminders_are_on_for_a_new_event_and_the_form_turns_them_off(app, factory, client,
                                                                     organiser):
    new = client.get("/organiser/events/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="send_reminders"|'
                     r'<input[^>]*name="send_reminders"[^>]*checked', new)
    event_id = make_event(factory, publish=False)
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.send_reminders is True
        session = event.sessions[0]
        fields = {**event.plain_fields(), "sessions-0-id": str(session.id),
                  "sessions-0-starts_at": f"{STARTS:%Y-%m-%dT%H:%M}",
                  "sessions-0-ends_at": f"{STARTS + timedelta(hours=2):%Y-%m-%dT%H:%M}",
                  "sessions-0-capacity": "30", "checkpoints": "入口", "action": "save"}
    for switch in ("allow_reentry", "verify_phone", "send_reminders", "series_pass"):
        fields.pop(switch)  # an unticked box is not sent
    response = submit(client, f"/organiser/events/{event_id}/edit", fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        assert db.session.get(Event, event_id).send_reminders is False


def test_the_cancel_link_of_the_reminder_gives_the_places_to_the_waiting_list(app, factory,
                                                                                client):
    event_id = make_event(factory, capacity=2)
    holder = register(app, event_id, "13800138007", party_size=2)
    waiting = register(app, event_id, "13800138008", party_size=2)
    run_at(app, DUE)
    (message,) = sent_reminders(app)
    path = f"/t/{holder}/cancel"
    assert path in message.body
    page = client.get(path)
    assert page.status_code == 200
    answer = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert answer.status_code == 303
    with app.app_context():
        status = dict(db.session.execute(select(Registration.code, Registration.status)).all())
    assert status[holder] == RegistrationStatus.CANCELLED
    assert status[waiting] == RegistrationStatus.CONFIRMED  # promoted into the freed places


def test_cli_reminders(app, factory, runner):
    event_id = make_event(factory, starts=(utcnow() + timedelta(hours=3)).replace(microsecond=0))
    register(app, event_id, "13800138009")
    assert runner.invoke(args=["notify", "reminders"]).output.strip() == "reminders sent 1"
    assert runner.invoke(args=["notify", "reminders"]).output.strip() == "reminders sent 0"


PARTIES = 120


@pytest.fixture
def crowded(database_url, tmp_path, monkeypatch):
    """A database of its own with PARTIES confirmed parties whose reminder is due now."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False,
                      "NOTIFY_IN_BACKGROUND": False, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    event_id = make_event(Factory(app), starts=(utcnow() + timedelta(hours=3)).replace(
        second=0, microsecond=0), capacity=PARTIES)
    for n in range(PARTIES):
        register(app, event_id, f"1390000{n:04d}", party_size=1)
    yield app, instance, database_url
    with app.app_context():
        db.engine.dispose()


def test_two_cron_runs_at_once_send_each_reminder_once(crowded):
    app, instance, database_url = crowded
    env = {**os.environ, **app_env(instance, database_url)}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "notify", "reminders"]
    runs = [subprocess.Popen(flask, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(3)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    counted = sum(int(out.strip().rsplit(" ", 1)[1]) for out, _ in outputs)
    assert counted == PARTIES

    with app.app_context():
        per_party = Counter(db.session.scalars(
            select(Notification.registration_id).filter_by(kind=NotificationKind.REMINDER.value)))
        unclaimed = db.session.scalar(select(func.count()).select_from(Registration).where(
            Registration.reminder_sent_at.is_(None)))
    assert len(per_party) == PARTIES and set(per_party.values()) == {1}
    assert unclaimed == 0
