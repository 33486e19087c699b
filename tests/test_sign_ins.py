"""A sign-in ends when it ends: signing out, a new password or a switched-off account end it on the
server, so a copy of the browser's cookie (a shared computer, a stolen phone) no longer signs
anyone in. Door staff share one account across phones: one phone signing out leaves the others."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

from flask_login.utils import encode_cookie

from qmevents.extensions import db
from qmevents.models import SignIn
from qmevents.services import signins
from qmevents.timeutil import utcnow

from .conftest import PASSWORD, login, submit

BACK_OFFICE = "/organiser/"


def copy_of_cookie(app, client):
    """Another browser holding a copy of this one's session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def sign_out(client):
    response = submit(client, "/logout", {}, page=BACK_OFFICE)
    assert response.status_code == 302
    return response


def test_a_copied_cookie_works_until_sign_out_and_is_refused_after(app, client, factory):
    _, email = factory.user("organiser")
    login(client, email)
    copy = copy_of_cookie(app, client)
    assert copy.get(BACK_OFFICE).status_code == 200  # the copy is as good as the original…

    sign_out(client)
    replayed = copy.get(BACK_OFFICE + "?lang=en")
    assert replayed.status_code == 401  # …until the sign-in ends: the sign-in form
    assert 'action="/login"' in replayed.get_data(as_text=True)


def test_signing_out_on_one_phone_leaves_the_accounts_other_phones_signed_in(app, factory):
    _, email = factory.user("staff")
    first, second = app.test_client(), app.test_client()
    login(first, email)
    login(second, email)
    sign_out(first)
    assert first.get(BACK_OFFICE).status_code == 401
    assert second.get(BACK_OFFICE).status_code == 200


def test_the_cookie_carries_a_token_not_the_users_id(app, client, factory):
    user_id, email = factory.user("organiser")
    login(client, email)
    with client.session_transaction() as session:
        token = session["_user_id"]
    assert token != str(user_id) and len(token) >= 40
    with app.app_context():
        row = db.session.scalar(db.select(SignIn))
        assert row.user_id == user_id and row.phone is None and token not in row.token_hash


def test_an_expired_sign_in_is_refused(app, client, factory, monkeypatch):
    _, email = factory.user("staff")
    login(client, email)
    hours = app.config["SIGN_IN_HOURS"]
    monkeypatch.setattr(signins, "utcnow", lambda: utcnow() + timedelta(hours=hours, minutes=1))
    assert client.get(BACK_OFFICE).status_code == 401


def test_a_sign_in_lasts_a_long_day_at_the_door(app, client, factory, monkeypatch):
    _, email = factory.user("staff")
    login(client, email)
    assert app.config["SIGN_IN_HOURS"] >= 12
    monkeypatch.setattr(signins, "utcnow", lambda: utcnow() + timedelta(hours=11, minutes=59))
    assert client.get(BACK_OFFICE).status_code == 200


def test_changing_the_password_signs_out_the_other_browsers_and_keeps_this_one(app, factory):
    _, email = factory.user("organiser")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, email)
    login(elsewhere, email)
    old_cookie_here = copy_of_cookie(app, here)

    response = submit(here, "/account/password?lang=en", {
        "current_password": PASSWORD, "password": "tea garden river stone",
        "password_again": "tea garden river stone"})
    assert response.status_code == 303

    landed = here.get(response.headers["Location"] + "?lang=en")
    assert landed.status_code == 200  # a fresh sign-in for this browser
    assert "Your password is changed" in landed.get_data(as_text=True)
    assert elsewhere.get(BACK_OFFICE).status_code == 401
    assert old_cookie_here.get(BACK_OFFICE).status_code == 401  # its former cookie too


def test_setting_a_password_from_the_command_line_ends_every_sign_in(app, runner, factory):
    _, email = factory.user("staff")
    client = app.test_client()
    login(client, email)
    result = runner.invoke(args=["set-password", email], input="tea garden river stone\n")
    assert result.exit_code == 0, result.output
    assert client.get(BACK_OFFICE).status_code == 401
    login(client, email, "tea garden river stone")
    assert client.get(BACK_OFFICE).status_code == 200


def test_deactivating_a_user_signs_them_out_everywhere_at_once(app, runner, factory):
    _, email = factory.user("staff")
    phones = [app.test_client() for _ in range(2)]
    for phone in phones:
        login(phone, email)
    copy = copy_of_cookie(app, phones[0])

    result = runner.invoke(args=["deactivate-user", email])
    assert result.exit_code == 0, result.output
    assert [c.get(BACK_OFFICE).status_code for c in (*phones, copy)] == [401, 401, 401]
    refused = submit(app.test_client(), "/login?lang=en", {"email": email, "password": PASSWORD})
    assert refused.status_code == 400

    assert runner.invoke(args=["activate-user", email]).exit_code == 0
    assert phones[0].get(BACK_OFFICE).status_code == 401  # nothing that was open comes back
    login(phones[0], email)
    assert phones[0].get(BACK_OFFICE).status_code == 200


def test_deactivating_revokes_the_users_api_tokens(app, runner, client, factory):
    _, email = factory.user("organiser")
    token = client.post("/api/v1/token", json={"email": email, "password": PASSWORD}
                        ).get_json()["token"]
    runner.invoke(args=["deactivate-user", email])
    runner.invoke(args=["activate-user", email])
    mine = client.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 401


def test_an_unknown_user_is_named_as_such_by_the_commands(runner):
    for command in ("deactivate-user", "activate-user", "set-password"):
        result = runner.invoke(args=[command, "nobody@example.cn"], input="tea garden river stone\n")
        assert result.exit_code == 2
        assert "email:" in result.output


def test_a_remember_me_cookie_meets_the_same_check(app, client, factory):
    """No remember-me cookie is ever set; one made with the token of an ended sign-in (it would
    carry the same value as the session) signs nobody in."""
    _, email = factory.user("organiser")
    response = login(client, email)
    assert "remember_token" not in response.headers.get("Set-Cookie", "")
    with client.session_transaction() as session:
        token = session["_user_id"]
    sign_out(client)
    with app.test_request_context():
        remembered = encode_cookie(token)
    stranger = app.test_client()
    stranger.set_cookie("remember_token", remembered)
    assert stranger.get(BACK_OFFICE).status_code == 401


def test_the_log_names_the_user_of_a_live_sign_in_and_nobody_for_a_dead_copy(app, client, factory,
                                                                            caplog):
    user_id, email = factory.user("organiser")
    login(client, email)
    copy = copy_of_cookie(app, client)
    sign_out(client)
    caplog.set_level(logging.INFO, logger="qmevents.request")
    login(client, email)
    client.get(BACK_OFFICE)
    copy.get(BACK_OFFICE)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "qmevents.request"]
    assert lines[-2]["user_id"] == user_id
    assert lines[-1]["user_id"] is None and lines[-1]["status"] == 401


def test_changing_the_password_revokes_the_api_tokens_taken_with_the_old_one(app, client,
                                                                             factory):
    """Whoever learnt the old password may have taken a token: it dies with the password."""
    from .test_api import token_for

    _id, email = factory.user("organiser")
    stolen = token_for(app.test_client(), email)
    headers = {"Authorization": f"Bearer {stolen}"}
    assert client.get("/api/v1/events", headers=headers).status_code == 200
    login(client, email)
    changed = submit(client, "/account/password", {
        "current_password": PASSWORD, "password": "a quite new passphrase 2026",
        "password_again": "a quite new passphrase 2026"})
    assert changed.status_code in (302, 303), changed.get_data(as_text=True)[:300]
    assert app.test_client().get("/api/v1/events", headers=headers).status_code == 401
