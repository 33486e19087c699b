"""A password is at least 12 characters and not one people pick first, whichever way it is set:
`flask create-user`, `flask set-password` or the change-password page. The message says why."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import User
from qmevents.services import accounts

from .conftest import PASSWORD, login, submit

GOOD = "tea garden river stone"
WEAK = [
    "aaaaaaaaaaaa",  # one character repeated
    "short pass",  # fewer than 12
    "password2024!",  # a classic with digits stuck on
    "Pass Word 2024",  # case and spaces do not hide it
    "woaini1314520",  # a favourite of Chinese users
    "5201314woaini",
    "zhiliangyue2024",  # the campaign's name
    "qwertyuiop[]",  # a keyboard walk
    "1qaz2wsx3edc",  # down the keyboard's columns
    "123456789012",  # a sequence
    "abcdefghijkl",
    "abcabcabcabc",  # a short piece repeated
    "woainiwoaini",
]


def create_user(runner, email: str, password: str):
    return runner.invoke(args=["create-user", email, "--role", "admin"], input=password + "\n")


def test_twelve_as_repeated_is_refused_by_create_user(app, runner):
    result = create_user(runner, "admin@example.cn", "aaaaaaaaaaaa")
    assert result.exit_code == 2
    assert "password:" in result.output
    with app.app_context():
        assert db.session.scalar(select(User.id)) is None


@pytest.mark.parametrize("password", WEAK)
def test_a_weak_password_is_refused(app, runner, password):
    result = create_user(runner, "admin@example.cn", password)
    assert result.exit_code == 2, password
    assert "password:" in result.output


@pytest.mark.parametrize("password", [GOOD, PASSWORD, "k47382910563", "2024-0601-river",
                                      "十二个汉字也是一个可以用的密码"])
def test_a_reasonable_password_is_taken(app, runner, password):
    result = create_user(runner, "admin@example.cn", password)
    assert result.exit_code == 0, result.output


def test_the_name_of_the_email_address_is_refused(runner):
    result = create_user(runner, "zhangwei@example.cn", "Zhang Wei river 2024")
    assert result.exit_code == 2
    assert "password:" in result.output


def test_a_password_longer_than_the_sign_in_form_accepts_is_refused(runner):
    assert create_user(runner, "admin@example.cn", "river " * 40).exit_code == 2


def test_eleven_characters_were_enough_before_and_are_not_now(runner):
    result = create_user(runner, "admin@example.cn", "k4738291056")
    assert result.exit_code == 2
    assert "password:" in result.output


# --- flask set-password --------------------------------------------------------------------


def test_set_password_reads_stdin_and_refuses_a_weak_one(app, runner, factory):
    _, email = factory.user("staff")
    weak = runner.invoke(args=["set-password", email], input="aaaaaaaaaaaa\n")
    assert weak.exit_code == 2 and "password:" in weak.output
    with app.app_context():
        assert accounts.authenticate(email, PASSWORD) is not None  # unchanged

    done = runner.invoke(args=["set-password", email], input=GOOD + "\n")
    assert done.exit_code == 0, done.output
    with app.app_context():
        assert accounts.authenticate(email, GOOD) is not None


def test_set_password_takes_no_password_on_the_command_line(runner, factory):
    _, email = factory.user("staff")
    result = runner.invoke(args=["set-password", email, "--password", GOOD], input=GOOD + "\n")
    assert result.exit_code == 2
    assert "No such option" in result.output


# --- the change-password page --------------------------------------------------------------


def change(client, current: str, new: str, again: str | None = None, lang: str = "en"):
    return submit(client, f"/account/password?lang={lang}", {
        "current_password": current, "password": new,
        "password_again": new if again is None else again})


def test_the_page_is_linked_from_the_back_offices_header(client, organiser):
    html = client.get("/organiser/?lang=en").get_data(as_text=True)
    assert 'href="/account/password"' in html and "Change password" in html


def test_the_page_asks_for_signing_in_first(client):
    assert client.get("/account/password").status_code == 401


def test_the_page_needs_its_form_token(client, organiser):
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": GOOD, "password_again": GOOD})
    assert response.status_code == 400
    assert "This form has expired" in client.post("/account/password?lang=en").get_data(
        as_text=True)


def test_a_wrong_current_password_changes_nothing(app, client, factory):
    _, email = factory.user("organiser")
    login(client, email)
    response = change(client, "not my password at all", GOOD)
    assert response.status_code == 400
    assert "The current password is not right." in response.get_data(as_text=True)
    with app.app_context():
        assert accounts.authenticate(email, PASSWORD) is not None


def test_the_new_password_typed_twice_must_match(client, organiser):
    response = change(client, PASSWORD, GOOD, again=GOOD + "!")
    assert response.status_code == 400
    assert "The two new passwords are not the same." in response.get_data(as_text=True)


def test_a_weak_new_password_is_refused_with_the_reason(client, organiser):
    response = change(client, PASSWORD, "aaaaaaaaaaaa")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "too common or too easy to guess" in html


def test_the_new_password_signs_in_and_the_old_one_no_longer_does(app, client, factory):
    _, email = factory.user("organiser")
    login(client, email)
    assert change(client, PASSWORD, GOOD).status_code == 303
    other = app.test_client()
    refused = submit(other, "/login?lang=en", {"email": email, "password": PASSWORD})
    assert refused.status_code == 400
    login(other, email, GOOD)

