"""What a citizen sees on a phone: the list of events, one event, the privacy notice."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from qmevents.extensions import db
from qmevents.models import Event, EventSession, EventStatus
from qmevents.services.events import SessionDraft
from qmevents.timeutil import from_local, to_local, utcnow

from .conftest import login


def sessions_at(*days: float, capacity: int = 30, label: str = "") -> list[SessionDraft]:
    """Two-hour sessions starting that many days from now."""
    now = utcnow().replace(second=0, microsecond=0)
    return [
        SessionDraft(starts_at=now + timedelta(days=d), ends_at=now + timedelta(days=d, hours=2),
                     capacity=capacity, label=label)
        for d in days
    ]


def html(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


def take_places(app, event_id: int, taken: int) -> None:
    with app.app_context():
        db.session.execute(update(EventSession).where(EventSession.event_id == event_id)
                           .values(places_taken=taken))
        db.session.commit()


def move_into_past(app, event_id: int, label: str | None = None) -> None:
    """The service refuses past starts, so the clock is turned back on the row itself."""
    with app.app_context():
        query = update(EventSession).where(EventSession.event_id == event_id)
        if label is not None:
            query = query.where(EventSession.label == label)
        start = utcnow() - timedelta(days=2)
        db.session.execute(query.values(starts_at=start, ends_at=start + timedelta(hours=2)))
        db.session.commit()


# --- the list of events ---------------------------------------------------------------------


def test_published_upcoming_events_are_listed_soonest_first(client, factory):
    factory.event(title="十天后的讲座", sessions=sessions_at(10))
    factory.event(title="三天后的开放日", sessions=sessions_at(3))
    factory.event(title="五天后的探寻之旅", sessions=sessions_at(5))

    page = html(client, "/")

    positions = [page.index(t) for t in ("三天后的开放日", "五天后的探寻之旅", "十天后的讲座")]
    assert positions == sorted(positions)


def test_drafts_cancelled_and_past_events_are_not_listed(app, client, factory):
    factory.event(title="已发布的活动")
    factory.event(title="草稿活动", publish=False)
    cancelled = factory.event(title="已取消的活动")
    past = factory.event(title="已结束的活动")
    with app.app_context():
        db.session.get(Event, cancelled).status = EventStatus.CANCELLED
        db.session.commit()
    move_into_past(app, past)

    page = html(client, "/")

    assert "已发布的活动" in page
    for hidden in ("草稿活动", "已取消的活动", "已结束的活动"):
        assert hidden not in page


def test_each_event_shows_its_kind_district_next_session_and_places_left(client, factory):
    event_id = factory.event(title="质量开放日", kind="open_day", district="徐汇区",
                             venue="徐汇滨江", sessions=sessions_at(3, 4, capacity=25))

    page = html(client, "/?lang=en")

    assert f'href="/events/{event_id}"' in page
    assert "Enterprise open day" in page
    assert "Xuhui" in page and "徐汇滨江" in page
    assert "2 sessions" in page
    assert "50 places left" in page


def test_a_full_event_says_so(app, client, factory):
    event_id = factory.event(title="满员的讲座", sessions=sessions_at(3, capacity=10))
    take_places(app, event_id, 10)

    page = html(client, "/?lang=en")

    assert "满员的讲座" in page
    assert "Full" in page
    assert "places left" not in page


def test_filter_by_district(client, factory):
    factory.event(title="杨浦的活动", district="杨浦区")
    factory.event(title="静安的活动", district="静安区")

    page = html(client, "/?district=静安区")

    assert "静安的活动" in page
    assert "杨浦的活动" not in page


def test_filter_by_kind(client, factory):
    factory.event(title="一场讲座", kind="lecture")
    factory.event(title="一次开放日", kind="open_day")

    page = html(client, "/?kind=lecture")

    assert "一场讲座" in page
    assert "一次开放日" not in page


def test_filter_dates_are_days_in_shanghai(client, factory):
    # 01:00 in Shanghai is still the previous day in UTC: the filter must use the Shanghai day.
    day = (to_local(utcnow()) + timedelta(days=5)).date()
    start = from_local(datetime(day.year, day.month, day.day, 1, 0))
    factory.event(title="凌晨的活动", sessions=[
        SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2), capacity=10)])
    factory.event(title="更晚的活动", sessions=sessions_at(12))

    on_the_day = html(client, f"/?date_from={day}&date_to={day}")
    the_day_before = html(client, f"/?date_to={day - timedelta(days=1)}")

    assert "凌晨的活动" in on_the_day and "更晚的活动" not in on_the_day
    assert "凌晨的活动" not in the_day_before


def test_district_choices_follow_the_language(client):
    assert ">杨浦区</option>" in html(client, "/")
    assert ">Yangpu</option>" in html(client, "/?lang=en")


@pytest.mark.parametrize("query, field, message", [
    ("district=Atlantis", "district", "Choose one of Shanghai&#39;s 16 districts."),
    ("kind=circus", "kind", "Choose a kind of event."),
    ("date_from=15/09/2025", "date_from", "Enter a date like 2025-09-15."),
    ("date_from=2025-02-30", "date_from", "Enter a date like 2025-09-15."),
    ("date_from=2025-09-20&date_to=2025-09-10", "date_to",
     "The end date must not be before the start date."),
    ("date_from=0001-01-01", "date_from", "Enter a date between the years 2000 and 2999."),
    ("date_to=9999-12-31", "date_to", "Enter a date between the years 2000 and 2999."),
])
def test_a_bad_filter_is_explained_next_to_its_field(client, factory, query, field, message):
    factory.event(title="某个活动")

    page = html(client, f"/?lang=en&{query}", status=400)

    assert f'<p class="error" id="{field}-error">{message}</p>' in page
    assert "某个活动" not in page


def test_a_bad_filter_keeps_the_other_choices(client):
    page = html(client, "/?lang=en&district=Atlantis&kind=lecture&date_from=2025-09-01", 400)

    assert '<option selected value="lecture">' in page
    assert 'value="2025-09-01"' in page


@pytest.mark.parametrize("page_number", ["abc", "0", "-3", "99999999999999999999999", "2.5"])
def test_odd_page_numbers_show_the_first_page(client, factory, page_number):
    factory.event(title="第一页的活动")

    assert "第一页的活动" in html(client, f"/?page={page_number}")


def test_events_are_paged_and_filters_follow_the_pages(app, client, factory):
    app.config["EVENTS_PER_PAGE"] = 2
    for n in range(1, 6):
        factory.event(title=f"讲座{n}号", kind="lecture", sessions=sessions_at(n))
    factory.event(title="开放日", kind="open_day")

    first = html(client, "/?lang=en&kind=lecture")
    third = html(client, "/?kind=lecture&page=3")
    beyond = html(client, "/?kind=lecture&page=40")

    assert "讲座1号" in first and "讲座3号" not in first
    assert "Page 1 of 3" in first
    assert 'href="/?kind=lecture&amp;page=2"' in first
    assert "讲座5号" in third and "讲座4号" not in third
    assert "讲座5号" in beyond  # an old link past the end shows the last page


def test_no_match_says_so_and_offers_to_clear_the_filters(client, factory):
    factory.event(title="杨浦的活动", district="杨浦区")

    page = html(client, "/?lang=en&district=崇明区")

    assert "No events match your choice" in page
    assert '<a class="button primary" href="/">' in page


# --- one event ------------------------------------------------------------------------------


def test_event_page_shows_details_and_sessions_with_places_left(app, client, factory):
    event_id = factory.event(
        title="智慧水务开放日", host="上海威派格智慧水务股份有限公司", venue="威派格智慧水务",
        address="上海市嘉定区恒定路1号", registration_mode="lottery", max_party_size=3,
        sessions=sessions_at(3, capacity=30, label="上午场") + sessions_at(4, capacity=5,
                                                                          label="下午场"))
    with app.app_context():
        db.session.execute(update(EventSession).where(EventSession.label == "上午场")
                           .values(places_taken=12))
        db.session.commit()

    page = html(client, f"/events/{event_id}?lang=en")

    for text in ("智慧水务开放日", "上海威派格智慧水务股份有限公司", "上海市嘉定区恒定路1号",
                 "By lottery", "Up to 3 people per registration", "上午场", "下午场",
                 "18 of 30 places left", "5 of 5 places left", "Registration open until"):
        assert text in page
    assert '<meta property="og:title" content="智慧水务开放日' in page


def test_past_sessions_are_not_offered(app, client, factory):
    event_id = factory.event(sessions=sessions_at(3, label="将来的场次")
                             + sessions_at(4, label="过去的场次"))
    move_into_past(app, event_id, label="过去的场次")

    page = html(client, f"/events/{event_id}")

    assert "将来的场次" in page
    assert "过去的场次" not in page


def test_a_full_session_says_so(app, client, factory):
    event_id = factory.event(sessions=sessions_at(3, capacity=8))
    take_places(app, event_id, 8)

    page = html(client, f"/events/{event_id}?lang=en")

    assert "Full" in page
    assert "places left" not in page


def test_a_session_whose_registration_opens_later_says_when(client, factory):
    sessions = sessions_at(6)
    sessions[0].registration_opens_at = utcnow() + timedelta(days=2)
    event_id = factory.event(sessions=sessions)

    assert "Registration opens" in html(client, f"/events/{event_id}?lang=en")


def test_a_cancelled_event_says_so_prominently(app, client, factory):
    event_id = factory.event(title="取消的活动")
    with app.app_context():
        db.session.get(Event, event_id).status = EventStatus.CANCELLED
        db.session.commit()

    page = html(client, f"/events/{event_id}?lang=en")

    assert '<div class="notice notice-bad" role="alert">' in page
    assert "This event has been cancelled." in page


def test_a_draft_is_hidden_from_citizens(client, factory):
    event_id = factory.event(title="草稿活动", publish=False)

    page = html(client, f"/events/{event_id}", status=404)

    assert "草稿活动" not in page


def test_a_draft_can_be_previewed_by_its_organiser(client, factory):
    event_id = factory.event(title="草稿活动", publish=False)
    _, email = factory.user("organiser")
    login(client, email)

    page = html(client, f"/events/{event_id}?lang=en")

    assert "草稿活动" in page and "Draft preview." in page


def test_a_draft_stays_hidden_from_another_organisation(client, factory):
    event_id = factory.event(title="草稿活动", publish=False)
    _, email = factory.user("organiser", org="徐汇区市场监督管理局", district="徐汇区")
    login(client, email)

    assert "草稿活动" not in html(client, f"/events/{event_id}", status=404)


def test_an_unknown_event_is_a_friendly_404(client):
    page = html(client, "/events/424242?lang=en", status=404)

    assert "This event does not exist or is no longer shown." in page
    assert 'href="/"' in page


# --- escaping -------------------------------------------------------------------------------


def test_markup_in_event_text_is_shown_as_text(client, factory):
    event_id = factory.event(title="<script>alert(1)</script>",
                             description="<b>第一段</b>\n<img src=x onerror=alert(2)>")

    listing = html(client, "/")
    page = html(client, f"/events/{event_id}")

    for body in (listing, page):
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in page
    assert "&lt;b&gt;第一段&lt;/b&gt;\n&lt;img src=x onerror=alert(2)&gt;" in page


# --- language and privacy -------------------------------------------------------------------


def test_pages_are_in_chinese_by_default(client, factory):
    event_id = factory.event()

    for url in ("/", f"/events/{event_id}", "/privacy"):
        assert '<html lang="zh-CN">' in html(client, url)


def test_english_is_chosen_once_and_remembered(client, factory):
    event_id = factory.event()

    assert '<html lang="en">' in html(client, "/?lang=en")
    assert '<html lang="en">' in html(client, f"/events/{event_id}")
    assert '<html lang="en">' in html(client, "/privacy")


def test_privacy_notice_says_what_is_kept_and_for_how_long(client):
    page = html(client, "/privacy?lang=en")

    for text in ("mobile phone number", "ID card number only when", "masked",
                 "30 days after the event ends", "delete"):
        assert text in page


def test_privacy_notice_follows_the_configured_retention(app, client):
    app.config["PERSONAL_DATA_DAYS"] = 90

    assert "90 days after the event ends" in html(client, "/privacy?lang=en")
