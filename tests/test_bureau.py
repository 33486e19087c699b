"""A district bureau sees its district: every published event in it, a host enterprise's too,
with its figures, on its dashboard and in its campaign summary — and edits, scans and reads the
people of its own events only. An enterprise sees only its own; another district's bureau sees
none of it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from qmevents.extensions import db
from qmevents.models import EventSession, Organisation, OrgKind, User
from qmevents.services import events
from qmevents.services.door import checkin
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow

from .conftest import PASSWORD, csrf_from, login

BUREAU = "杨浦区市场监督管理局"
ENTERPRISE = "上海电气集团"
ELSEWHERE = "嘉定区市场监督管理局"
OPEN_DAY = "上海电气透平厂质量开放日"
DRAFT = "上海电气内部筹备中的活动"


@pytest.fixture
def district(app, factory):
    """The Yangpu bureau, an enterprise of Yangpu with a published open day that has begun (two
    people of a family admitted) and a draft, and Jiading's bureau."""
    with app.app_context():
        from qmevents.services import accounts
        accounts.find_or_create_organisation(ENTERPRISE, "杨浦区", "enterprise")
        db.session.commit()
    start = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    session = [events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=3),
                                   capacity=50)]
    open_day = factory.event(org_name=ENTERPRISE, title=OPEN_DAY, sessions=session)
    draft = factory.event(org_name=ENTERPRISE, title=DRAFT, publish=False)
    with app.test_request_context("/"):
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=open_day))
        code = reg.register(reg.RegistrationRequest(
            event_id=open_day, session_id=session_id, name="周家", phone="13800138011",
            party_size=3, consent=True)).code
        begun = utcnow() - timedelta(minutes=30)  # it began half an hour ago
        db.session.execute(update(EventSession).where(EventSession.id == session_id)
                           .values(starts_at=begun, ends_at=begun + timedelta(hours=3)))
        db.session.commit()
        owner = _user(factory, ENTERPRISE, "杨浦区")
        checkin.redeem(code, event_id=open_day, session_id=None, checkpoint_id=None, people=2,
                       staff=db.session.get(User, owner[0]))
    return {"open_day": open_day, "draft": draft, "enterprise": owner,
            "bureau": _user(factory, BUREAU, "杨浦区"),
            "elsewhere": _user(factory, ELSEWHERE, "嘉定区")}


def _user(factory, org: str, district_name: str):
    return factory.user("organiser", org=org, district=district_name)


def test_the_bureau_sees_its_districts_published_events_read_only(app, client, district):
    login(client, district["bureau"][1])
    listing = client.get("/organiser/?lang=zh_CN").get_data(as_text=True)
    assert OPEN_DAY in listing and DRAFT not in listing
    assert f"{ENTERPRISE} · 仅查看数据" in listing  # marked as another's, read-only

    event = f"/organiser/events/{district['open_day']}"
    page = client.get(event)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="{event}/edit"' not in html and f'href="{event}/registrants"' not in html
    assert client.get(f"{event}/report").status_code == 200

    assert client.get(f"{event}/edit").status_code == 403
    assert client.get(f"{event}/registrants").status_code == 403  # figures, not people
    assert client.get(f"/organiser/events/{district['draft']}").status_code == 404
    csrf = csrf_from(client.get("/organiser/").get_data(as_text=True))
    assert client.post(f"{event}/cancel", data={"csrf_token": csrf}).status_code == 403
    assert client.post(f"{event}/registrants/export",
                       data={"csrf_token": csrf, "format": "csv"}).status_code == 403


def test_the_bureau_may_not_scan_an_enterprises_event(app, client, district):
    token = client.post("/api/v1/token", json={"email": district["bureau"][1],
                                                "password": PASSWORD}).get_json()["token"]
    answer = client.get(f"/api/v1/events/{district['open_day']}/attendance",
                        headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code in (403, 404)


def test_the_dashboard_and_summary_of_the_bureau_count_the_enterprises_event(app, client,
                                                                              district):
    login(client, district["bureau"][1])
    board = client.get("/organiser/dashboard?lang=zh_CN").get_data(as_text=True)
    assert ENTERPRISE in board
    summary = client.get("/organiser/campaign/summary?lang=zh_CN").get_data(as_text=True)
    assert "杨浦" in summary and "透平厂" in summary


def test_an_enterprise_sees_its_own_only_and_another_bureau_nothing(app, client, district,
                                                                    factory):
    bureau_event = factory.event(org_name=BUREAU, title="杨浦区局自办的质量讲堂")
    login(client, district["enterprise"][1])
    listing = client.get("/organiser/").get_data(as_text=True)
    assert OPEN_DAY in listing and DRAFT in listing and "杨浦区局自办" not in listing
    assert client.get(f"/organiser/events/{bureau_event}").status_code == 404
    board = client.get("/organiser/dashboard?lang=zh_CN").get_data(as_text=True)
    assert ENTERPRISE in board and BUREAU not in board

    other = app.test_client()
    login(other, district["elsewhere"][1])
    assert OPEN_DAY not in other.get("/organiser/").get_data(as_text=True)
    assert other.get(f"/organiser/events/{district['open_day']}").status_code == 404
    assert "透平厂" not in other.get("/organiser/campaign/summary").get_data(as_text=True)


def test_create_user_sets_up_a_bureau_and_an_enterprise(app, runner):
    made = runner.invoke(args=["create-user", "boss@ypj.gov.cn", "--role", "organiser",
                               "--org", "杨浦区质量协会", "--district", "杨浦区",
                               "--org-kind", "bureau"], input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    made = runner.invoke(args=["create-user", "qa@shdq.cn", "--role", "organiser",
                               "--org", "上海某某局隔壁的工厂", "--district", "杨浦区",
                               "--org-kind", "enterprise"], input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    refused = runner.invoke(args=["create-user", "x@shdq.cn", "--role", "organiser",
                                  "--org", "新公司", "--district", "杨浦区",
                                  "--org-kind", "ministry"], input=PASSWORD + "\n")
    assert refused.exit_code == 2
    with app.app_context():
        kinds = dict(db.session.execute(db.select(Organisation.name, Organisation.kind)).all())
    assert kinds["杨浦区质量协会"] == OrgKind.BUREAU
    assert kinds["上海某某局隔壁的工厂"] == OrgKind.ENTERPRISE
