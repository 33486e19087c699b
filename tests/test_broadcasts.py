"""The organiser's messages to registrants: counts per group before sending, the exact text
previewed, one message per party with its own ticket link, no web address of the organiser's,
at most three per event a day, audited; and the page listing every message we send."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from qmevents.extensions import db
from qmevents.models import (
    AuditEntry,
    Broadcast,
    Event,
    EventSession,
    Notification,
    Registration,
    User,
)
from qmevents.services.errors import ValidationFailed
from qmevents.services.messaging import broadcasts, templates
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow

from .conftest import csrf_from, login
from .test_checkin import BUREAU, make_door


@pytest.fixture
def tour(app, factory):
    return make_door(app, factory)


def party(app, tour, phone: str, session: int | None = None, **changes) -> str:
    with app.app_context():
        code = reg.register(reg.RegistrationRequest(
            event_id=tour.event_id, session_id=session or tour.morning, name="李华",
            phone=phone, party_size=1, consent=True)).code
        if changes:
            db.session.execute(update(Registration).filter_by(code=code).values(**changes))
            db.session.commit()
        return code


@pytest.fixture
def crowd(app, tour):
    """Two coming, one waiting, one came in, one walk-in without a phone; the afternoon session
    is over for one no-show."""
    coming = [party(app, tour, "13900000001"), party(app, tour, "13900000002")]
    party(app, tour, "13900000003", status="waitlisted")
    party(app, tour, "13900000004", admitted_people=1)
    party(app, tour, "13900000005", session=tour.afternoon)
    with app.app_context():
        db.session.execute(update(EventSession).filter_by(id=tour.afternoon).values(
            starts_at=utcnow() - timedelta(hours=3), ends_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    return coming


def page(tour) -> str:
    return f"/organiser/events/{tour.event_id}/messages"


@pytest.fixture
def boss(client, factory):
    _id, email = factory.user("organiser", org=BUREAU)
    login(client, email)
    return email


def post(client, tour, **form):
    token = csrf_from(client.get(page(tour)).get_data(as_text=True))
    return client.post(page(tour), data={"csrf_token": token, **form})


def sent(app) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(select(Notification).filter_by(kind="organiser_message")))


def test_counts_preview_and_send_one_message_per_party_with_its_own_ticket(app, client, tour,
                                                                         crowd, boss):
    html = client.get(page(tour)).get_data(as_text=True)
    for label_count in ("(2 ", "(1 "):
        assert label_count in html
    preview = post(client, tour, text="集合地点改为北门，请携带身份证。",
                   audience=["confirmed", "waiting"], action="preview")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "「杨浦区家庭质量探寻之旅」主办方杨浦区市场监督管理局通知：集合地点改为北门，请携带身份证。" in text
    assert "3 " in text  # parties that will get it
    assert sent(app) == []  # a preview sends nothing

    done = post(client, tour, text="集合地点改为北门，请携带身份证。",
                audience=["confirmed", "waiting"], action="send")
    assert done.status_code == 303
    messages = sent(app)
    assert sorted(m.recipient for m in messages) == ["13900000001", "13900000002", "13900000003"]
    for code, message in zip(crowd, sorted(messages, key=lambda m: m.recipient), strict=False):
        assert f"/t/{code}" in message.body and "集合地点改为北门" in message.body
        assert message.template == "organiser_message"
    with app.app_context():
        broadcast = db.session.scalar(select(Broadcast))
        assert broadcast.recipients == 3 and broadcast.audience == ["confirmed", "waiting"]
        entry = db.session.scalar(select(AuditEntry).filter_by(action="message_sent"))
        assert entry.detail["recipients"] == 3
    assert "集合地点改为北门" in client.get(page(tour)).get_data(as_text=True)  # the history


def test_the_groups_are_who_came_and_who_did_not(app, client, tour, crowd, boss):
    post(client, tour, text="感谢参加！", audience=["admitted"], action="send")
    post(client, tour, text="期待下次见到您。", audience=["no_show"], action="send")
    by_text = {m.recipient: m.body for m in sent(app)}
    assert "感谢参加" in by_text["13900000004"] and "期待下次" in by_text["13900000005"]
    assert len(by_text) == 2


@pytest.mark.parametrize("text", [
    "详情见 http://evil.example/x", "请访问 www.example.cn", "登录 qmevents-help.cn 领取",
    "请访问ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ", "访问 example。com", "", "长" * 151, "隐藏\u202e字符",
    "example\u200b.com", "退款 refund.gov", "bit.ly/abc", "qm-refund.site 领取", "1.2.3.4/x",
    "example . com", "官网 example.中国", "e.xn--fiqs8s",
])
def test_no_web_address_no_empty_or_long_text_nothing_sent(app, client, tour, crowd, boss, text):
    answer = post(client, tour, text=text, audience=["confirmed"], action="send")
    assert answer.status_code == 400
    assert 'class="error"' in answer.get_data(as_text=True)
    assert sent(app) == []


def test_ordinary_chinese_notices_pass(app, tour):
    with app.app_context():
        event = db.session.get(Event, tour.event_id)
        for text in ("请于9.30前到达北门。", "活动结束。公司班车在南门等候", "集合地点改为北门，\n请携带身份证。"):
            assert broadcasts.compose(event, text, ["confirmed"], None).text


def test_bad_groups_and_sessions_are_refused(app, client, tour, crowd, boss):
    for form in ({"audience": []}, {"audience": ["everyone"]},
                 {"audience": ["confirmed"], "session_id": "99999"},
                 {"audience": ["confirmed"], "session_id": "x"},
                 {"audience": ["confirmed"], "session_id": str(2**40)}):
        assert post(client, tour, text="好的", action="send", **form).status_code == 400
    assert sent(app) == []
    one = post(client, tour, text="上午场请提前到。", audience=["confirmed"],
               session_id=str(tour.morning), action="send")
    assert one.status_code == 303 and len(sent(app)) == 2


def test_at_most_three_messages_per_event_a_day(app, client, tour, crowd, boss):
    for n in range(3):
        assert post(client, tour, text=f"第{n}条通知", audience=["confirmed"],
                    action="send").status_code == 303
    refused = post(client, tour, text="第四条", audience=["confirmed"], action="send")
    assert refused.status_code == 400
    assert len(sent(app)) == 6


def test_only_its_editors_write_to_an_events_registrants(app, client, factory, tour):
    _id, other = factory.user("organiser", org="嘉定区市场监督管理局", district="嘉定区")
    login(client, other)
    assert client.get(page(tour)).status_code == 404
    staff = app.test_client()
    login(staff, tour.staff_email)
    assert staff.get(page(tour)).status_code == 403


def test_every_message_kind_is_listed_with_when_and_its_words(client, boss):
    html = client.get("/organiser/messages/kinds").get_data(as_text=True)
    assert templates.REGISTRY
    for template in templates.REGISTRY.values():
        assert template.key in html and template.when in html


def test_organisers_pressing_send_at_once_never_pass_three_a_day(app, tour, crowd, factory):
    """Eight organisers' sends race in real threads, each with its own connection: at most three
    broadcasts are recorded (exactly three on PostgreSQL, where the losers wait for the lock);
    the others are refused, or on SQLite told to retry, never a fourth."""
    user_id, _email = factory.user("organiser", org=BUREAU)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def press(n: int) -> None:
        with app.app_context():
            event = db.session.get(Event, tour.event_id)
            actor = db.session.get(User, user_id)
            composed = broadcasts.compose(event, f"第{n}条", ["confirmed"], None)
            db.session.commit()  # a fresh transaction, as each request has
            barrier.wait()
            try:
                broadcasts.send(event, composed, actor)
                outcomes.append("sent")
            except ValidationFailed:
                outcomes.append("refused")
            except OperationalError:  # SQLite: "database is locked", a 503 to retry
                db.session.rollback()
                outcomes.append("retry")

    threads = [threading.Thread(target=press, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with app.app_context():
        recorded = db.session.scalar(select(func.count(Broadcast.id)))
    assert len(outcomes) == 8
    assert recorded == outcomes.count("sent") <= 3
    assert outcomes.count("sent") >= 1
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert outcomes.count("sent") == 3 and outcomes.count("refused") == 5
    assert len(sent(app)) == 2 * recorded
