"""The district office reads an event's report and the campaign dashboard on a phone: charts
drawn, nothing wider than the screen."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from qmevents.demo import history
from qmevents.timeutil import to_local, utcnow

from ..conftest import PASSWORD
from ..test_reports import XUHUI, Campaign, make_campaign, shanghai
from .conftest import screenshot


@pytest.fixture
def campaign(app, factory) -> Campaign:
    campaign = make_campaign(app, factory)
    tour = campaign.event(host="上海威派格智慧水务股份有限公司")
    nine = shanghai(date(2026, 9, 20), 9)
    times = []
    for i, party in enumerate((3, 2, 4, 3, 1, 2, 4, 3)):
        code = campaign.ticket(tour, party)
        campaign.scan(tour, code)
        times.append(nine + timedelta(minutes=5 + 9 * i))
        if i % 2 == 0:
            campaign.scan(tour, code, station=True)
            times.append(nine + timedelta(minutes=20 + 9 * i))
    campaign.ticket(tour, 4)  # registered, never came
    campaign.walk_in(tour, 5)
    campaign.walk_in(tour, 2)
    times += [nine + timedelta(minutes=40), nine + timedelta(minutes=80)]
    campaign.admitted_at(tour, *times)
    campaign.bump(tour, "资料发放", 36)
    campaign.bump(tour, "咨询", 12)
    other = campaign.event(org=XUHUI, district="徐汇区", kind="open_day", title="徐汇开放日")
    campaign.scan(other, campaign.ticket(other, 4))
    campaign.tour = tour
    return campaign


def sign_in(page, factory, role: str, org: str | None) -> None:
    _, email = factory.user(role, org=org, district="杨浦区")
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/organiser/")


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_organiser_reads_the_report_on_a_phone(phone, factory, campaign):
    sign_in(phone, factory, "organiser", "杨浦区市场监督管理局")
    phone.goto(f"/organiser/events/{campaign.tour.event_id}/report")
    assert phone.locator("svg.chart-svg").count() == 3
    assert phone.locator("svg.chart-svg rect.chart-bar").first.bounding_box()["height"] > 0
    assert fits_the_screen(phone)
    screenshot(phone, "organiser-report")


def test_an_admin_reads_the_campaign_dashboard_on_a_phone(phone, factory, campaign):
    sign_in(phone, factory, "admin", None)
    phone.goto("/organiser/dashboard")
    assert phone.locator("svg.chart-svg").count() >= 4
    assert fits_the_screen(phone)
    screenshot(phone, "organiser-dashboard")
    phone.goto("/organiser/dashboard?from=2026-09-30&to=2026-09-01")
    assert phone.locator(".field .error").count() == 1
    screenshot(phone, "organiser-dashboard-bad-range")


def test_the_city_reads_last_years_campaign_summary_on_a_phone(phone, runner, factory):
    """The admin opens the draft digest of the demo's past edition: one paragraph per district,
    ready to copy, nothing wider than the screen."""
    assert runner.invoke(args=["demo"]).exit_code == 0
    sign_in(phone, factory, "admin", None)
    year = history.edition_year(to_local(utcnow()).date())
    phone.goto(f"/organiser/campaign/summary?from={year}-09-01&to={year}-09-30")
    text = phone.locator("textarea").input_value()
    assert "普陀" in text and "至少200个家庭、400余人次" in text
    assert fits_the_screen(phone)
    screenshot(phone, "organiser-campaign-summary")


def test_an_organiser_sees_who_has_arrived_on_a_phone(phone, factory, campaign):
    """The registrants page says, per family, all in, part of it, or not yet, with the time."""
    sign_in(phone, factory, "organiser", "杨浦区市场监督管理局")
    phone.goto(f"/organiser/events/{campaign.tour.event_id}/registrants")
    arrived = phone.locator("td.registrant-arrival")
    assert arrived.count() == 9  # eight families came, one never did
    assert phone.locator("td.registrant-arrival-all").count() == 8
    assert phone.locator("td.registrant-arrival-none").count() == 1
    assert "全部到场" in arrived.first.inner_text() and "09:" in arrived.first.inner_text()
    assert "未到" in phone.locator("td.registrant-arrival-none").inner_text()
    assert fits_the_screen(phone)
    screenshot(phone, "organiser-registrants-arrived")
