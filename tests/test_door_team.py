"""An event's door team from the event page and the API: door staff added (an existing account)
or invited (a one-time sign-in link shown as a QR and sent), removed at once; phones paired as
door devices by a QR, limited to that event, listed with their last scan, switched off at once."""
from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import AuditEntry, DoorDevice, Notification, SignInLink, User
from qmevents.services import devices, invitations
from qmevents.services.errors import ValidationFailed
from qmevents.timeutil import utcnow

from .conftest import csrf_from, login, submit
from .test_api import assert_documented, bearer, token_for
from .test_checkin import BUREAU, make_door
from .test_notify import sms_provider  # noqa: F401 (a fixture)

LINK_RE = re.compile(r'href="(http://localhost/signin/[^"]+)"')
PAIR_RE = re.compile(r'href="(http://localhost/door/pair/[^"]+)"')


@pytest.fixture
def tour(app, factory):
    return make_door(app, factory)


@pytest.fixture
def boss(app, factory, client, tour):
    """An organiser of the tour's bureau, signed in on `client`."""
    _id, email = factory.user("organiser", org=BUREAU)
    login(client, email)
    return email


def team_url(tour) -> str:
    return f"/organiser/events/{tour.event_id}/team"


def path_of(url: str) -> str:
    return url.removeprefix("http://localhost")


def test_an_invited_volunteer_signs_in_once_by_the_link_onto_the_events_scanner(
        app, client, tour, boss):
    page = client.get(team_url(tour))
    assert page.status_code == 200
    answer = submit(client, team_url(tour) + "/staff",
                    {"email": "Volunteer@Example.cn", "phone": "139 1234 5678"}, page=team_url(tour))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'src="data:image/svg+xml;base64,' in html
    link = LINK_RE.search(html).group(1)
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(email="volunteer@example.cn"))
        assert user.role == "staff" and not user.password_hash.startswith("$argon2")
        sent = list(db.session.scalars(select(Notification).filter_by(kind="staff_invitation")))
        assert {n.channel for n in sent} == {"email", "sms"}
        assert {n.recipient for n in sent} == {"volunteer@example.cn", "13912345678"}
        assert all(link in n.body for n in sent)
        assert "杨浦区家庭质量探寻之旅" not in sent[0].body  # no organiser-typed words to a number
        # only the hash is kept
        assert db.session.scalar(select(SignInLink.token_hash)) not in link

    phone = app.test_client()
    opened = phone.get(path_of(link))  # a chat app's preview opens it too: nothing is used up
    assert opened.status_code == 200 and "volunteer@example.cn" in opened.get_data(as_text=True)
    assert phone.get(path_of(link)).status_code == 200
    signed_in = phone.post(path_of(link), data={"csrf_token": csrf_from(opened.get_data(as_text=True))})
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"].endswith(f"/door/events/{tour.event_id}")
    assert phone.get(f"/door/events/{tour.event_id}").status_code == 200

    again = app.test_client()
    assert again.get(path_of(link)).status_code == 410  # once
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.id).filter_by(action="sign_in_link_used"))


def test_a_link_expires_and_dies_with_its_account(app, client, tour, boss):
    answer = submit(client, team_url(tour) + "/staff", {"email": "late@example.cn"},
                    page=team_url(tour))
    link = path_of(LINK_RE.search(answer.get_data(as_text=True)).group(1))
    later = utcnow() + timedelta(hours=73)
    with mock.patch("qmevents.services.invitations.utcnow", lambda: later):
        assert app.test_client().get(link).status_code == 410
    with app.app_context():
        db.session.execute(db.update(User).filter_by(email="late@example.cn").values(active=False))
        db.session.commit()
    assert app.test_client().get(link).status_code == 410
    assert app.test_client().get("/signin/" + "x" * 500).status_code == 410


def test_existing_staff_join_at_once_and_removal_stops_cookie_and_token(app, client, factory,
                                                                        tour, boss):
    _id, email = factory.user("staff", org=BUREAU)
    phone = app.test_client()
    login(phone, email)
    door = f"/door/events/{tour.event_id}"
    assert phone.get(door).status_code == 404
    added = submit(client, team_url(tour) + "/staff", {"email": email}, page=team_url(tour))
    assert added.status_code == 303
    assert phone.get(door).status_code == 200
    token = bearer(token_for(app.test_client(), email))
    figures = f"/api/v1/events/{tour.event_id}/attendance"
    assert app.test_client().get(figures, headers=token).status_code == 200
    page = client.get(team_url(tour)).get_data(as_text=True)
    assert email in page
    with app.app_context():
        user_id = db.session.scalar(select(User.id).filter_by(email=email))
    removed = client.post(f"{team_url(tour)}/staff/{user_id}/remove",
                          data={"csrf_token": csrf_from(page)})
    assert removed.status_code == 303
    assert phone.get(door).status_code == 404
    assert app.test_client().get(figures, headers=token).status_code in (403, 404)


def test_the_team_form_refuses_bad_input_with_messages_and_keeps_what_was_typed(client, tour,
                                                                               factory, boss):
    _id, organiser = factory.user("organiser", org="嘉定区市场监督管理局", district="嘉定区")
    for data in ({"email": "not an address"}, {"email": organiser},
                 {"email": "new@example.cn", "phone": "12345"}):
        answer = submit(client, team_url(tour) + "/staff", data, page=team_url(tour))
        assert answer.status_code == 400
        html = answer.get_data(as_text=True)
        assert 'class="error"' in html and data["email"] in html
    assert submit(client, team_url(tour) + "/devices", {"name": ""},
                  page=team_url(tour)).status_code == 400
    assert submit(client, team_url(tour) + "/devices", {"name": "门" * 41},
                  page=team_url(tour)).status_code == 400
    # without the form's token nothing happens
    assert client.post(team_url(tour) + "/staff", data={"email": "x@example.cn"}).status_code == 400


def test_only_the_events_editors_manage_its_team(app, client, factory, tour):
    _id, other = factory.user("organiser", org="嘉定区市场监督管理局", district="嘉定区")
    login(client, other)
    assert client.get(team_url(tour)).status_code == 404
    staff = app.test_client()
    login(staff, tour.staff_email)
    assert staff.get(team_url(tour)).status_code == 403


# --- devices ----------------------------------------------------------------------------------


def pair_device(app, client, tour, name="东门 2 号机"):
    answer = submit(client, team_url(tour) + "/devices", {"name": name}, page=team_url(tour))
    assert answer.status_code == 200
    return path_of(PAIR_RE.search(answer.get_data(as_text=True)).group(1))


def test_a_phone_pairs_by_qr_and_scans_this_event_only(app, client, factory, tour, boss):
    pairing = pair_device(app, client, tour)
    phone = app.test_client()
    confirm = phone.get(pairing)
    assert confirm.status_code == 200 and "东门 2 号机" in confirm.get_data(as_text=True)
    paired = phone.post(pairing, data={"csrf_token": csrf_from(confirm.get_data(as_text=True))})
    assert paired.status_code == 303
    assert paired.headers["Location"].endswith(f"/door/events/{tour.event_id}")
    assert phone.get(f"/door/events/{tour.event_id}").status_code == 200
    assert app.test_client().post(pairing, data={}).status_code in (400, 410)
    assert app.test_client().get(pairing).status_code == 410  # once

    other = factory.event("嘉定区市场监督管理局", district="嘉定区")
    assert phone.get(f"/door/events/{other}").status_code == 404
    assert phone.get(f"/organiser/events/{tour.event_id}/registrants").status_code == 403
    assert phone.get(f"/organiser/events/{tour.event_id}/edit").status_code == 403
    assert phone.get("/organiser/dashboard").status_code == 403
    assert phone.get("/account/password").status_code == 403  # never a password

    code = tour.ticket(party=2)
    csrf = {"X-CSRFToken": csrf_from(phone.get(f"/door/events/{tour.event_id}")
                                     .get_data(as_text=True))}
    with tour.clock():
        scans = [phone.post("/api/v1/checkins", headers=csrf, json={
            "code": code, "event_id": tour.event_id, "session_id": tour.morning}).get_json()
            for _ in range(2)]
    assert scans[0]["result"] == "admitted", scans[0]
    assert scans[1]["previous"]["by"] == "东门 2 号机"  # the door reads the device's name
    page = client.get(team_url(tour)).get_data(as_text=True)
    assert "东门 2 号机" in page and "扫码 1 次" in page
    # a device is not listed among the people of the door staff
    with app.app_context():
        device = db.session.scalar(select(DoorDevice))
        assert device.user.email not in page


def test_a_scanner_app_pairs_through_the_api_and_revoking_stops_it_at_once(app, client, tour,
                                                                           boss):
    pairing = pair_device(app, client, tour, "西门扫码枪")
    secret = pairing.rsplit("/", 1)[1]
    api = app.test_client()
    answer = api.post("/api/v1/devices/pair", json={"secret": secret})
    assert answer.status_code == 201, answer.get_json()
    doc = api.get("/api/v1/openapi.json").get_json()
    assert_documented(doc, "post", "/devices/pair", answer)
    assert_documented(doc, "post", "/devices/pair",
                      api.post("/api/v1/devices/pair", json={"secret": "nope"}))
    body = answer.get_json()
    assert body["event_id"] == tour.event_id and body["device"] == "西门扫码枪"
    token = bearer(body["token"])
    assert api.post("/api/v1/devices/pair", json={"secret": secret}).status_code == 410
    assert api.post("/api/v1/devices/pair", json={"secret": 5}).status_code == 422
    assert api.post("/api/v1/devices/pair", data="[").status_code == 422
    figures = f"/api/v1/events/{tour.event_id}/attendance"
    assert api.get(figures, headers=token).status_code == 200
    assert api.get(f"/api/v1/events/{tour.event_id}/staff", headers=token).status_code == 403
    page = client.get(team_url(tour)).get_data(as_text=True)
    with app.app_context():
        device_id = db.session.scalar(select(DoorDevice.id))
    revoked = client.post(f"{team_url(tour)}/devices/{device_id}/revoke",
                          data={"csrf_token": csrf_from(page)})
    assert revoked.status_code == 303
    assert api.get(figures, headers=token).status_code in (401, 403)
    assert client.get(team_url(tour)).get_data(as_text=True).count("西门扫码枪") == 1  # the notice
    assert "西门扫码枪" not in client.get(team_url(tour)).get_data(as_text=True)


def test_a_pairing_qr_expires_and_can_be_shown_again(app, client, tour, boss):
    pairing = pair_device(app, client, tour)
    later = utcnow() + timedelta(minutes=16)
    with mock.patch("qmevents.services.devices.utcnow", lambda: later):
        assert app.test_client().get(pairing).status_code == 410
    with app.app_context():
        device_id = db.session.scalar(select(DoorDevice.id))
    page = client.get(team_url(tour)).get_data(as_text=True)
    renewed = client.post(f"{team_url(tour)}/devices/{device_id}/pairing",
                          data={"csrf_token": csrf_from(page)})
    fresh = path_of(PAIR_RE.search(renewed.get_data(as_text=True)).group(1))
    assert fresh != pairing
    assert app.test_client().get(pairing).status_code == 410  # the old QR is dead
    assert app.test_client().get(fresh).status_code == 200


def test_two_phones_scanning_one_pairing_qr_pair_one(app, client, tour, boss):
    pairing = pair_device(app, client, tour)
    secret = pairing.rsplit("/", 1)[1]
    with app.test_request_context():
        first = devices.pair(secret)
        db.session.commit()
        second = devices.pair(secret)
    assert first is not None and second is None


# --- the API ----------------------------------------------------------------------------------


def test_the_api_lists_adds_invites_and_removes_door_staff(app, client, factory, tour):
    _id, email = factory.user("organiser", org=BUREAU)
    token = bearer(token_for(client, email))
    url = f"/api/v1/events/{tour.event_id}/staff"
    doc = client.get("/api/v1/openapi.json").get_json()
    listed = client.get(url, headers=token)
    assert_documented(doc, "get", "/events/{event_id}/staff", listed)
    assert [s["email"] for s in listed.get_json()["items"]] == [tour.staff_email]
    _id, helper = factory.user("staff", org=BUREAU)
    assert client.post(url, json={"email": helper}, headers=token).status_code == 201
    invited = client.post(url, json={"email": "new@example.cn", "invite": True}, headers=token)
    assert invited.status_code == 201
    assert_documented(doc, "post", "/events/{event_id}/staff", invited)
    assert "/signin/" in invited.get_json()["sign_in_url"]
    assert client.post(url, json={"email": "nobody@example.cn"}, headers=token).status_code == 404
    assert client.post(url, json={"email": 7}, headers=token).status_code == 422
    assert client.post(url, json={"email": helper, "invite": "yes"},
                       headers=token).status_code == 422
    listed = {s["email"]: s["id"] for s in client.get(url, headers=token).get_json()["items"]}
    assert set(listed) == {tour.staff_email, helper, "new@example.cn"}
    removed = client.delete(f"{url}/{listed[helper]}", headers=token)
    assert_documented(doc, "delete", "/events/{event_id}/staff/{user_id}", removed)
    assert client.delete(f"{url}/{listed[helper]}", headers=token).status_code == 404
    assert client.delete(f"{url}/{2**40}", headers=token).status_code == 404

    _id, stranger = factory.user("organiser", org="嘉定区市场监督管理局", district="嘉定区")
    assert client.get(url, headers=bearer(token_for(client, stranger))).status_code == 404
    assert client.get(url, headers=bearer(token_for(client, tour.staff_email))).status_code == 403
    assert client.get(url).status_code == 401


# --- the organisation's members ---------------------------------------------------------------


def test_a_colleague_is_invited_signs_in_by_link_and_chooses_a_password(app, client, boss):
    members = "/organiser/organisation/members"
    answer = submit(client, members, {"email": "colleague@example.cn"})
    assert answer.status_code == 200
    link = path_of(LINK_RE.search(answer.get_data(as_text=True)).group(1))
    colleague = app.test_client()
    opened = colleague.get(link).get_data(as_text=True)
    signed_in = colleague.post(link, data={"csrf_token": csrf_from(opened)})
    assert signed_in.headers["Location"].endswith("/account/password")
    form = colleague.get("/account/password").get_data(as_text=True)
    assert "current_password" not in form
    chose = colleague.post("/account/password", data={
        "csrf_token": csrf_from(form), "password": "江南可采莲莲叶何田田鱼戏莲叶间", "password_again": "江南可采莲莲叶何田田鱼戏莲叶间"})
    assert chose.status_code == 303
    fresh = app.test_client()
    login(fresh, "colleague@example.cn", "江南可采莲莲叶何田田鱼戏莲叶间")
    assert fresh.get("/organiser/").status_code == 200
    assert "colleague@example.cn" in client.get(members).get_data(as_text=True)


def test_members_are_removed_but_never_the_last_organiser(app, client, factory, boss):
    members = "/organiser/organisation/members"
    _id, colleague = factory.user("organiser", org=BUREAU)
    _id, stranger = factory.user("organiser", org="嘉定区市场监督管理局", district="嘉定区")
    with app.app_context():
        ids = dict(db.session.execute(select(User.email, User.id)).all())
    page = client.get(members).get_data(as_text=True)
    token = csrf_from(page)
    assert client.post(f"{members}/{ids[stranger]}/remove",
                       data={"csrf_token": token}).status_code == 404
    assert client.post(f"{members}/{ids[colleague]}/remove",
                       data={"csrf_token": token}).status_code == 303
    refused = client.post(f"{members}/{ids[boss]}/remove", data={"csrf_token": token})
    assert refused.status_code == 409
    with app.app_context():
        assert db.session.get(User, ids[boss]).active
        assert not db.session.get(User, ids[colleague]).active
        with pytest.raises(ValidationFailed):
            invitations.remove_member(db.session.get(User, ids[boss]), ids[boss])


def test_staff_and_admins_have_no_members_page(app, factory, tour):
    staff = app.test_client()
    login(staff, tour.staff_email)
    assert staff.get("/organiser/organisation/members").status_code == 403


def test_a_sign_in_link_sent_by_a_real_provider_is_not_kept_in_the_outbox(app, client, tour,
                                                                         boss, sms_provider):  # noqa: F811
    """Admins read the outbox: once a real provider has the text, the stored copy no longer
    signs anyone in."""
    app.config.update(NOTIFY_BACKEND="sms", SMS_API_URL=sms_provider.url, SMS_API_KEY="k",
                      NOTIFY_IN_BACKGROUND=False)
    answer = submit(client, team_url(tour) + "/staff",
                    {"email": "v2@example.cn", "phone": "13912345678"}, page=team_url(tour))
    link = LINK_RE.search(answer.get_data(as_text=True)).group(1)
    assert link in sms_provider.received[0][1]["text"]
    with app.app_context():
        stored = db.session.scalar(select(Notification.body).filter_by(channel="sms"))
    token = link.rsplit("/", 1)[1]
    assert token not in stored and f"/signin/{token[:4]}…" in stored


def test_no_sign_in_link_for_another_organisations_account(app, client, factory, tour, boss):
    """A link signs in as its account: an organiser may add another organisation's volunteer,
    never take a link for them (page or API), nor for an organiser or an admin."""
    _id, outsider = factory.user("staff", org="嘉定区市场监督管理局", district="嘉定区")
    _id, organiser = factory.user("organiser", org="嘉定区市场监督管理局", district="嘉定区")
    _id, admin = factory.user("admin")
    for email in (outsider, organiser, admin):
        answer = submit(client, team_url(tour) + "/staff", {"email": email, "send_link": "1"},
                        page=team_url(tour))
        assert answer.status_code == 400 and "/signin/" not in answer.get_data(as_text=True)
    assert submit(client, team_url(tour) + "/staff", {"email": outsider},
                  page=team_url(tour)).status_code == 303  # added, without a link
    page = client.get(team_url(tour)).get_data(as_text=True)
    with app.app_context():
        outsider_id = db.session.scalar(select(User.id).filter_by(email=outsider))
        assert db.session.scalar(select(SignInLink.id)) is None
    assert f"/staff/{outsider_id}/link" not in page
    refused = client.post(f"{team_url(tour)}/staff/{outsider_id}/link",
                          data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 409 and "/signin/" not in refused.get_data(as_text=True)
    _id, email = factory.user("organiser", org=BUREAU)
    token = bearer(token_for(client, email))
    api = client.post(f"/api/v1/events/{tour.event_id}/staff",
                      json={"email": outsider, "invite": True}, headers=token)
    assert api.status_code == 422 and "sign_in_url" not in api.get_json()
    with app.app_context():
        assert db.session.scalar(select(SignInLink.id)) is None


def test_a_link_for_an_account_in_use_goes_to_its_own_address_only(app, client, factory, tour,
                                                                   boss):
    """A volunteer with a password of their own: a new link is e-mailed to them, never shown to
    the organiser nor texted to a number the organiser types; older links die with it, and with
    a new password."""
    _id, email = factory.user("staff", org=BUREAU)
    answer = submit(client, team_url(tour) + "/staff",
                    {"email": email, "send_link": "1", "phone": "13912345678"},
                    page=team_url(tour))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "/signin/" not in html and email in html
    with app.app_context():
        sent = list(db.session.scalars(select(Notification).filter_by(kind="staff_invitation")))
        assert [(n.channel, n.recipient) for n in sent] == [("email", email)]
    first_path = re.search(r"/signin/[A-Za-z0-9_-]+", sent[0].body).group(0)
    assert app.test_client().get(first_path).status_code == 200
    submit(client, team_url(tour) + "/staff", {"email": email, "send_link": "1"},
           page=team_url(tour))
    assert app.test_client().get(first_path).status_code == 410  # only the newest works


def test_a_paired_device_is_never_staff_elsewhere(app, client, factory, tour, boss):
    pairing = pair_device(app, client, tour)
    with app.test_request_context():
        device = devices.pair(pairing.rsplit("/", 1)[1])
        db.session.commit()
        device_email = device.user.email
    other = factory.event(BUREAU, title="另一场开放日")
    other_team = f"/organiser/events/{other}/team"
    for data in ({"email": device_email}, {"email": device_email, "send_link": "1"}):
        answer = submit(client, other_team + "/staff", data, page=other_team)
        assert answer.status_code == 400 and "/signin/" not in answer.get_data(as_text=True)


def test_invitations_have_a_daily_budget(app, client, tour, boss):
    app.config.update(INVITATIONS_PER_DAY=4, INVITATION_TEXTS_PER_PHONE=2)
    for n in range(2):
        assert submit(client, team_url(tour) + "/staff",
                      {"email": f"v{n}@example.cn", "phone": "13912345678"},
                      page=team_url(tour)).status_code == 200
    refused = submit(client, team_url(tour) + "/staff",
                     {"email": "v3@example.cn", "phone": "13912345678"}, page=team_url(tour))
    assert refused.status_code == 400  # a third text to that number
    for n in (4, 5):
        assert submit(client, team_url(tour) + "/staff", {"email": f"v{n}@example.cn"},
                      page=team_url(tour)).status_code == 200
    assert submit(client, team_url(tour) + "/staff", {"email": "v6@example.cn"},
                  page=team_url(tour)).status_code == 400  # the organisation's fifth link
    with app.app_context():
        texts = db.session.scalars(select(Notification.body).filter_by(
            kind="staff_invitation", channel="sms")).all()
        assert len(texts) == 2
        assert all("探寻之旅" not in t for t in texts)  # no organiser-typed title to a stranger


def test_the_pairing_secret_and_sign_in_links_never_reach_the_log(app, client, tour, boss,
                                                                  caplog):
    from qmevents.requestlog import redact_text

    pairing = pair_device(app, client, tour)
    secret = pairing.rsplit("/", 1)[1]
    with caplog.at_level("INFO"):
        app.test_client().get(pairing)
    assert secret not in caplog.text
    assert secret not in redact_text(f"Exception on {pairing} [GET]")
    assert "abcdEFGH1234" not in redact_text("GET /signin/abcdEFGH1234_x-y HTTP/1.1")
