"""Door staff of an event, from a terminal: `flask --app wsgi staff add EMAIL --event ID` lets an
existing staff account scan there at once; `staff remove` stops its very next request, in the
browser (cookie) and through the API (token) alike; nothing else about the account changes."""
from __future__ import annotations

from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import AuditEntry, Role, User

from .conftest import PASSWORD, login


def staff_clients(app, email: str):
    browser = app.test_client()
    login(browser, email)
    api = app.test_client()
    token = api.post("/api/v1/token", json={"email": email, "password": PASSWORD}).get_json()
    return browser, api, {"Authorization": f"Bearer {token['token']}"}


def test_added_staff_scan_at_once_and_removed_staff_stop_at_once(app, factory, runner):
    event_id = factory.event()
    _staff_id, email = factory.user("staff")
    browser, api, bearer = staff_clients(app, email)
    door = f"/door/events/{event_id}"
    figures = f"/api/v1/events/{event_id}/attendance"
    assert browser.get(door).status_code == 404
    assert api.get(figures, headers=bearer).status_code in (403, 404)

    added = runner.invoke(args=["staff", "add", email.upper(), "--event", str(event_id)])
    assert added.exit_code == 0 and f"{email} scans at event {event_id}" in added.output
    assert browser.get(door).status_code == 200
    assert api.get(figures, headers=bearer).status_code == 200
    assert runner.invoke(args=["staff", "list", "--event", str(event_id)]).output.strip() == email
    assert runner.invoke(args=["staff", "add", email, "--event", str(event_id)]).exit_code == 0

    removed = runner.invoke(args=["staff", "remove", email, "--event", str(event_id)])
    assert removed.exit_code == 0 and "removed" in removed.output
    assert browser.get(door).status_code == 404  # the same cookie, the next request
    assert api.get(figures, headers=bearer).status_code in (403, 404)  # the same token
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions.count("staff_assigned") == 1 and actions.count("staff_removed") == 1
        assert db.session.scalar(select(User.role).filter_by(email=email)) == Role.STAFF


def test_staff_add_refuses_what_is_not_a_staff_account_or_an_event(app, factory, runner):
    event_id = factory.event()
    _id, organiser = factory.user("organiser", org="嘉定区市场监督管理局", district="嘉定区")
    _id, admin = factory.user("admin")
    for email in (organiser, admin):  # an assignment never turns anyone into staff
        refused = runner.invoke(args=["staff", "add", email, "--event", str(event_id)])
        assert refused.exit_code == 2 and "不是门口工作人员账号" in refused.output
    unknown = runner.invoke(args=["staff", "add", "nobody@example.cn", "--event", str(event_id)])
    assert unknown.exit_code == 2
    _id, staff = factory.user("staff")
    assert runner.invoke(args=["staff", "add", staff, "--event", "999999"]).exit_code == 2
    assert runner.invoke(args=["staff", "add", staff, "--event", str(2**40)]).exit_code == 2
    with app.app_context():
        assert db.session.scalar(select(User.role).filter_by(email=organiser)) == Role.ORGANISER
