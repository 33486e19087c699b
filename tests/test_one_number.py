"""One number is one number: a mobile number typed in the digits of another script (Arabic-Indic,
Devanagari, full-width…) is the same ASCII number, so it cannot register twice, escape the
per-phone limits or hide from "my tickets"; and what `isdigit()` accepts but `int()` refuses, a
lone surrogate in JSON or a stray query argument gets a 4xx with a message, never a 500."""
from __future__ import annotations

import sys
import unicodedata

import pytest
from werkzeug.routing import Rule

from qmevents.extensions import db
from qmevents.models import EventSession, Registration
from qmevents.numbers import whole_number
from qmevents.services.identity import normalise_mobile

from .conftest import submit
from .test_find_tickets import ask_for_code, enter_code, texted_code
from .test_rate_limits import make_app  # noqa: F401 (the fixture)

PHONE = "13812345678"


def zeros() -> list[str]:
    """The digit zero of every script Unicode has decimal digits for (Nd: 60-odd of them)."""
    return [chr(c) for c in range(sys.maxunicode + 1)
            if unicodedata.category(chr(c)) == "Nd" and unicodedata.decimal(chr(c)) == 0]


def in_script(number: str, zero: str) -> str:
    return "".join(chr(ord(zero) + int(d)) for d in number)


ZEROS = zeros()


def test_there_are_many_scripts_of_digits():
    assert len(ZEROS) > 50 and "٠" in ZEROS and "०" in ZEROS and "０" in ZEROS


@pytest.mark.parametrize("zero", ZEROS, ids=lambda z: f"U+{ord(z):04X}")
def test_a_mobile_number_in_any_scripts_digits_is_the_same_ascii_number(zero):
    assert normalise_mobile(in_script(PHONE, zero)) == PHONE
    assert normalise_mobile("+86 " + in_script(PHONE, zero)) == PHONE


@pytest.mark.parametrize("typed", ["¹³⁸¹²³⁴⁵⁶⁷⁸", "①③⑧①②③④⑤⑥⑦⑧", "１３８１２３４５６７８"])
def test_compatibility_digits_are_read_as_the_digits_they_show(typed):
    assert normalise_mobile(typed) == PHONE


@pytest.mark.parametrize("typed", ["13812345678x", "1381234567", "138123456789", "٣٨١٢٣٤٥٦٧٨",
                                   "Ⅰ3812345678", "一三八一二三四五六七八", "\u00bd" * 11])
def test_what_is_not_a_mobile_number_stays_refused(typed):
    assert normalise_mobile(typed) is None


@pytest.mark.parametrize("typed, number", [("3", 3), (" ３ ", 3), ("٣", 3), ("²", 2), (7, 7)])
def test_whole_numbers_are_read_in_any_digits(typed, number):
    assert whole_number(typed) == number


@pytest.mark.parametrize("typed", ["", "-1", "1.5", "³²¹" * 5, "Ⅻ", "½", "1e3", True, None, [1]])
def test_what_int_would_refuse_is_no_number_and_no_exception(typed):
    assert whole_number(typed) is None


# --- through the public surface -------------------------------------------------------------


@pytest.fixture
def open_day(app, factory) -> tuple[int, int]:
    event_id = factory.event()
    with app.app_context():
        return event_id, db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))


def register(client, open_day, phone: str, **fields):
    event_id, session_id = open_day
    body = {"session_id": session_id, "name": "张伟", "phone": phone, "party_size": 2, **fields}
    return client.post(f"/api/v1/events/{event_id}/registrations?lang=en", json=body)


@pytest.mark.parametrize("zero", ["٠", "۰", "०", "০", "๐", "０", "𝟎"])
def test_the_same_phone_in_other_digits_cannot_register_twice(app, client, open_day, zero):
    assert register(client, open_day, PHONE).status_code == 201
    again = register(client, open_day, in_script(PHONE, zero))
    assert again.status_code == 409 and again.get_json()["error"] == "duplicate"
    with app.app_context():
        phones = db.session.scalars(db.select(Registration.phone)).all()
    assert phones == [PHONE]


def test_a_registration_typed_in_arabic_indic_digits_is_found_by_my_tickets(app, client,
                                                                             open_day):
    assert register(client, open_day, in_script(PHONE, "٠")).status_code == 201
    ask_for_code(client, PHONE)  # the citizen types the number the usual way this time
    assert enter_code(client, texted_code(app, PHONE)).status_code == 303
    page = client.get("/my-tickets/list?lang=en").get_data(as_text=True)
    assert "威派格智慧水务质量开放日" in page


def test_the_per_phone_limit_counts_one_phone_whatever_its_digits(make_app):  # noqa: F811
    client = make_app(OTP_RATE_LIMIT_PER_PHONE="2 per minute").test_client()
    statuses = [ask_for_code(client, typed).status_code
                for typed in (PHONE, in_script(PHONE, "٠"), in_script(PHONE, "०"))]
    assert statuses == [303, 303, 429]


# --- numbers that isdigit() takes and int() refuses; surrogates; stray arguments --------------


def test_a_superscript_party_size_on_the_form_is_a_message_not_a_crash(app, client, open_day):
    event_id, session_id = open_day
    url = f"/events/{event_id}/sessions/{session_id}/register?lang=en"
    response = submit(client, url, {"name": "张伟", "phone": PHONE, "party_size": "²²",
                                     "consent": "y"})
    assert response.status_code == 400
    assert "A party is 1 to 4 people" in response.get_data(as_text=True)


@pytest.mark.parametrize("party_size", ["¾", "Ⅲ", "٣٣٣٣٣٣٣٣٣٣٣٣٣", "2.0", "-2"])
def test_an_odd_party_size_in_the_api_is_422(client, open_day, party_size):
    response = register(client, open_day, PHONE, party_size=party_size)
    assert response.status_code == 422 and "party_size" in response.get_json()["errors"]


@pytest.mark.parametrize("field", ["name", "phone", "answers"])
def test_a_lone_surrogate_in_json_is_422_naming_the_field(app, client, open_day, field):
    event_id, session_id = open_day
    value = '{"1": "\\ud800"}' if field == "answers" else '"\\udfff\\u5f20"'
    body = (f'{{"session_id": {session_id}, "name": "张伟", "phone": "{PHONE}", '
            f'"party_size": 2, "{field}": {value}}}')
    response = client.post(f"/api/v1/events/{event_id}/registrations?lang=en", data=body,
                           content_type="application/json")
    assert response.status_code == 422
    assert any(key.startswith(field) for key in response.get_json()["errors"])
    assert "broken character" in str(response.get_json())
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Registration.id))) == 0


STRAY = {"endpoint": "x", "_external": "1", "_scheme": "javascript", "page": "²",
         "session_id": "٣", "status": "\ufffd", "q": "5678" * 30, "lang": "xx",
         "district": "²", "kind": "①", "date_from": "２０２５-99-99", "per_page": "-1",
         "select": "all", "fmt": "..", "event_id": "99999999999999999999", "x[]": "1"}


def _get_routes(app) -> list[Rule]:
    return [r for r in app.url_map.iter_rules()
            if "GET" in r.methods and r.endpoint != "static" and not r.arguments - {
                "event_id", "session_id", "code", "fmt", "admission_id", "registration_id"}]


def test_stray_query_arguments_never_give_a_server_error(app, client, factory, open_day):
    """Every page and API answer a GET, signed in as the city's admin (who may open every
    back-office page), with odd values in every query argument the app reads."""
    from .conftest import login

    _id, email = factory.user("admin", org=None)
    login(client, email)
    event_id, session_id = open_day
    factory.event(title="第二场活动")
    app.config.update(EVENTS_PER_PAGE=1, REGISTRANTS_PER_PAGE=1)  # every list has a pager
    code = register(client, open_day, "13900001111").get_json()["code"]
    register(client, open_day, "13900002222")
    args = {"event_id": event_id, "session_id": session_id, "code": code, "fmt": "csv",
            "admission_id": 1, "registration_id": 1}
    failures = []
    for rule in _get_routes(app):
        values = {k: v for k, v in args.items() if k in rule.arguments}
        try:
            path = rule.build(values)[1]
        except ValueError:  # a format the route does not have (a certificate: png or pdf)
            path = rule.build({**values, "fmt": "pdf"})[1]
        response = client.get(path, query_string=STRAY)
        response.close()  # a streamed export holds its context until it is read or closed
        if response.status_code >= 500:
            failures.append(f"{path}: {response.status_code}")
    assert not failures, failures
