"""The campaign summary: a draft press digest, one paragraph per district, figures rounded the way
the press does, for an editor to copy from the back office."""
from __future__ import annotations

import pytest

from qmevents.demo import history
from qmevents.models import Role
from qmevents.services.reporting import dashboards
from qmevents.services.reporting.digest import campaign_summary
from qmevents.services.reporting.phrases import press_round
from qmevents.timeutil import to_local, utcnow

from .conftest import login

URL = "/organiser/campaign/summary"

# --- rounding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "zh"), [
    (0, "0"), (1, "1"), (9, "9"), (10, "10"), (15, "15"), (19, "19"),  # small: exact
    (20, "20"), (63, "60余"), (83, "80余"), (99, "90余"),  # tens
    (100, "100"), (104, "百余"), (134, "130余"), (200, "200"), (405, "400余"), (999, "990余"),
    (1000, "1000"), (1050, "千余"), (1216, "1200余"), (2046, "2000余"), (3012, "3000余"),
    (9999, "9900余"),
    (10000, "1万"), (10500, "1万余"), (12345, "1.2万余"), (20000, "2万"), (123456, "12万余"),
    (1000000, "100万"),
])
def test_press_rounding_in_chinese(n, zh):
    assert press_round(n).zh == zh


@pytest.mark.parametrize(("n", "en"), [
    (0, "0"), (9, "9"), (20, "20"), (405, "more than 400"), (3012, "more than 3,000"),
    (12345, "more than 12,000"), (10000, "10,000"),
])
def test_press_rounding_in_english(n, en):
    assert press_round(n).en == en


def test_press_rounding_never_rounds_up_and_says_when_it_rounded():
    for n in range(0, 30000, 7):
        figure = press_round(n)
        assert figure.floor <= n and figure.approx == (figure.floor != n)


def test_families_are_at_least_the_rounded_number():
    assert press_round(204).at_least_zh == "至少200"
    assert press_round(200).at_least_zh == "200"
    assert press_round(204).at_least_en == "at least 200"


def test_a_negative_count_is_a_bug():
    with pytest.raises(ValueError):
        press_round(-1)


# --- the demo's past edition reads like the seed digest ---------------------------------------


def summary(app, locale="zh_CN", **filters):
    with app.app_context():
        return campaign_summary(dashboards.DashboardFilter(**filters), locale)


def paragraph(result, name):
    return next(p for p in result.paragraphs if p.name == name)


def year() -> int:
    return history.edition_year(to_local(utcnow()).date())


def test_one_paragraph_per_district_in_the_citys_order(app, demo):
    result = summary(app)
    assert [p.name for p in result.paragraphs] == [
        "黄浦", "徐汇", "长宁", "静安", "普陀", "虹口", "杨浦", "闵行", "宝山", "嘉定", "浦东",
        "金山", "松江", "青浦", "奉贤", "崇明"]
    assert result.title == f"{year()}年上海“质量月”各区活动集锦（初稿）"


def test_putuo_reads_like_the_press_digest(app, demo):
    text = paragraph(summary(app), "普陀").text
    assert text.startswith("9月6日至9月15日，普陀区市场监管局")
    assert f"“{year()}年普陀区家庭探寻质量发展之旅”" in text
    for station in ("英雄金笔厂", "提格机器人", "苏州河工业文明展示馆", "上海纺织博物馆"):
        assert station in text
    assert "等8个站点" in text
    assert "据不完全统计，至少200个家庭、400余人次参加了活动。" in text


def test_fairs_name_their_services_with_press_figures(app, demo):
    result = summary(app)
    chongming = paragraph(result, "崇明").text
    assert "9月12日上午" in chongming and "城桥镇八一路步行街" in chongming
    assert "发放各类宣传资料3000余份，受理消费者投诉5件，免费校修血压计20台" in chongming
    jingan = paragraph(result, "静安").text
    assert "免费测量血压80余人次，发放各类宣传资料1200余份，接待咨询130余人次" in jingan


def test_series_and_districts_with_several_events_are_totalled(app, demo):
    result = summary(app)
    assert "活动共举办9场，观众500余人次。" in paragraph(result, "青浦").text
    yangpu = paragraph(result, "杨浦").text
    assert "杨树浦水厂" in yangpu and "长阳创谷" in yangpu
    assert "杨浦区共举办活动2项" in yangpu and "300余人次参加" in yangpu
    fengxian = paragraph(result, "奉贤").text
    assert "9月11日，奉贤区市场监管局组织上海晨冠乳业有限公司、" in fengxian
    assert "3家企业同日向社会开放" in fengxian


def test_intro_gives_the_campaign_totals(app, demo):
    intro = summary(app).intro
    assert intro.startswith(f"{year()}年9月3日至9月28日，全市16个区")
    assert "共举办群众性质量活动20项" in intro and "人次参加" in intro


def test_english_summary_has_the_same_structure_in_plain_words(app, demo):
    result = summary(app, "en")
    assert [p.name for p in result.paragraphs][:2] == ["Huangpu", "Xuhui"]
    putuo = paragraph(result, "Putuo").text
    assert putuo.startswith("From 6 to 15 September")
    assert "At least 200 families made more than 400 visits." in putuo
    assert "more than 3,000 leaflets" in paragraph(result, "Chongming").text


def test_a_district_filter_keeps_its_paragraph_only(app, demo):
    result = summary(app, district_id=5)  # 普陀区
    assert [p.name for p in result.paragraphs] == ["普陀"]
    assert result.intro.startswith(f"{year()}年9月6日至9月15日，普陀区")


def test_events_not_yet_held_are_left_out(app, factory):
    factory.event(title="下周的开放日")
    result = summary(app)
    assert result.paragraphs == []
    assert result.intro == "所选范围内尚无已举办的活动。"


def draft_text(page: str) -> str:
    """What the textarea holds: the draft to copy."""
    return page.split("<textarea", 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]


# --- the page ----------------------------------------------------------------------------------


def test_admin_reads_the_citys_summary_in_the_page_language(app, client, factory, demo):
    _, email = factory.user(Role.ADMIN.value)
    login(client, email)
    page = client.get(URL).get_data(as_text=True)
    assert "至少200个家庭、400余人次" in page and "<textarea" in page and "readonly" in page
    english = client.get(URL + "?lang=en").get_data(as_text=True)
    assert "At least 200 families made more than 400 visits." in english


def test_an_organiser_gets_its_own_organisations_events_only(app, client, factory, demo):
    _, email = factory.user("organiser", org="普陀区市场监督管理局", district="普陀区")
    login(client, email)
    draft = draft_text(client.get(URL + "?district=").get_data(as_text=True))
    assert "普陀区家庭探寻质量发展之旅" in draft
    assert "崇明" not in draft and "静安" not in draft


def test_door_staff_may_not_read_it(client, factory):
    _, email = factory.user("staff")
    login(client, email)
    assert client.get(URL).status_code == 403


def test_signed_out_visitors_are_asked_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert "<textarea" not in response.get_data(as_text=True)


def test_a_range_that_ends_before_it_starts_says_what_to_fix(client, factory):
    _, email = factory.user(Role.ADMIN.value)
    login(client, email)
    response = client.get(URL + "?from=2025-09-30&to=2025-09-01&lang=en")
    assert response.status_code == 400
    assert "The end date must not be before the start date." in response.get_data(as_text=True)
    assert 'value="2025-09-30"' in response.get_data(as_text=True)


def test_an_unknown_district_is_not_found(client, factory):
    _, email = factory.user(Role.ADMIN.value)
    login(client, email)
    assert client.get(URL + "?district=99").status_code == 404


def test_the_summary_downloads_as_utf8_text(app, client, factory, demo):
    _, email = factory.user(Role.ADMIN.value)
    login(client, email)
    response = client.get(URL + "?format=txt&lang=zh_CN")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith(f"{year()}年上海“质量月”各区活动集锦（初稿）")
    assert "\n\n普陀：\n\n" in text and "至少200个家庭、400余人次" in text


def test_the_back_office_links_to_the_summary(client, organiser):
    assert URL in client.get("/organiser/").get_data(as_text=True)
