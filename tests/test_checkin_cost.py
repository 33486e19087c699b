"""What one scan costs the database, through POST /api/v1/checkins: the statements a scan needs
and no more (issue 16). A fresh scan reads once and writes once (on SQLite the write is two
statements in one transaction), on one connection; a re-scan only reads: its door answers and
who let the party in come with that one read."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from qmevents.extensions import db
from qmevents.models import QuestionKind

from .conftest import login
from .test_api_checkins import CHECKINS, page_token, staff_token, tour  # noqa: F401 (fixtures)
from .test_checkin import Door
from .test_door_list import ID_NUMBER, add_question, answer


@contextmanager
def counted(app) -> Iterator[dict[str, int]]:
    """Statements sent and connections checked out of the pool while the block runs."""
    counts = {"statements": 0, "checkouts": 0}

    def statement(*_args):
        counts["statements"] += 1

    def checkout(*_args):
        counts["checkouts"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)


def scan(client, door: Door, headers: dict, code: str) -> dict:
    response = client.post(CHECKINS + "?lang=en", json={
        "code": code, "event_id": door.event_id, "session_id": door.morning}, headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_a_scan_reads_once_and_a_rescan_costs_no_more(app, client, tour, staff_token,  # noqa: F811
                                                      db_kind):
    id_card = add_question(app, tour.event_id, "身份证号码", QuestionKind.ID_CARD)
    add_question(app, tour.event_id, "随行儿童")  # shown at the door, not answered
    company = add_question(app, tour.event_id, "工作单位")
    code = tour.ticket(party=2)
    answer(app, code, id_card, ID_NUMBER)
    answer(app, code, company, "上海电气")
    scan(client, tour, staff_token, tour.ticket())  # the device's token, known from now on
    shown = [{"label": "身份证号码", "value": "…002X"}, {"label": "工作单位", "value": "上海电气"}]

    with counted(app) as fresh:
        first = scan(client, tour, staff_token, code)
    assert first["result"] == "admitted"
    assert first["admitted_people"] == 2
    assert first["ticket"]["door_answers"] == shown

    with counted(app) as again:
        second = scan(client, tour, staff_token, code)
    assert second["result"] == "already_admitted"
    assert second["previous"]["checkpoint"] == "入口"
    assert second["previous"]["by"] == tour.staff_email
    assert second["ticket"]["door_answers"] == shown

    writes = 1 if db_kind == "postgresql" else 2  # SQLite: the UPDATE, then the admission
    assert fresh == {"statements": 1 + writes, "checkouts": 1}
    assert again == {"statements": 1, "checkouts": 1}


@pytest.mark.parametrize("way_in", ["device token", "signed-in phone"])
def test_a_scan_with_its_scan_id_shares_one_connection(
        app, client, tour, staff_token, db_kind, way_in):  # noqa: F811
    """A scan with a scan_id (made once, services/door/sync.py), as the door page sends every
    scan: the permission check, the claim, the scan and its stored answer share one connection.
    A phone signed in with its session cookie (the door page) takes a second one, for loading
    its user (Flask-Login, through the session, held until the request ends)."""
    if way_in == "device token":
        headers = staff_token
    else:
        login(client, tour.staff_email)
        headers = {"X-CSRFToken": page_token(client)}
    code = tour.ticket(party=2)
    scan(client, tour, headers, tour.ticket())  # the device's token, known from now on
    body = {"code": code, "event_id": tour.event_id, "session_id": tour.morning,
            "scan_id": "door-1"}

    with counted(app) as fresh:
        first = client.post(CHECKINS, json=body, headers=headers).get_json()
    assert (first["result"], first["repeated"], first["admitted_people"]) == ("admitted", False, 2)
    writes = 1 if db_kind == "postgresql" else 2
    loading_the_user = 0 if way_in == "device token" else 1
    # the door's check, the claim, the ticket's read, the admission, the answer stored
    assert fresh == {"statements": 4 + writes + loading_the_user,
                     "checkouts": 1 + loading_the_user}

    again = client.post(CHECKINS, json=body, headers=headers).get_json()
    assert (again["result"], again["repeated"]) == ("admitted", True)
    assert again["admission_id"] == first["admission_id"]
    assert tour.admitted(code) == 2


def test_a_scan_refused_as_invalid_keeps_nothing_and_may_be_sent_again(
        client, tour, staff_token):  # noqa: F811
    code = tour.ticket(party=2)
    body = {"code": code, "event_id": tour.event_id, "session_id": tour.morning,
            "scan_id": "door-2", "people": 3}
    refused = client.post(CHECKINS, json=body, headers=staff_token)
    assert refused.status_code == 422 and "people" in refused.get_json()["errors"]
    assert tour.admitted(code) == 0
    corrected = client.post(CHECKINS, json={**body, "people": 1}, headers=staff_token).get_json()
    assert (corrected["result"], corrected["repeated"], corrected["admitted_people"]) == (
        "admitted", False, 1)
    assert tour.admitted(code) == 1
