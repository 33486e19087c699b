"""A campaign from an empty database, on phones, every message read from the outbox as the
person it is for would read it:

a bureau and an enterprise of its district are created with the CLI; the enterprise's organiser
publishes an open day, invites a volunteer (who signs in by the link in their e-mail) and pairs
a phone as a door device by its QR; a citizen registers (the code from the text message), gets
the reminder the evening before, is told when the time changes; the paired phone admits the
ticket; the thank-you brings the survey, which the citizen answers; the bureau sees the event and
its 满意度 on its dashboard and in its campaign summary."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock
from urllib.parse import urlsplit

from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import Notification, Registration
from qmevents.organiser.team import qr_image
from qmevents.timeutil import SHANGHAI, to_local, utcnow

from ..conftest import PASSWORD
from .conftest import PHONE, screenshot

BUREAU = "杨浦区市场监督管理局"
ENTERPRISE = "上海威派格智慧水务股份有限公司"
CITIZEN = "13812345678"


def message(app, recipient: str, kind: str) -> str:
    """The newest message of `kind` to `recipient`, as its reader gets it."""
    with app.app_context():
        body = db.session.scalars(select(Notification.body).filter_by(
            recipient=recipient, kind=kind).order_by(Notification.id.desc())).first()
    assert body, f"no {kind} message to {recipient}"
    return body


def link_in(text: str) -> str:
    """The path of the (only) link of ours in a message."""
    url = re.search(r"http://127\.0\.0\.1:\d+(/[^\s，。]+)", text)
    assert url, text
    return url.group(1)


def local_input(moment: datetime) -> str:
    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


@contextmanager
def phone_context(browser, live_server) -> Iterator:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", base_url=live_server)
    escaped: list[str] = []

    def guard(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            escaped.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert not escaped, f"requests left the machine: {escaped}"


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/organiser/")


def test_a_campaign_from_an_empty_database_on_phones(app, runner, browser, live_server):
    app.config["PUBLIC_URL"] = live_server  # as production must: cron's texts need a host too
    # --- the CLI: a bureau and an enterprise of its district ---------------------------------
    for email, org, kind in (("juzhang@yp.example.cn", BUREAU, "bureau"),
                             ("zhiliang@wpg.example.cn", ENTERPRISE, "enterprise")):
        made = runner.invoke(args=["create-user", email, "--role", "organiser", "--org", org,
                                   "--district", "杨浦区", "--org-kind", kind],
                             input=f"{PASSWORD}\n{PASSWORD}\n")
        assert made.exit_code == 0, made.output

    start = (utcnow() + timedelta(minutes=40)).replace(second=0, microsecond=0)
    with phone_context(browser, live_server) as organiser:
        # --- the enterprise publishes its open day ------------------------------------------
        sign_in(organiser, "zhiliang@wpg.example.cn")
        organiser.goto("/organiser/events/new")
        organiser.fill("input[name=title]", "威派格智慧水务质量开放日")
        organiser.select_option("select[name=kind]", "open_day")
        organiser.select_option("select[name=district]", "杨浦区")
        organiser.fill("input[name=venue]", "威派格智慧水务产业园")
        organiser.fill("input[name=address]", "上海市杨浦区军工路1号")
        organiser.fill("input[name='sessions-0-starts_at']", local_input(start))
        organiser.fill("input[name='sessions-0-ends_at']", local_input(start + timedelta(hours=2)))
        organiser.fill("input[name='sessions-0-capacity']", "40")
        organiser.click("button[name=action][value=publish]")
        organiser.wait_for_url(re.compile(r".*/organiser/events/\d+$"))
        event_id = int(organiser.url.rsplit("/", 1)[1])

        # --- door staff: a volunteer invited by a one-time link ------------------------------
        organiser.click("text=门口人员与设备")
        organiser.fill("#email", "zhiyuanzhe@example.cn")
        organiser.click("button >> text=加入门口工作人员")
        assert organiser.locator("img.qr-card-image").count() == 1
        screenshot(organiser, "story-organiser-staff-invited")
        with phone_context(browser, live_server) as volunteer:
            volunteer.goto(link_in(message(app, "zhiyuanzhe@example.cn", "staff_invitation")))
            volunteer.click("button >> text=在本设备上登录")
            volunteer.wait_for_url(f"**/door/events/{event_id}")

        # --- a phone paired as a door device by its QR ---------------------------------------
        organiser.fill("#name", "东门 2 号机")
        organiser.click("button >> text=添加设备并显示二维码")
        screenshot(organiser, "story-organiser-device-qr")
        shown = organiser.get_attribute(".qr-card-link a", "href")
        # the QR on the screen holds exactly the address under it
        assert organiser.get_attribute("img.qr-card-image", "src") == qr_image(shown)
        pairing = urlsplit(shown).path
        with phone_context(browser, live_server) as door:
            door.goto(pairing)
            assert "东门 2 号机" in door.inner_text("main")
            door.click("button >> text=登记并打开扫码页")
            door.wait_for_url(f"**/door/events/{event_id}")

            # --- a citizen registers, the code read from the text message --------------------
            with phone_context(browser, live_server) as citizen:
                citizen.goto(f"/events/{event_id}")
                citizen.click("a.button.primary >> text=我要报名")
                citizen.fill("input[name=name]", "张伟")
                citizen.fill("input[name=phone]", CITIZEN)
                citizen.select_option("select[name=party_size]", "2")
                citizen.check("input[name=consent]")
                citizen.click("button >> text=获取验证码")
                code_text = message(app, CITIZEN, "registration_code")
                citizen.fill("input[name=phone_code]", re.search(r"\d{6}", code_text).group())
                citizen.click("button.reg-submit")
                citizen.wait_for_url(re.compile(r".*/t/[0-9A-Z]{20}$"))
                ticket = citizen.url.rsplit("/", 1)[1]
                assert f"/t/{ticket}" in message(app, CITIZEN, "registration_confirmed")

                # --- the reminder, at 18:00 the evening before (cron) ------------------------
                evening = datetime.combine(to_local(start).date() - timedelta(days=1),
                                           datetime.min.time().replace(hour=18, minute=5),
                                           tzinfo=SHANGHAI)
                with mock.patch("qmevents.services.messaging.reminders.utcnow",
                                lambda: evening):
                    assert "reminders sent 1" in runner.invoke(
                        args=["notify", "reminders"]).output
                reminder = message(app, CITIZEN, "reminder")
                assert "威派格智慧水务质量开放日" in reminder and f"/t/{ticket}" in reminder

                # --- the time changes: the organiser sees who will be told, the citizen is ---
                organiser.goto(f"/organiser/events/{event_id}/edit")
                later = start + timedelta(minutes=10)
                organiser.fill("input[name='sessions-0-starts_at']", local_input(later))
                organiser.fill("input[name='sessions-0-ends_at']",
                               local_input(later + timedelta(hours=2)))
                organiser.click(".actions button[name=action][value=save]")
                assert "1 " in organiser.inner_text(".tell-confirm")
                screenshot(organiser, "story-organiser-tell-confirm")
                organiser.click(".tell-confirm button")
                organiser.wait_for_url(f"**/organiser/events/{event_id}")
                changed = message(app, CITIZEN, "event_changed")
                assert f"{to_local(later):%H:%M}" in changed and f"/t/{ticket}" in changed

                # --- the paired phone admits the ticket --------------------------------------
                door.goto(f"/door/events/{event_id}")
                door.fill("#door-code", ticket)
                door.press("#door-code", "Enter")
                door.wait_for_selector(".door-answer.tone-ok, .door-answer-page")
                screenshot(door, "story-door-admitted")
                with app.app_context():
                    assert db.session.scalar(select(Registration.admitted_people)
                                             .filter_by(code=ticket)) == 2

                # --- after the session: the thank-you and the survey -------------------------
                next_morning = datetime.combine(to_local(later).date() + timedelta(days=1),
                                                datetime.min.time().replace(hour=10),
                                                tzinfo=SHANGHAI)
                with mock.patch("qmevents.services.messaging.thanks.utcnow",
                                lambda: next_morning):
                    assert "thanks sent 1" in runner.invoke(args=["notify", "thanks"]).output
                survey = link_in(message(app, CITIZEN, "thank_you"))
                assert survey == f"/t/{ticket}/survey"
                with mock.patch("qmevents.services.survey.utcnow", lambda: next_morning):
                    citizen.goto(survey)
                    citizen.click("label.star >> nth=4")
                    citizen.check("input[name=come_again][value=yes]")
                    citizen.fill("textarea[name=comment]", "讲解很专业，孩子很喜欢。")
                    screenshot(citizen, "story-citizen-survey")
                    citizen.click("button.reg-submit")
                    citizen.wait_for_load_state()
                    assert "感谢" in citizen.inner_text("main")

    # --- the bureau sees the enterprise's event and its 满意度 ---------------------------------
    with phone_context(browser, live_server) as bureau:
        sign_in(bureau, "juzhang@yp.example.cn")
        assert "威派格智慧水务质量开放日" in bureau.inner_text("main")
        bureau.goto("/organiser/dashboard")
        board = bureau.inner_text("main")
        assert ENTERPRISE in board and "5.0" in board
        screenshot(bureau, "story-bureau-dashboard")
        # the summary reports what has taken place: read it the morning after
        with mock.patch("qmevents.services.reporting.digest.utcnow",
                        lambda: start + timedelta(days=1)):
            bureau.goto("/organiser/campaign/summary")
        assert "辖区内" in bureau.inner_text("main")
        summary = bureau.input_value("textarea")
        assert "满意度5.0分" in summary and "100%表示愿意再来" in summary
        screenshot(bureau, "story-bureau-summary")
