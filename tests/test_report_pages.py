"""The organiser opens the report of an event after the door has scanned, and the dashboards:
who sees which figures, bad filters, and the charts drawn on the server."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import District, StaffAssignment
from qmevents.timeutil import to_local, utcnow

from .conftest import login
from .test_reports import XUHUI, YANGPU, Campaign, Scene, make_campaign


@pytest.fixture
def campaign(app, factory) -> Campaign:
    return make_campaign(app, factory)


@pytest.fixture
def tour(campaign) -> Scene:
    """A Yangpu tour, scanned at the door: 5 of 7 registered people in, 2 walk-ins, 3 leaflets."""
    scene = campaign.event()
    campaign.scan(scene, campaign.ticket(scene, 3))
    campaign.scan(scene, campaign.ticket(scene, 4), people=2)
    campaign.walk_in(scene, 2)
    campaign.bump(scene, "资料发放", 3)
    return scene


@pytest.fixture
def xuhui_day(campaign) -> Scene:
    scene = campaign.event(org=XUHUI, district="徐汇区", kind="open_day", title="徐汇开放日")
    campaign.scan(scene, campaign.ticket(scene, 2))
    return scene


def sign_in(client, factory, role: str = "organiser", org: str | None = YANGPU,
            district: str = "杨浦区") -> int:
    user_id, email = factory.user(role, org=org, district=district)
    login(client, email)
    return user_id


def figures_part(html: str) -> str:
    """The page below the dashboard's filter form (whose choices name every organisation)."""
    return html.split("report-filters", 1)[1].split("</form>", 1)[1]


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


# --- the event report -----------------------------------------------------------------------------


def test_an_organiser_reads_the_report_of_its_event_with_its_charts(client, factory, tour):
    sign_in(client, factory)
    response = client.get(f"/organiser/events/{tour.event_id}/report?lang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Who came" in html and f"{YANGPU}的活动" in html
    assert re.search(r">7</strong>\s*people came in", html)  # 5 with tickets, 2 walk-ins
    assert re.search(r'<th scope="row">Registered \(confirmed\)</th><td class="num">2</td>'
                     r'<td class="num">7</td>', html)
    charts = svgs(html)
    assert len(charts) == 3  # arrivals, checkpoints, services
    assert all('role="img"' in c and "<title" in c and "<desc" in c for c in charts)
    assert 'style="' not in html and "<script" not in html


def test_the_report_is_linked_from_the_event_page(client, factory, tour):
    sign_in(client, factory)
    html = client.get(f"/organiser/events/{tour.event_id}").get_data(as_text=True)
    assert f'href="/organiser/events/{tour.event_id}/report"' in html


def test_another_organisations_report_is_not_found(client, factory, xuhui_day):
    sign_in(client, factory)
    assert client.get(f"/organiser/events/{xuhui_day.event_id}/report").status_code == 404


def test_an_unknown_event_has_no_report_page(client, factory):
    sign_in(client, factory)
    assert client.get("/organiser/events/4242/report").status_code == 404


def test_door_staff_read_the_report_of_their_event(app, client, factory, tour):
    staff_id = sign_in(client, factory, "staff")
    assert client.get(f"/organiser/events/{tour.event_id}/report").status_code == 404
    with app.app_context():
        db.session.add(StaffAssignment(user_id=staff_id, event_id=tour.event_id))
        db.session.commit()
    assert client.get(f"/organiser/events/{tour.event_id}/report").status_code == 200


def test_a_report_of_an_event_under_way_reloads_itself_and_a_final_one_does_not(
        client, factory, campaign, tour):
    sign_in(client, factory)
    url = f"/organiser/events/{tour.event_id}/report?lang=en"
    assert 'http-equiv="refresh"' not in client.get(url).get_data(as_text=True)
    campaign.moved(tour, utcnow() - timedelta(minutes=30))
    live = client.get(url).get_data(as_text=True)
    assert 'http-equiv="refresh" content="60"' in live and "Live" in live
    campaign.moved(tour, utcnow() - timedelta(days=2))
    final = client.get(url).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in final and "Final" in final


def test_a_report_before_anyone_came_says_so_without_a_chart(client, factory, campaign):
    scene = campaign.event()
    sign_in(client, factory)
    html = client.get(f"/organiser/events/{scene.event_id}/report?lang=en").get_data(as_text=True)
    assert "Nobody has been let in yet." in html


def test_a_signed_out_visitor_sees_no_figures(client, tour):
    for url in (f"/organiser/events/{tour.event_id}/report", "/organiser/dashboard"):
        response = client.get(url)
        assert response.status_code in (302, 401)
        assert "people came in" not in response.get_data(as_text=True)


# --- the dashboard --------------------------------------------------------------------------------


def test_an_organiser_sees_its_own_organisations_dashboard_whatever_it_asks(
        client, factory, campaign, tour, xuhui_day):
    sign_in(client, factory)
    xuhui = campaign.district_id("徐汇区")
    for query in ("", f"organisation={campaign.organisation_id(XUHUI)}", f"district={xuhui}"):
        response = client.get(f"/organiser/dashboard?{query}&lang=en")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert XUHUI not in html and "徐汇开放日" not in html


def test_an_organisers_dashboard_shows_its_figures_and_charts(client, factory, tour, xuhui_day):
    sign_in(client, factory)
    html = client.get("/organiser/dashboard?lang=en").get_data(as_text=True)
    assert YANGPU in html and "Per district" in html
    assert re.search(r">7</strong>\s*people came in", html)
    assert len(svgs(html)) >= 3
    assert 'style="' not in html


def test_an_admin_sees_every_district_and_may_choose_one(client, factory, campaign, tour,
                                                         xuhui_day):
    sign_in(client, factory, "admin", org=None)
    everything = client.get("/organiser/dashboard?lang=en").get_data(as_text=True)
    assert YANGPU in everything and XUHUI in everything
    assert "Yangpu" in everything and "Xuhui" in everything
    xuhui = campaign.district_id("徐汇区")
    one = client.get(f"/organiser/dashboard?district={xuhui}&lang=en").get_data(as_text=True)
    assert XUHUI in figures_part(one) and YANGPU not in figures_part(one)


def test_an_admin_may_choose_an_organisation(client, factory, campaign, tour, xuhui_day):
    sign_in(client, factory, "admin", org=None)
    org = campaign.organisation_id(XUHUI)
    html = client.get(f"/organiser/dashboard?organisation={org}").get_data(as_text=True)
    assert XUHUI in figures_part(html) and YANGPU not in figures_part(html)


def test_door_staff_have_no_dashboard(client, factory):
    sign_in(client, factory, "staff")
    assert client.get("/organiser/dashboard").status_code == 403


def test_a_range_ending_before_it_starts_is_a_400_with_the_message(client, factory, tour):
    sign_in(client, factory)
    response = client.get("/organiser/dashboard?from=2026-09-30&to=2026-09-01&lang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The end date must not be before the start date." in html
    assert 'value="2026-09-30"' in html and 'value="2026-09-01"' in html


@pytest.mark.parametrize("query", ["from=yesterday", "to=2026-13-45", "district=abc",
                                   "from=0001-01-01"])
def test_a_filter_that_cannot_be_read_is_a_400(client, factory, query):
    sign_in(client, factory, "admin", org=None)
    response = client.get(f"/organiser/dashboard?{query}&lang=en")
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["district=999", "kind=picnic", "organisation=31337"])
def test_an_unknown_district_kind_or_organisation_is_not_found(client, factory, query):
    sign_in(client, factory, "admin", org=None)
    assert client.get(f"/organiser/dashboard?{query}").status_code == 404


def test_the_date_range_and_kind_filter_the_dashboard(client, factory, campaign, tour):
    sign_in(client, factory)
    when = to_local(utcnow() + timedelta(days=7)).date().isoformat()  # the tour's day in Shanghai
    kept = client.get(f"/organiser/dashboard?from={when}&to={when}&kind=family_tour&lang=en")
    assert re.search(r">7</strong>\s*people came in", kept.get_data(as_text=True))
    other = client.get("/organiser/dashboard?kind=lecture&lang=en").get_data(as_text=True)
    assert "No events match your choice" in other


def test_the_dashboard_is_in_the_navigation_of_organisers_and_admins(client, factory):
    sign_in(client, factory)
    assert 'href="/organiser/dashboard"' in client.get("/organiser/").get_data(as_text=True)


def test_district_choices_are_the_citys(app, client, factory):
    sign_in(client, factory, "admin", org=None)
    html = client.get("/organiser/dashboard").get_data(as_text=True)
    with app.app_context():
        ids = db.session.scalars(select(District.id)).all()
    assert all(f'<option value="{i}"' in html for i in ids)
