"""Property-based (hypothesis) attacks on one number and on the masks, through the public surface.

- The phone field: a mobile number typed in any mix of the digit scripts Unicode has (every Nd
  block), with the separators and prefixes people type, or something that is not a number.
  Whatever comes in, the answer is 201, 409 or 422 (never a 5xx), a stored phone is the ASCII
  number, and one number never holds two active registrations for a session.
- The search endpoints (the door's and the back office's): probed with every run of digits an
  attacker would try against a masked 138****5678. Only the last four digits or the whole
  number find the phone; every other probe finds nothing, so nothing is learnt from it.

Bounded for CI like tests/test_fuzz_forms.py: derandomized, a few dozen examples each.
"""
from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from qmevents.extensions import db
from qmevents.models import HOLDS_PLACES, EventSession, Registration

from .conftest import login
from .test_api import bearer, token_for
from .test_fuzz_forms import EXAMPLES, ODD_TEXT

FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck), print_blob=True)

ZEROS = [chr(c) for c in range(sys.maxunicode + 1)
         if unicodedata.category(chr(c)) == "Nd" and unicodedata.decimal(chr(c)) == 0]
PHONE = "13812345678"


def typed_number(number: str) -> st.SearchStrategy[str]:
    """`number` as people and scripts type it: each digit in any script, separators between,
    an optional +86 / 0086 in front."""
    digit = st.sampled_from(ZEROS)
    return st.builds(
        lambda zeros, seps, prefix: prefix + "".join(
            chr(ord(z) + int(d)) + s for d, z, s in zip(number, zeros, seps, strict=True)),
        st.lists(digit, min_size=len(number), max_size=len(number)),
        st.lists(st.sampled_from(["", "", "", " ", "-", "\u3000"]), min_size=len(number),
                 max_size=len(number)),
        st.sampled_from(["", "", "+86", "0086", "+86 ", "８６"]))


NUMBERS = ["13812345678", "13900001111", "15000000000"]
ANY_PHONE = st.one_of(st.sampled_from(NUMBERS).flatmap(typed_number),
                      st.sampled_from(ODD_TEXT), st.text(max_size=20),
                      st.text(st.sampled_from("0123456789" + "".join(ZEROS) + "²³¹①⑴"),
                              max_size=14))


@pytest.fixture
def open_day(app, factory) -> tuple[int, int]:
    event_id = factory.event(max_party_size=2)
    with app.app_context():
        return event_id, db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))


@given(phones=st.lists(ANY_PHONE, min_size=1, max_size=6))
@FUZZ
def test_the_phone_field_in_every_digit_script(app, open_day, phones):
    event_id, session_id = open_day
    client = app.test_client()
    for phone in phones:
        response = client.post(f"/api/v1/events/{event_id}/registrations", json={
            "session_id": session_id, "name": "王芳", "phone": phone, "party_size": 1})
        assert response.status_code in (201, 409, 422), (phone, response.status_code)
    with app.app_context():
        stored = db.session.execute(select(Registration.phone, func.count()).where(
            Registration.status.in_(HOLDS_PLACES)).group_by(Registration.phone)).all()
        assert all(phone.isascii() and phone.isdigit() and len(phone) == 11 and n == 1
                   for phone, n in stored), stored
        assert {phone for phone, _n in stored} <= set(NUMBERS)
        taken = db.session.get(EventSession, session_id).places_taken
        assert taken == len(stored)
        db.session.execute(Registration.__table__.delete())
        db.session.get(EventSession, session_id).places_taken = 0
        db.session.commit()


DIGIT_RUNS = st.text(st.sampled_from("0123456789"), min_size=1, max_size=11)


@pytest.fixture
def found_by(app, factory, open_day) -> tuple[int, object, dict]:
    """欧阳娜娜 (13812345678) registered; an organiser of the event signed in, and its token."""
    event_id, session_id = open_day
    with app.app_context():
        from qmevents.services.registrations import register as reg

        reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="欧阳娜娜", phone=PHONE,
            party_size=1, consent=True))
    _id, email = factory.user("organiser", org="杨浦区市场监督管理局")
    organiser = app.test_client()
    login(organiser, email)
    return event_id, organiser, bearer(token_for(app.test_client(), email))


@given(probe=st.one_of(DIGIT_RUNS, st.sampled_from(ZEROS).flatmap(
    lambda z: DIGIT_RUNS.map(lambda d: "".join(chr(ord(z) + int(c)) for c in d)))))
@FUZZ
def test_the_search_endpoints_reveal_no_more_than_the_mask(found_by, probe):
    """Whatever run of digits is searched, the family is found only by the last four digits or
    the whole number: the answer to a probe says nothing the mask 138****5678 does not."""
    event_id, organiser, token = found_by
    ascii_probe = "".join(str(unicodedata.decimal(c)) for c in probe)
    expected = ascii_probe in ("5678", PHONE)
    door = organiser.get(f"/api/v1/events/{event_id}/search", query_string={"q": probe},
                         headers=token)
    assert door.status_code == 200
    assert bool(door.get_json()["tickets"]) is expected, probe
    page = organiser.get(f"/organiser/events/{event_id}/registrants",
                         query_string={"search": probe}).get_data(as_text=True)
    assert ("欧阳娜娜" in page) is expected, probe
