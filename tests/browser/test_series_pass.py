"""Qingpu's lecture series on a phone: a citizen registers a series pass for three talks, the
same QR is admitted at each, and the ticket shows every talk attended."""
from __future__ import annotations

import re

from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import Notification

from ..test_registration_changes import session_ids
from ..test_series_pass import admit, lectures
from .conftest import screenshot


def test_a_series_pass_is_admitted_at_three_talks(app, phone, factory):
    event_id = factory.event(title="青浦区质量大讲堂", kind="lecture", series_pass=True,
                             max_party_size=2, verify_phone=True, sessions=lectures())
    ids = session_ids(app, event_id)
    staff_id, _ = factory.user("organiser")
    page = phone
    page.goto(f"/events/{event_id}")
    page.click("text=报名系列通票")
    page.uncheck(f"input[name=sessions][value='{ids[3]}']")
    page.fill("input[name=name]", "张伟")
    page.fill("input[name=phone]", "13812345678")
    page.select_option("select[name=party_size]", "2")
    page.check("input[name=consent]")
    page.click("button >> text=获取验证码")
    with app.app_context():
        text = db.session.scalars(select(Notification.body)).first()
    page.fill("input[name=phone_code]", re.search(r"\d{6}", text).group(0))
    screenshot(page, "series-register")
    page.click("button.reg-submit")
    page.wait_for_url(re.compile(r".*/t/[0-9A-Z]{20}$"))
    code = page.url.rsplit("/", 1)[1]
    assert page.locator(".series-session").count() == 3

    for session_id in ids[:3]:
        assert admit(app, code, event_id, session_id, staff_id).result.value == "admitted"
    page.reload()
    assert page.locator(".series-session.is-attended").count() == 3
    screenshot(page, "series-ticket")
