"""Qingpu's lecture series on a phone: a citizen registers a series pass for three talks, the
same QR is admitted at each, and the ticket shows every talk attended."""
from __future__ import annotations

import re

from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import Notification

from ..test_door_pages import scanner_url
from ..test_registration_changes import session_ids
from ..test_series_pass import admit, lectures, take_pass
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


def test_a_pass_at_three_doors_online_and_offline_and_in_the_report(app, phone, factory):
    """Three talks of one day: the organiser's door phone admits the same pass at the first and
    second talk online (the server finds the pass's ticket of that talk), and at the third with
    no network, from its ticket list (the member listed under the pass's code at its talk),
    sent once back online. The report counts the family at each talk."""
    from datetime import timedelta

    from qmevents.services import events
    from qmevents.timeutil import utcnow

    from ..test_door_pages import Door, admitted
    from .test_door_offline import open_offline_ready, scan_field
    from .test_door_wedge import sign_in, wait_until

    # A session's door opens an hour before it starts: four talks 15 minutes apart, all open.
    start = (utcnow() + timedelta(minutes=10)).replace(second=0, microsecond=0)
    talks = [events.SessionDraft(starts_at=start + timedelta(minutes=15 * i),
                                 ends_at=start + timedelta(minutes=15 * i + 12), capacity=30,
                                 label=f"第{i + 1}讲") for i in range(4)]
    event_id = factory.event(title="青浦区质量大讲堂", kind="lecture", series_pass=True,
                             max_party_size=2, sessions=talks)
    ids = session_ids(app, event_id)
    _staff_id, email = factory.user("organiser")
    made = take_pass(app, event_id, ids[:3])
    with app.app_context():
        entrance = db.session.get(events.Event, event_id).entrance.id
    doors = [Door(event_id=event_id, session_id=s, entrance_id=entrance, staff_email=email)
             for s in ids]
    sign_in(phone, email)

    for door in doors[:2]:
        phone.goto(scanner_url(door))
        wait_until(phone, "window.qmDoor !== undefined")
        seen = scan_field(phone, made.code)
        assert (seen["tone"], seen["count"]) == ("ok", "2人"), seen
        screenshot(phone, f"series-door-{door.session_id == ids[0] and 'first' or 'second'}")
    phone.goto(scanner_url(doors[3]))  # the fourth talk: not on this pass
    wait_until(phone, "window.qmDoor !== undefined")
    assert scan_field(phone, made.code)["tone"] == "bad"

    open_offline_ready(phone, doors[2])
    phone.context.set_offline(True)
    wait_until(phone, "!window.qmDoor.offline.online", timeout=15)
    seen = scan_field(phone, made.code)
    assert (seen["tone"], seen["count"]) == ("ok", "2人"), seen
    assert phone.locator("#door-answer [data-part=offline]").is_visible()
    screenshot(phone, "series-door-third-offline")
    phone.context.set_offline(False)
    wait_until(phone, "window.qmDoor.offline.pending === 0", timeout=20)
    assert admitted(app, made.code) == 2  # the first talk's, once
    assert phone.evaluate("window.qmDoor.offline.conflicts") is None  # the server agreed

    phone.goto(f"/organiser/events/{event_id}/report")
    rows = phone.locator("table.report-sessions tbody tr")
    assert rows.count() == 4
    shown = [rows.nth(i).locator("td").nth(2).inner_text().split()[0] for i in range(4)]
    assert shown == ["2", "2", "2", "0"], shown
    screenshot(phone, "series-report")
    phone.goto(f"/t/{made.code}")
    assert phone.locator(".series-session.is-attended").count() == 3
