"""Text we build never runs as a program: names an organiser types (tallies, checkpoints,
questions, titles) reach every page, download and summary as values, never as a template of
str.format, %, Jinja or anything else."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import Event, EventSession, Tally, User
from qmevents.services.door import desk as door
from qmevents.services.registrations.questions import QuestionDraft, set_questions

from .conftest import login

TEMPLATES = ["{x}", "{n:>3000000}", "%(name)s", "{{ 7*7 }}", "${jndi:ldap://x}", "{0.__class__}"]


@pytest.fixture
def held(app, factory) -> int:
    """A fair held last week whose tallies, checkpoints and question are named like templates;
    each service was counted at the door."""
    event_id = factory.event(kind="consultation", tallies=TEMPLATES,
                             checkpoints=["入口", "{station}", "%s%s%s"],
                             title="{title} 质量咨询 %(x)s")
    _id, email = factory.user("admin", org=None)
    with app.app_context():
        event = db.session.get(Event, event_id)
        set_questions(event, [QuestionDraft(label="{q} %d {{ q }}", kind="text", required=False)])
        for session in event.sessions:
            session.starts_at -= timedelta(days=14)
            session.ends_at -= timedelta(days=14)
        db.session.commit()
        admin = db.session.scalar(select(User).filter_by(email=email))
        for tally in db.session.scalars(select(Tally).filter_by(event_id=event_id)):
            door.bump(event_id, tally.id, 12, admin)
    return event_id


def test_the_campaign_summary_names_services_as_typed_and_stays_small(app, client, factory,
                                                                       held):
    _id, email = factory.user("admin", org=None)
    login(client, email)
    with app.app_context():
        day = db.session.scalar(select(EventSession.starts_at).filter_by(event_id=held))
    since = (day - timedelta(days=1)).date().isoformat()
    for path in (f"/organiser/campaign/summary?date_from={since}",
                 f"/organiser/campaign/summary?date_from={since}&format=txt",
                 f"/organiser/campaign/summary?date_from={since}&lang=en"):
        response = client.get(path)
        text = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert len(response.get_data()) < 200_000, path  # {n:>3000000} made 3 MB before
        assert "提供{x}服务" in text or "offered {x} to" in text, path


def test_every_page_and_download_shows_the_names_as_typed(app, client, factory, held):
    _id, email = factory.user("admin", org=None)
    login(client, email)
    pages = [f"/organiser/events/{held}", f"/organiser/events/{held}/report",
             f"/organiser/events/{held}/report.csv", f"/organiser/events/{held}/report.pdf",
             f"/organiser/events/{held}/questions", f"/door/events/{held}",
             "/organiser/dashboard", "/organiser/dashboard.csv"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert len(response.get_data()) < 2_000_000, path
    report = client.get(f"/organiser/events/{held}/report").get_data(as_text=True)
    for name in ("{x}", "{n:&gt;3000000}", "%(name)s", "{{ 7*7 }}", "{station}", "%s%s%s"):
        assert name in report, name
    csv_text = client.get(f"/organiser/events/{held}/report.csv").get_data(as_text=True)
    assert "{0.__class__}" in csv_text and "{title} 质量咨询 %(x)s" in csv_text
