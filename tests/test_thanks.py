"""The thank-you after the event: to parties that came in (never to no-shows, never to cancelled
registrations), once its session has ended, in the daytime, within three days, once — even when
three cron runs overlap (real processes on one database) — with the survey's link."""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import (
    Event,
    EventSession,
    Notification,
    NotificationKind,
    Registration,
    User,
    ensure_districts,
)
from qmevents.services import events
from qmevents.services.door import checkin
from qmevents.services.messaging import thanks
from qmevents.services.registrations import cancellation
from qmevents.services.registrations import register as reg
from qmevents.timeutil import SHANGHAI, utcnow

from .conftest import Factory, on_the_day
from .support.server import app_env

# A session from 10:00 to 12:00 Shanghai time on 2031-09-16.
STARTS = datetime(2031, 9, 16, 10, 0, tzinfo=SHANGHAI)
ENDS = STARTS + timedelta(hours=2)


class Door:
    """An event with one session, tickets registered and let in through the real door."""

    def __init__(self, app, factory: Factory, starts: datetime = STARTS,
                 hours: float = 2, **fields) -> None:
        self.app = app
        self.admin_id, _email = factory.user("admin", org=None)
        self.event_id = factory.event(
            registration_mode=fields.pop("registration_mode", "waitlist"),
            sessions=[events.SessionDraft(starts_at=starts,
                                          ends_at=starts + timedelta(hours=hours),
                                          capacity=fields.pop("capacity", 30))], **fields)
        with app.app_context():
            self.session_id = db.session.scalar(
                select(EventSession.id).filter_by(event_id=self.event_id))

    def ended_an_hour_ago(self) -> None:
        """The session took place: it ended an hour ago (events are made in the future)."""
        with self.app.app_context():
            session = db.session.get(EventSession, self.session_id)
            length = session.ends_at - session.starts_at
            session.ends_at = utcnow().replace(microsecond=0) - timedelta(hours=1)
            session.starts_at = session.ends_at - length
            db.session.commit()

    def ticket(self, phone: str, party_size: int = 2) -> str:
        with self.app.test_request_context("/"):
            return reg.register(reg.RegistrationRequest(
                event_id=self.event_id, session_id=self.session_id, name="王小明", phone=phone,
                party_size=party_size, consent=True)).code

    def admit(self, code: str, people: int | None = None) -> None:
        with self.app.app_context(), on_the_day(self.app, self.session_id):
            answer = checkin.redeem(code, event_id=self.event_id, session_id=self.session_id,
                                    checkpoint_id=None, people=people,
                                    staff=db.session.get(User, self.admin_id))
            assert answer.admitted_people, answer


def sent(app) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(
            select(Notification).filter_by(kind=NotificationKind.THANK_YOU.value)
            .order_by(Notification.id)))


def run_at(app, moment: datetime) -> int:
    with app.app_context():
        return thanks.send_due(now=moment).sent


def test_after_the_session_once_naming_the_event_with_the_survey_link(app, factory):
    app.config["PUBLIC_URL"] = "https://qm.example.cn"
    door = Door(app, factory, title="威派格智慧水务质量开放日")
    code = door.ticket("13800138000", party_size=3)
    door.admit(code, people=1)  # one of three came: the party came

    assert run_at(app, ENDS - timedelta(minutes=1)) == 0  # still under way
    assert run_at(app, ENDS) == 1
    assert run_at(app, ENDS + timedelta(minutes=5)) == 0  # the next cron run: nothing twice

    (message,) = sent(app)
    assert message.recipient == "13800138000"
    assert message.template == "thank_you"
    assert "威派格智慧水务质量开放日" in message.body
    assert f"https://qm.example.cn/t/{code}/survey" in message.body
    assert message.params["survey"] == f"https://qm.example.cn/t/{code}/survey"
    with app.app_context():
        assert db.session.scalar(select(Registration.thanks_sent_at)) is not None


def test_never_to_no_shows_cancelled_or_waiting_parties(app, factory):
    door = Door(app, factory, capacity=6)
    came = door.ticket("13800138001", party_size=2)
    door.ticket("13800138002", party_size=2)  # confirmed, never came
    withdrawn = door.ticket("13800138003", party_size=2)
    waiting = door.ticket("13800138004", party_size=2)  # full: on the waiting list
    door.admit(came)
    # An organiser cancelled a ticket after its people came in: cancelled is cancelled.
    door.admit(withdrawn)
    with app.app_context():
        registration = db.session.scalar(select(Registration).filter_by(code=withdrawn))
        cancellation.cancel_by_organiser(door.event_id, registration.id,
                                         db.session.get(User, door.admin_id))
        assert db.session.scalar(select(Registration.status).filter_by(code=waiting)) \
            .value == "waitlisted"

    assert run_at(app, ENDS + timedelta(hours=1)) == 1
    (message,) = sent(app)
    assert message.recipient == "13800138001"


def test_not_at_night_and_not_after_three_days(app, factory):
    evening = datetime(2031, 9, 16, 19, 30, tzinfo=SHANGHAI)  # ends at 21:30
    door = Door(app, factory, starts=evening)
    door.admit(door.ticket("13800138005"))
    assert run_at(app, evening + timedelta(hours=2, minutes=5)) == 0  # 21:35: too late today
    assert run_at(app, datetime(2031, 9, 17, 8, 59, tzinfo=SHANGHAI)) == 0
    assert run_at(app, datetime(2031, 9, 17, 9, 0, tzinfo=SHANGHAI)) == 1

    late = Door(app, factory, starts=STARTS - timedelta(days=10))
    late.admit(late.ticket("13800138006"))
    assert run_at(app, ENDS - timedelta(days=10) + timedelta(days=3, minutes=1)) == 0
    assert run_at(app, ENDS - timedelta(days=10) + timedelta(days=2, hours=23)) == 1


def test_a_cancelled_event_or_a_draft_thanks_nobody(app, factory):
    door = Door(app, factory)
    door.admit(door.ticket("13800138007"))
    with app.app_context():
        events.cancel(db.session.get(Event, door.event_id))
    assert run_at(app, ENDS + timedelta(hours=1)) == 0


def test_cli_thanks(app, factory, runner):
    app.config["THANKS_HOURS"] = (0, 24)  # whenever the suite runs
    door = Door(app, factory)
    door.admit(door.ticket("13800138009"))
    door.ended_an_hour_ago()
    assert runner.invoke(args=["notify", "thanks"]).output.strip() == "thanks sent 1"
    assert runner.invoke(args=["notify", "thanks"]).output.strip() == "thanks sent 0"


PARTIES = 120


@pytest.fixture
def crowd(database_url, tmp_path, monkeypatch):
    """A database of its own with PARTIES parties let in at a session that ended an hour ago."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False,
                      "NOTIFY_IN_BACKGROUND": False, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    door = Door(app, Factory(app), capacity=PARTIES)
    for n in range(PARTIES):
        door.ticket(f"1390000{n:04d}", party_size=1)
    door.ended_an_hour_ago()
    with app.app_context():  # let in: the door's own rule is tested elsewhere
        db.session.execute(update(Registration).values(admitted_people=1))
        db.session.commit()
    yield app, instance, database_url
    with app.app_context():
        db.engine.dispose()


def test_three_cron_runs_at_once_thank_each_party_once(crowd):
    app, instance, database_url = crowd
    # Any hour of the day: the suite may run at night.
    env = {**os.environ, **app_env(instance, database_url), "FLASK_THANKS_HOURS": "[0, 24]"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "notify", "thanks"]
    runs = [subprocess.Popen(flask, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(3)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    counted = sum(int(out.strip().rsplit(" ", 1)[1]) for out, _ in outputs)
    assert counted == PARTIES

    with app.app_context():
        per_party = Counter(db.session.scalars(
            select(Notification.registration_id).filter_by(kind=NotificationKind.THANK_YOU.value)))
        unclaimed = db.session.scalar(select(func.count()).select_from(Registration).where(
            Registration.thanks_sent_at.is_(None)))
    assert len(per_party) == PARTIES and set(per_party.values()) == {1}
    assert unclaimed == 0
