"""The flask commands an operator types: `demo` loads the programme, `create-user` adds accounts."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from qmevents.extensions import db
from qmevents.models import (
    Checkpoint,
    Event,
    EventSession,
    EventStatus,
    Organisation,
    OrgKind,
    StaffAssignment,
    User,
)
from qmevents.services import access, accounts, events, listings
from qmevents.timeutil import utcnow

STDIN_PASSWORD = "secretpassword1\n"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def counts() -> dict[str, int]:
    return {m.__name__: count(m) for m in (Organisation, User, Event, EventSession, Checkpoint,
                                            StaffAssignment)}


def printed_password(output: str, email: str) -> str:
    """The password column of the demo's account table, for one e-mail."""
    for line in output.splitlines():
        if line.startswith(email + " "):
            return line.split()[-1]
    raise AssertionError(f"{email} is not in the printed table")


def event_titled(title: str) -> Event:
    return db.session.scalar(select(Event).filter_by(title=title))


# --- demo ------------------------------------------------------------------------------------


def test_demo_creates_a_bureau_for_each_of_the_sixteen_districts(app, demo):
    with app.app_context():
        bureaus = db.session.scalars(select(Organisation).filter_by(kind=OrgKind.BUREAU)).all()
        assert len({b.district.name for b in bureaus}) == 16
        assert count(Event) >= 20


def test_demo_events_belong_to_the_bureau_and_name_their_host(app, demo):
    with app.app_context():
        event = event_titled("晨冠乳业质量开放日")
        assert event.organisation.name == "奉贤区市场监督管理局"
        assert event.host == "上海晨冠乳业有限公司"


def test_putuo_family_tour_has_eight_stations_starting_at_the_entrance(app, demo):
    with app.app_context():
        tour = event_titled("普陀区家庭探寻质量发展之旅")
        assert len(tour.checkpoints) == 8
        assert tour.entrance.name == "上海纺织博物馆"


def test_qingpu_lecture_series_has_nine_sessions_in_the_coming_weeks(app, demo):
    with app.app_context():
        series = event_titled("青浦“质量故事巡讲”系列讲座")
        assert len(series.sessions) == 9
        assert all(s.is_open() for s in series.sessions)


def test_every_upcoming_demo_event_is_on_the_public_list(app, demo):
    """Last year's edition is published too, but over: the listing shows what is to come."""
    with app.app_context():
        upcoming = set(db.session.scalars(
            select(Event.id).join(EventSession).where(
                Event.status == EventStatus.PUBLISHED, EventSession.ends_at > utcnow())))
        listed, total = listings.list_public_events(listings.ListingFilter(), limit=100)
        assert {listing.event.id for listing in listed} == upcoming
        assert total == len(upcoming) >= 20


def test_demo_drafts_stay_off_the_public_list(app, demo):
    with app.app_context():
        draft = event_titled("嘉昆太“质量开放日”·走进平高天灵")
        assert draft.status == EventStatus.DRAFT
        listed, _ = listings.list_public_events(listings.ListingFilter(), limit=100)
        assert draft.id not in {listing.event.id for listing in listed}


def test_printed_passwords_sign_in_the_admin_and_an_organiser(app, demo):
    assert "demo accounts" in demo.lower()
    assert "http://127.0.0.1:5000/login" in demo
    with app.app_context():
        admin = accounts.authenticate(
            "admin@demo.qmevents.cn", printed_password(demo, "admin@demo.qmevents.cn"))
        putuo = accounts.authenticate(
            "putuo@demo.qmevents.cn", printed_password(demo, "putuo@demo.qmevents.cn"))
        assert admin is not None and admin.is_admin
        assert putuo is not None and putuo.organisation.name == "普陀区市场监督管理局"


def test_district_staff_are_assigned_to_their_districts_events(app, demo):
    with app.app_context():
        staff = db.session.scalar(select(User).filter_by(email="staff.yangpu@demo.qmevents.cn"))
        visible = db.session.scalars(access.events_visible_to(staff)).all()
        assert len(visible) == 3
        assert {e.district.name for e in visible} == {"杨浦区"}


def test_a_demo_event_the_rules_refuse_is_named_without_a_traceback(runner, monkeypatch):
    from qmevents.demo import loader

    broken = dict(loader.EVENTS[0], title="")  # no title: the event rules refuse it
    monkeypatch.setattr(loader, "EVENTS", [broken])
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert result.output == "Error: : title: 此项为必填项。\n"  # the event, the field, why


def test_running_demo_twice_duplicates_nothing_and_prints_the_same_passwords(app, runner, demo):
    with app.app_context():
        before = counts()
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert "0 created" in again.output
    assert "already there" in again.output
    for email in ("admin@demo.qmevents.cn", "staff.qingpu@demo.qmevents.cn"):
        assert printed_password(again.output, email) == printed_password(demo, email)
    with app.app_context():
        assert counts() == before


def test_demo_leaves_what_an_organiser_changed(app, runner, demo):
    with app.app_context():
        event = event_titled("崇明区“质量月”现场宣传咨询活动")
        events.unpublish(event)
    runner.invoke(args=["demo"])
    with app.app_context():
        assert event_titled("崇明区“质量月”现场宣传咨询活动").status == EventStatus.DRAFT


def test_demo_says_when_a_printed_password_no_longer_works(app, runner, demo):
    with app.app_context():
        putuo = db.session.scalar(select(User).filter_by(email="putuo@demo.qmevents.cn"))
        accounts.set_password(putuo, "a password of my own")
    again = runner.invoke(args=["demo"]).output
    assert "(changed" in next(line for line in again.splitlines()
                              if line.startswith("putuo@demo.qmevents.cn "))
    assert printed_password(again, "admin@demo.qmevents.cn") == printed_password(
        demo, "admin@demo.qmevents.cn")


def test_demo_on_an_empty_database_asks_for_the_migration(app, runner):
    with app.app_context():
        db.drop_all()
    result = runner.invoke(args=["demo"])
    with app.app_context():
        db.create_all()  # so the PostgreSQL run's next test finds its tables
    assert result.exit_code != 0
    assert "db upgrade" in result.output


# --- create-user -----------------------------------------------------------------------------


def test_create_user_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["create-user", "admin@example.cn", "--role", "admin"],
                           input=STDIN_PASSWORD)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert accounts.authenticate("admin@example.cn", "secretpassword1") is not None


def test_create_user_refuses_a_password_on_the_command_line(app, runner):
    result = runner.invoke(args=["create-user", "admin@example.cn", "--role", "admin",
                                 "--password", "secretpassword1"], input=STDIN_PASSWORD)
    assert result.exit_code == 2
    assert "No such option" in result.output
    with app.app_context():
        assert count(User) == 0


def test_create_user_creates_a_new_organisation_in_its_district(app, runner):
    result = runner.invoke(
        args=["create-user", "open@wpg.example.cn", "--role", "organiser",
              "--org", "上海威派格智慧水务股份有限公司", "--district", "嘉定区"],
        input=STDIN_PASSWORD)
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(email="open@wpg.example.cn"))
        assert user.organisation.name == "上海威派格智慧水务股份有限公司"
        assert user.organisation.district.name == "嘉定区"
        assert user.organisation.kind == OrgKind.ENTERPRISE


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["new@example.cn", "--role", "organiser", "--org", "新公司", "--district", "火星区"],
     STDIN_PASSWORD, "district:"),
    (["new@example.cn", "--role", "admin"], "short\n", "password:"),
    (["new@example.cn", "--role", "mayor"], STDIN_PASSWORD, "--role"),
    (["taken@example.cn", "--role", "admin"], STDIN_PASSWORD, "email:"),
], ids=["unknown district", "short password", "bad role", "duplicate email"])
def test_create_user_rejects_bad_input_and_saves_nothing(app, runner, factory, args, stdin,
                                                         message):
    """The message names the field to fix (its wording follows the locale, the field does not)."""
    factory.user("admin", email="taken@example.cn")
    with app.app_context():
        before = counts()
    result = runner.invoke(args=["create-user", *args], input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert counts() == before
