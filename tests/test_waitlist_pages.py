"""The ticket page says plainly how places are given and where the party stands: confirmed with
its QR, waiting no. N, a place offered to confirm (with a button), applied, not selected,
declined or cancelled."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from qmevents.extensions import db
from qmevents.models import Registration, RegistrationStatus
from qmevents.timeutil import utcnow

from .conftest import submit
from .test_waitlist import OpenDay, open_day, past_deadline


@pytest.fixture
def en(client):
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def day(app, factory) -> OpenDay:
    return open_day(app, factory, capacity=4)


def offered(app, day: OpenDay) -> str:
    """A party on the waiting list, offered the place a cancellation freed."""
    app.config["WAITLIST_OFFER_HOURS"] = 24
    holder = day.join(4)
    waiting = day.join(3)
    day.cancel(holder)
    return waiting


def set_status(app, code: str, status: RegistrationStatus) -> None:
    with app.app_context():
        db.session.execute(update(Registration).filter_by(code=code).values(status=status))
        db.session.commit()


def test_a_waiting_party_sees_its_number_on_the_waiting_list_and_the_mode(en, day):
    day.join(4)
    day.join(2)
    code = day.join(1)
    page = en.get(f"/t/{code}").get_data(as_text=True)
    assert "You are no. 2 on the waiting list." in page
    assert "First come, with a waiting list" in page
    assert '<img class="qr"' not in page


def test_an_offered_place_asks_to_confirm_by_its_deadline_without_a_qr_yet(app, en, day):
    code = offered(app, day)
    page = en.get(f"/t/{code}").get_data(as_text=True)
    assert "A place is free for you: confirm by" in page
    assert f'action="/t/{code}/confirm"' in page
    assert '<img class="qr"' not in page
    assert en.get(f"/t/{code}/qr.png").status_code == 404


def test_confirming_the_offer_shows_the_ticket_with_its_qr(app, en, day):
    code = offered(app, day)
    response = submit(en, f"/t/{code}/confirm", {}, page=f"/t/{code}")
    assert response.status_code == 303
    page = en.get(f"/t/{code}").get_data(as_text=True)
    assert "Your place is confirmed." in page and '<img class="qr"' in page
    assert day.status(code) == RegistrationStatus.CONFIRMED


def test_confirming_without_the_forms_token_confirms_nothing(app, en, day):
    code = offered(app, day)
    assert en.post(f"/t/{code}/confirm").status_code == 400
    assert day.status(code) == RegistrationStatus.OFFERED


def test_confirming_too_late_says_so_and_the_ticket_explains_why_it_is_cancelled(app, en, day):
    code = offered(app, day)
    past_deadline(app, code)
    submit(en, f"/t/{code}/confirm", {}, page=f"/t/{code}")
    page = en.get(f"/t/{code}").get_data(as_text=True)
    assert "The time to confirm this place has passed" in page
    assert "was not confirmed in time" in page


def test_confirming_a_wrong_code_is_the_friendly_404(app, en, day):
    code = offered(app, day)
    response = submit(en, "/t/0000000000000000000A/confirm", {}, page=f"/t/{code}")
    assert response.status_code == 404
    assert "No ticket has this code." in response.get_data(as_text=True)


def test_a_lottery_application_says_when_the_draw_is(app, en, factory):
    lottery_day = open_day(app, factory, capacity=4, mode="lottery")
    page = en.get(f"/t/{lottery_day.join(2)}").get_data(as_text=True)
    assert "Places are given by lottery." in page
    assert "The draw is held when registration closes, on" in page
    assert "By lottery" in page


def test_an_application_for_approval_is_being_considered(app, en, factory):
    approval_day = open_day(app, factory, capacity=4, mode="approval")
    page = en.get(f"/t/{approval_day.join(2)}").get_data(as_text=True)
    assert "Your application is being considered." in page
    assert "By application and approval" in page


@pytest.mark.parametrize("status, says", [
    (RegistrationStatus.NOT_SELECTED, "You were not drawn in the lottery this time."),
    (RegistrationStatus.DECLINED, "Your application could not be accepted this time."),
])
def test_a_party_without_a_place_is_told_politely(app, en, factory, status, says):
    approval_day = open_day(app, factory, capacity=4, mode="approval")
    code = approval_day.join(2)
    set_status(app, code, status)
    page = en.get(f"/t/{code}").get_data(as_text=True)
    assert says in page and "Thank you" in page


def test_a_confirmed_first_come_ticket_names_its_mode_and_shows_the_qr(app, en, factory):
    fcfs_day = open_day(app, factory, capacity=4, mode="fcfs")
    page = en.get(f"/t/{fcfs_day.join(2)}").get_data(as_text=True)
    assert "First come, first served" in page and '<img class="qr"' in page


def test_a_cancelled_offer_that_was_declined_in_time_is_simply_cancelled(app, en, day):
    code = offered(app, day)
    day.cancel(code)
    with app.app_context():
        deadline = db.session.query(Registration.offer_expires_at).filter_by(code=code).scalar()
    assert deadline > utcnow() - timedelta(minutes=1)
    page = en.get(f"/t/{code}").get_data(as_text=True)
    assert "This registration is cancelled." in page
    assert "not confirmed in time" not in page
