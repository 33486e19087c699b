"""The satisfaction survey the thank-you links to (/t/<code>/survey): parties that came answer
once their session has ended, once per ticket (a second answer, or two at once, is told it was
answered already, never a 500); no-shows are told why they have nothing to rate; the comment is
kept as typed and shown escaped; the ticket page links to the survey, then thanks."""
from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from sqlalchemy import func, select, update

from qmevents.extensions import db
from qmevents.models import Event, Registration, StaffAssignment, SurveyResponse
from qmevents.services import survey
from qmevents.services.errors import NotFound, ValidationFailed
from qmevents.services.reporting import dashboards, reports, satisfaction
from qmevents.services.reporting.digest import campaign_summary
from qmevents.timeutil import utcnow

from .conftest import Factory, close_app, csrf_from, login, ready_app
from .test_capacity_race import together
from .test_thanks import Door


@pytest.fixture
def held(app, factory):
    """An event held an hour ago: `came` (a party of three, two came in), `absent` (no-show)."""
    door = Door(app, factory, title="质量开放日")
    door.came = door.ticket("13800138000", party_size=3)
    door.absent = door.ticket("13800138001", party_size=2)
    door.admit(door.came, people=2)
    door.ended_an_hour_ago()
    return door


def answers(app) -> list[SurveyResponse]:
    with app.app_context():
        return list(db.session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))


# --- the service ------------------------------------------------------------------------------


def test_a_party_that_came_answers_once(app, held):
    with app.app_context():
        stored = survey.answer(held.came, "5", True, "  讲解很专业，下次还来！  ")
        assert (stored.stars, stored.come_again, stored.comment) == (5, True, "讲解很专业，下次还来！")
        assert stored.event_id == held.event_id
        with pytest.raises(survey.AlreadyAnswered):
            survey.answer(held.came, 3, False, "")
    (only,) = answers(app)
    assert only.stars == 5


def test_no_shows_have_nothing_to_rate_and_nobody_answers_before_the_end(app, factory, held):
    with app.app_context():
        with pytest.raises(survey.SurveyClosed) as refused:
            survey.answer(held.absent, 4)
        assert refused.value.state == survey.SurveyState.NOT_ADMITTED
    upcoming = Door(app, factory)
    code = upcoming.ticket("13800138002")
    upcoming.admit(code)
    with app.app_context():
        with pytest.raises(survey.SurveyClosed) as refused:
            survey.answer(code, 4)
        assert refused.value.state == survey.SurveyState.NOT_YET
        with pytest.raises(NotFound):
            survey.answer("0" * 20, 4)
    assert answers(app) == []


def test_closed_after_thirty_days_and_once_the_personal_data_is_purged(app, held):
    with app.app_context():
        late = utcnow() + timedelta(days=survey.SURVEY_DAYS)
        with pytest.raises(survey.SurveyClosed):
            survey.answer(held.came, 4, now=late)
        db.session.execute(update(Event).values(personal_data_purged_at=utcnow()))
        db.session.commit()
        with pytest.raises(survey.SurveyClosed) as refused:
            survey.answer(held.came, 4)
        assert refused.value.state == survey.SurveyState.CLOSED


@pytest.mark.parametrize("stars, come_again, comment, field", [
    (0, None, "", "stars"), (6, None, "", "stars"), ("", None, "", "stars"),
    (None, None, "", "stars"), ("3.5", None, "", "stars"), (True, None, "", "stars"),
    ("9" * 40, None, "", "stars"), (3, "maybe", "", "come_again"),
    (3, None, "好" * 501, "comment"), (3, None, ["x"], "comment"),
])
def test_bad_answers_are_refused_field_by_field(app, held, stars, come_again, comment, field):
    with app.app_context():
        with pytest.raises(ValidationFailed) as failed:
            survey.answer(held.came, stars, come_again, comment)
        assert set(failed.value.errors) == {field}
    assert answers(app) == []


def test_full_width_stars_and_a_comment_of_500_characters(app, held):
    with app.app_context():
        survey.answer(held.came, "４", None, "好" * 500)
    (stored,) = answers(app)
    assert (stored.stars, stored.come_again, len(stored.comment)) == (4, None, 500)


def test_the_loser_of_a_race_past_the_check_is_told_it_was_answered(app, held):
    """Both answers passed the "answered yet?" check: the unique constraint decides."""
    with app.app_context():
        survey.answer(held.came, 5)
        with mock.patch("qmevents.services.survey._answered", return_value=False), \
                pytest.raises(survey.AlreadyAnswered):
            survey.answer(held.came, 1)
        assert db.session.scalar(select(func.count(SurveyResponse.id))) == 1


def test_two_answers_sent_at_once_store_one(app, held):
    def answering(stars: int):
        def call():
            with app.app_context():
                try:
                    return survey.answer(held.came, stars).stars
                except survey.AlreadyAnswered:
                    return "already"
        return call

    outcomes = together([answering(n) for n in (1, 2, 3, 4)])
    assert outcomes.count("already") == 3, outcomes
    (stored,) = answers(app)
    assert stored.stars in outcomes


# --- the pages --------------------------------------------------------------------------------


def test_the_ticket_page_links_to_the_survey_then_thanks(app, client, held):
    page = client.get(f"/t/{held.came}").get_data(as_text=True)
    assert f'href="/t/{held.came}/survey"' in page
    absent = client.get(f"/t/{held.absent}").get_data(as_text=True)
    assert "/survey" not in absent

    form = client.get(f"/t/{held.came}/survey")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert html.count('type="radio" name="stars"') == 5
    assert 'name="come_again"' in html and 'name="comment"' in html
    sent = client.post(f"/t/{held.came}/survey", data={
        "csrf_token": csrf_from(html), "stars": "4", "come_again": "yes",
        "comment": "<script>alert(1)</script> 很好"})
    assert sent.status_code == 303
    assert sent.headers["Location"].endswith(f"/t/{held.came}/survey")
    (stored,) = answers(app)
    assert (stored.stars, stored.come_again) == (4, True)
    assert stored.comment == "<script>alert(1)</script> 很好"  # kept as typed

    again = client.post(f"/t/{held.came}/survey", data={
        "csrf_token": csrf_from(html), "stars": "1", "come_again": "no"})
    assert again.status_code == 409
    assert 'type="radio" name="stars"' not in again.get_data(as_text=True)
    assert len(answers(app)) == 1
    after = client.get(f"/t/{held.came}").get_data(as_text=True)
    assert f'href="/t/{held.came}/survey"' not in after
    assert "ticket-survey" in after  # the thanks for the answer
    assert client.get(f"/t/{held.came}/survey").status_code == 200


def test_without_a_csrf_token_nothing_is_stored(client, held, app):
    response = client.post(f"/t/{held.came}/survey", data={"stars": "5"})
    assert response.status_code == 400
    assert answers(app) == []


def test_bad_input_is_a_form_again_never_a_500(client, held, app):
    html = client.get(f"/t/{held.came}/survey").get_data(as_text=True)
    token = csrf_from(html)
    for data in ({}, {"stars": "0"}, {"stars": "五"}, {"stars": ["1", "2"], "come_again": "x"},
                 {"stars": "3", "comment": "长" * 501}):
        response = client.post(f"/t/{held.came}/survey", data={"csrf_token": token, **data})
        assert response.status_code == 400, data
        assert 'type="radio" name="stars"' in response.get_data(as_text=True)
    assert answers(app) == []


def test_no_shows_get_an_explanation_and_a_wrong_code_a_404(client, held, app):
    page = client.get(f"/t/{held.absent}/survey")
    assert page.status_code == 200
    assert 'name="stars"' not in page.get_data(as_text=True)
    html = client.get(f"/t/{held.came}/survey").get_data(as_text=True)
    refused = client.post(f"/t/{held.absent}/survey",
                          data={"csrf_token": csrf_from(html), "stars": "5"})
    assert refused.status_code == 403
    assert client.get("/t/NOSUCHCODE0000000000/survey").status_code == 404
    assert client.get("/t/short/survey").status_code == 404
    assert answers(app) == []


def test_the_comment_is_shown_escaped_when_the_form_comes_back(client, held):
    html = client.get(f"/t/{held.came}/survey").get_data(as_text=True)
    response = client.post(f"/t/{held.came}/survey", data={
        "csrf_token": csrf_from(html), "stars": "9", "comment": "<b>粗体</b>"})
    body = response.get_data(as_text=True)
    assert "<b>粗体</b>" not in body and "&lt;b&gt;粗体&lt;/b&gt;" in body


def test_answers_are_rate_limited_per_address(tmp_path, monkeypatch, postgres_url):
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "limited"))
    app = ready_app(postgres_url, RATELIMIT_ENABLED=True,
                    SURVEY_RATE_LIMIT_PER_ADDRESS="2 per minute")
    try:
        door = Door(app, Factory(app))
        code = door.ticket("13800138000")
        door.admit(code)
        door.ended_an_hour_ago()
        client = app.test_client()
        html = client.get(f"/t/{code}/survey").get_data(as_text=True)
        statuses = [client.post(f"/t/{code}/survey", data={
            "csrf_token": csrf_from(html), "stars": "0"}).status_code for _ in range(3)]
        assert statuses == [400, 400, 429]
        other = client.post(f"/t/{code}/survey", data={"csrf_token": csrf_from(html),
                            "stars": "5"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert other.status_code == 303
    finally:
        close_app(app)


def test_the_survey_page_is_private(client, held):
    response = client.get(f"/t/{held.came}/survey")
    assert response.headers["Cache-Control"].startswith("private")
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert re.search(r'<meta name="robots" content="noindex', response.get_data(as_text=True))


def test_the_stored_registration_is_untouched(app, held):
    with app.app_context():
        survey.answer(held.came, 5)
        registration = db.session.scalar(select(Registration).filter_by(code=held.came))
        assert registration.admitted_people == 2


# --- the results: the event report, its export, the campaign summary -----------------------------


@pytest.fixture
def rated(app, factory):
    """An event held an hour ago whose five parties came: four answered (5, 5, 4, 2 stars; come
    again yes, yes, no, not said), one of them with a comment that names someone."""
    door = Door(app, factory, title="质量开放日")
    door.codes = [door.ticket(f"1380013810{n}", party_size=1) for n in range(5)]
    for code in door.codes:
        door.admit(code)
    door.ended_an_hour_ago()
    with app.app_context():
        for code, stars, again, comment in zip(door.codes, (5, 5, 4, 2), (True, True, False, None),
                                               ("讲解员<b>王芳</b>很耐心", "", "", ""),
                                               strict=False):
            survey.answer(code, stars, again, comment)
    return door


def report_of(app, event_id: int):
    with app.app_context():
        return reports.event_report(event_id)


def test_the_report_counts_answers_average_stars_and_who_would_come_again(app, rated):
    figures = report_of(app, rated.event_id).satisfaction
    assert (figures.answers, figures.average) == (4, 4.0)
    assert figures.come_again_share == pytest.approx(2 / 3)  # of the three who said
    with app.app_context():
        assert [c.text for c in satisfaction.comments(rated.event_id)] == ["讲解员<b>王芳</b>很耐心"]


def test_an_event_without_answers_has_no_average(app, held):
    figures = report_of(app, held.event_id).satisfaction
    assert (figures.answers, figures.average, figures.come_again_share) == (0, None, None)


def test_the_report_page_shows_the_figures_and_to_its_organisers_the_comments(
        app, client, factory, rated):
    _id, email = factory.user("organiser")
    login(client, email)
    html = client.get(f"/organiser/events/{rated.event_id}/report?lang=en").get_data(as_text=True)
    assert 'id="satisfaction-heading"' in html
    assert re.search(r"<strong>4</strong>", html) and "<strong>4.0</strong>" in html
    assert "<strong>67%</strong>" in html
    assert "讲解员&lt;b&gt;王芳&lt;/b&gt;很耐心" in html and "<b>王芳</b>" not in html

    staff = app.test_client()
    staff_id, staff_email = factory.user("staff")
    with app.app_context():
        db.session.add(StaffAssignment(user_id=staff_id, event_id=rated.event_id))
        db.session.commit()
    login(staff, staff_email)
    seen = staff.get(f"/organiser/events/{rated.event_id}/report").get_data(as_text=True)
    assert "<strong>4.0</strong>" in seen
    assert "王芳" not in seen and "survey-comments" not in seen  # figures only


def test_the_report_export_holds_the_figures_not_the_comments(app, client, factory, rated):
    _id, email = factory.user("organiser")
    login(client, email)
    csv = client.get(f"/organiser/events/{rated.event_id}/report.csv?lang=en")
    assert csv.status_code == 200
    text = csv.get_data().decode("utf-8-sig")
    assert re.search(r"Survey answers,4\r?\n", text)
    assert re.search(r"Average stars \(out of 5\),4\.0\r?\n", text)
    assert re.search(r"Would come again,66\.7%\r?\n", text)
    assert "王芳" not in text
    xlsx = client.get(f"/organiser/events/{rated.event_id}/report.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_the_campaign_summary_says_how_satisfied_people_were(app, rated):
    with app.app_context():
        zh = campaign_summary(dashboards.DashboardFilter(), "zh_CN")
        en = campaign_summary(dashboards.DashboardFilter(), "en")
    said = "参与问卷的4位市民平均满意度4.0分（满分5分），67%表示愿意再来。"
    assert said in zh.intro
    (yangpu,) = zh.paragraphs
    assert yangpu.text.endswith(said)
    assert "The 4 visitors who answered the survey gave the events 4.0 out of 5 on average; " \
        "67% would come again." in en.intro


def test_without_answers_the_summary_says_nothing_of_satisfaction(app, held):
    with app.app_context():
        zh = campaign_summary(dashboards.DashboardFilter(), "zh_CN")
    assert "满意度" not in zh.as_text()
    assert zh.paragraphs  # the event is there, its figures without a survey


def test_last_years_demo_edition_has_answers_for_the_summary(app, demo):
    with app.app_context():
        zh = campaign_summary(dashboards.DashboardFilter(), "zh_CN")
    assert re.search(r"参与问卷的\S+位市民平均满意度\d\.\d分（满分5分），\d+%表示愿意再来。", zh.intro)
    assert any("参与问卷的" in p.text for p in zh.paragraphs)
