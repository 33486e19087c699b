"""The organiser back office through HTTP: the event form with its sessions and checkpoints, the
status changes, and who sees which events."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from qmevents.extensions import db
from qmevents.models import Event, EventStatus, StaffAssignment
from qmevents.timeutil import SHANGHAI, utcnow

from .conftest import login, submit

NEW = "/organiser/events/new"


def shanghai_day(days: int = 7) -> str:
    """A date a week ahead, as a Shanghai organiser would type it."""
    return (utcnow() + timedelta(days=days)).astimezone(SHANGHAI).strftime("%Y-%m-%d")


def form(**overrides) -> dict:
    day = shanghai_day()
    data = {
        "title": "杨浦区质量开放日", "kind": "open_day", "district": "杨浦区",
        "venue": "上海电气展示馆", "address": "杨浦区军工路1076号", "host": "杨浦区市场监督管理局",
        "description": "参观生产线。", "max_party_size": "4", "registration_mode": "fcfs",
        "sessions-0-id": "", "sessions-0-label": "上午场",
        "sessions-0-starts_at": f"{day}T09:30", "sessions-0-ends_at": f"{day}T11:30",
        "sessions-0-capacity": "30",
        "sessions-0-registration_opens_at": "", "sessions-0-registration_closes_at": "",
        "checkpoints": "", "action": "save",
    }
    data.update(overrides)
    return data


def event_path(event_id: int, action: str = "") -> str:
    return f"/organiser/events/{event_id}" + (f"/{action}" if action else "")


def created_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.search(r"/organiser/events/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def load(app, event_id: int) -> Event:
    with app.app_context():
        event = db.session.get(Event, event_id)
        _ = event.sessions, event.checkpoints
        db.session.expunge_all()
        return event


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")


def signed_in(app, factory, role: str, **kwargs):
    """Another browser, signed in as a new user of that role."""
    browser = app.test_client()
    browser.set_cookie("lang", "en")
    user_id, email = factory.user(role, **kwargs)
    login(browser, email)
    return browser, user_id


# --- signing in ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/organiser/", NEW, "/organiser/events/1"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert 'action="/login"' in response.get_data(as_text=True)


# --- the form ------------------------------------------------------------------------------


def test_the_new_event_form_preselects_the_organisers_district(client, organiser):
    html = client.get(NEW).get_data(as_text=True)
    assert re.search(r'<option selected value="杨浦区">', html)
    assert 'name="sessions-0-starts_at"' in html and 'type="datetime-local"' in html


def test_an_organiser_creates_a_draft_with_two_sessions_and_three_checkpoints(app, client,
                                                                               organiser):
    day = shanghai_day(8)
    response = submit(client, NEW, form(**{
        "sessions-1-label": "下午场",
        "sessions-1-starts_at": f"{day}T14:00", "sessions-1-ends_at": f"{day}T16:00",
        "sessions-1-capacity": "20", "sessions-1-registration_closes_at": f"{day}T12:00",
        "checkpoints": "北门入口\r\n生产线\r\n\r\n展厅\r\n",
    }))
    event = load(app, created_id(response))
    assert event.status == EventStatus.DRAFT
    assert [(s.label, s.capacity) for s in event.sessions] == [("上午场", 30), ("下午场", 20)]
    # 14:00 in Shanghai is 06:00 UTC.
    assert event.sessions[1].starts_at == datetime.fromisoformat(f"{day}T06:00").replace(tzinfo=UTC)
    assert event.sessions[1].registration_closes_at.hour == 4
    assert [c.name for c in event.checkpoints] == ["北门入口", "生产线", "展厅"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "杨浦区质量开放日" in page and "下午场" in page and "展厅" in page


def test_save_and_publish_publishes_at_once(app, client, organiser, english):
    response = submit(client, NEW, form(action="publish"))
    assert load(app, created_id(response)).status == EventStatus.PUBLISHED
    assert "saved and published" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_end_before_the_start_and_no_places_are_shown_with_what_was_typed(app, client,
                                                                            organiser, english):
    day = shanghai_day()
    response = submit(client, NEW, form(**{
        "title": "质量讲堂", "sessions-0-starts_at": f"{day}T15:00",
        "sessions-0-ends_at": f"{day}T14:00", "sessions-0-capacity": "0",
    }))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The session must end after it starts." in html
    assert "Capacity is 1 to" in html
    assert 'value="质量讲堂"' in html and f'value="{day}T15:00"' in html and 'value="0"' in html
    with app.app_context():
        assert db.session.query(Event).count() == 0


def test_unreadable_numbers_and_dates_get_a_message_not_an_error_page(client, organiser, english):
    response = submit(client, NEW, form(**{"sessions-0-capacity": "thirty",
                                           "sessions-0-starts_at": "next friday"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter a whole number" in html and "Enter a date and time" in html
    assert 'value="thirty"' in html and 'value="next friday"' in html


def test_add_another_session_shows_one_more_empty_row_without_saving(app, client, organiser):
    response = submit(client, NEW, form(add_session="1", action=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="sessions-1-starts_at"' in html and 'name="sessions-2-starts_at"' not in html
    assert 'value="上午场"' in html and 'class="error"' not in html
    with app.app_context():
        assert db.session.query(Event).count() == 0


def test_a_row_left_blank_is_ignored_and_a_row_ticked_remove_is_dropped(app, client, organiser):
    day = shanghai_day(9)
    response = submit(client, NEW, form(**{
        "sessions-1-label": "作废", "sessions-1-starts_at": f"{day}T09:00",
        "sessions-1-ends_at": f"{day}T08:00", "sessions-1-capacity": "abc", "sessions-1-remove": "y",
        "sessions-2-starts_at": "", "sessions-2-ends_at": "", "sessions-2-capacity": "",
    }))
    assert [s.label for s in load(app, created_id(response)).sessions] == ["上午场"]


def test_an_event_with_no_session_is_refused_with_a_message(client, organiser, english):
    response = submit(client, NEW, form(**{"sessions-0-label": "", "sessions-0-starts_at": "",
                                           "sessions-0-ends_at": "", "sessions-0-capacity": ""}))
    assert response.status_code == 400
    assert "Add at least one session." in response.get_data(as_text=True)


def test_editing_changes_the_event_and_keeps_its_sessions(app, client, organiser, factory):
    event_id = factory.event(publish=False)
    before = load(app, event_id).sessions[0]
    html = client.get(event_path(event_id, "edit")).get_data(as_text=True)
    local_start = before.starts_at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{local_start}"' in html
    end = before.ends_at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    response = submit(client, event_path(event_id, "edit"), form(**{
        "title": "改过的标题", "sessions-0-id": str(before.id), "sessions-0-starts_at": local_start,
        "sessions-0-ends_at": end, "sessions-0-capacity": "45", "checkpoints": "入口\n展厅",
    }))
    assert created_id(response) == event_id
    after = load(app, event_id)
    assert after.title == "改过的标题"
    assert [(s.id, s.capacity) for s in after.sessions] == [(before.id, 45)]
    assert [c.name for c in after.checkpoints] == ["入口", "展厅"]


def test_a_session_of_another_event_cannot_be_slipped_into_the_form(app, client, organiser,
                                                                     factory):
    mine, other = factory.event(publish=False), factory.event(publish=False)
    foreign = load(app, other).sessions[0].id
    response = submit(client, event_path(mine, "edit"), form(**{"sessions-0-id": str(foreign)}))
    assert response.status_code == 400
    assert load(app, other).sessions[0].id == foreign


# --- status changes ------------------------------------------------------------------------


def test_publish_unpublish_and_cancel(app, client, organiser, factory, english):
    event_id = factory.event(publish=False)
    page = event_path(event_id)
    submit(client, event_path(event_id, "publish"), {}, page=page)
    assert load(app, event_id).status == EventStatus.PUBLISHED
    submit(client, event_path(event_id, "unpublish"), {}, page=page)
    assert load(app, event_id).status == EventStatus.DRAFT
    confirm = client.get(event_path(event_id, "cancel"))
    assert confirm.status_code == 200 and "Yes, cancel the event" in confirm.get_data(as_text=True)
    assert load(app, event_id).status == EventStatus.DRAFT
    response = submit(client, event_path(event_id, "cancel"), {}, follow_redirects=True)
    assert "The event is cancelled." in response.get_data(as_text=True)
    assert load(app, event_id).status == EventStatus.CANCELLED


def test_publishing_a_cancelled_event_is_refused_with_a_message(app, client, organiser, factory,
                                                                english):
    event_id = factory.event()
    submit(client, event_path(event_id, "cancel"), {})
    response = submit(client, event_path(event_id, "publish"), {}, page=event_path(event_id),
                      follow_redirects=True)
    assert response.status_code == 200
    assert "cannot be published again" in response.get_data(as_text=True)
    assert load(app, event_id).status == EventStatus.CANCELLED


def test_a_draft_cannot_go_back_to_draft(client, organiser, factory, english):
    event_id = factory.event(publish=False)
    response = submit(client, event_path(event_id, "unpublish"), {}, page=event_path(event_id),
                      follow_redirects=True)
    assert response.status_code == 200
    assert "Only a published event" in response.get_data(as_text=True)


# --- who sees what -------------------------------------------------------------------------


def test_another_organisations_event_is_not_found(client, organiser, factory):
    xuhui = factory.event(org_name="徐汇区市场监督管理局", district="徐汇区", title="徐汇开放日")
    assert client.get(event_path(xuhui)).status_code == 404
    assert client.get(event_path(xuhui, "edit")).status_code == 404
    assert client.get(event_path(xuhui, "cancel")).status_code == 404
    page = event_path(factory.event(publish=False))  # a page of ours, for the form's token
    assert submit(client, event_path(xuhui, "publish"), {}, page=page).status_code == 404
    assert submit(client, event_path(xuhui, "edit"), form(), page=page).status_code == 404
    assert "徐汇开放日" not in client.get("/organiser/").get_data(as_text=True)


def test_an_organiser_lists_its_own_events(client, organiser, factory):
    factory.event(title="杨浦开放日")
    html = client.get("/organiser/").get_data(as_text=True)
    assert "杨浦开放日" in html and NEW in html


def test_assigned_staff_see_the_event_read_only(app, factory):
    event_id = factory.event(title="杨浦开放日")
    staff, staff_id = signed_in(app, factory, "staff")
    with app.app_context():
        db.session.add(StaffAssignment(user_id=staff_id, event_id=event_id))
        db.session.commit()
    listing = staff.get("/organiser/").get_data(as_text=True)
    assert "杨浦开放日" in listing and NEW not in listing
    overview = staff.get(event_path(event_id))
    assert overview.status_code == 200
    assert event_path(event_id, "edit") not in overview.get_data(as_text=True)
    assert staff.get(event_path(event_id, "edit")).status_code == 403
    assert submit(staff, event_path(event_id, "publish"), {},
                  page=event_path(event_id)).status_code == 403
    assert staff.get(NEW).status_code == 403


def test_staff_not_assigned_to_an_event_do_not_find_it(app, factory):
    event_id = factory.event(title="杨浦开放日")
    staff, _ = signed_in(app, factory, "staff")
    assert staff.get(event_path(event_id)).status_code == 404
    assert staff.get(event_path(event_id, "edit")).status_code == 404
    assert "杨浦开放日" not in staff.get("/organiser/").get_data(as_text=True)


def test_an_admin_sees_every_organisations_events(app, factory):
    factory.event(title="杨浦开放日")
    xuhui = factory.event(org_name="徐汇区市场监督管理局", district="徐汇区", title="徐汇开放日")
    admin, _ = signed_in(app, factory, "admin")
    html = admin.get("/organiser/").get_data(as_text=True)
    assert "杨浦开放日" in html and "徐汇开放日" in html
    assert "徐汇区市场监督管理局" in html and "Xuhui" in html
    assert event_path(xuhui, "edit") in admin.get(event_path(xuhui)).get_data(as_text=True)


def test_an_admin_creates_an_event_for_an_organisation(app, factory):
    factory.event(org_name="徐汇区市场监督管理局", district="徐汇区")
    admin, _ = signed_in(app, factory, "admin")
    with app.app_context():
        xuhui_id = db.session.get(Event, 1).organisation_id
    response = submit(admin, NEW, form(organisation=str(xuhui_id), district="徐汇区"))
    assert load(app, created_id(response)).organisation_id == xuhui_id


def test_the_list_of_events_pages_forward_and_back(app, client, organiser, factory):
    app.config["EVENTS_PER_PAGE"] = 2
    for n in range(3):
        factory.event(title=f"分页活动{n}")
    first = client.get("/organiser/?lang=en").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'href="/organiser/?page=2" rel="next"' in first
    second = client.get("/organiser/?page=2&lang=en").get_data(as_text=True)
    assert "Page 2 of 2" in second and 'href="/organiser/" rel="prev"' in second
