"""Door devices that were offline send their queued scans (POST /api/v1/checkins/batch), and single
scans carry a scan_id: each scan is made once however often it arrives, and what a device decided
without the network but the server knows otherwise is a conflict the organiser's report shows.
Through the API (CSRF on), and against a real gunicorn: many threads racing with the same batch,
and the network cut in the middle of an upload."""
from __future__ import annotations

import http.client
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import (
    Admission,
    DoorDevice,
    DoorScan,
    Registration,
    RegistrationStatus,
    StaffAssignment,
    User,
    ensure_districts,
)
from qmevents.services import accounts
from qmevents.services.door import desk, sync
from qmevents.services.reporting import offline as offline_report
from qmevents.timeutil import to_local, utcnow

from .conftest import Factory, login
from .support.pgserver import free_port
from .support.server import Gunicorn, app_env
from .test_api import assert_documented, bearer, token_for
from .test_capacity_race import together
from .test_checkin import BUREAU, Door, make_door

BATCH = "/api/v1/checkins/batch"


# --- the arrangement: the tour's session runs now; two paired devices at the east gate -------


@pytest.fixture
def door(app, factory) -> Door:
    door = make_door(app, factory)
    door.on_the_day = False  # the real clock: tests call `opens` once the families registered
    return door


def opens(door: Door) -> None:
    """The day comes: the morning session began half an hour ago (registration is closed)."""
    door.starts_now(door.morning)


def paired_device(door: Door, name: str) -> tuple[int, str]:
    """A door device named as people know it ("东门 1 号机"): its account, assigned to the event."""
    user_id, email = door.factory.user("staff", org=BUREAU)
    with door.app.app_context():
        db.session.add(StaffAssignment(user_id=user_id, event_id=door.event_id))
        db.session.add(DoorDevice(event_id=door.event_id, name=name, user_id=user_id))
        db.session.commit()
    return user_id, email


@pytest.fixture
def devices(door, client) -> list[dict[str, str]]:
    """Two paired devices' bearer headers: 东门 1 号机 and 东门 2 号机."""
    return [bearer(token_for(client, paired_device(door, f"东门 {n} 号机")[1])) for n in (1, 2)]


@pytest.fixture
def doc(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def minutes_ago(minutes: float) -> str:
    return (utcnow() - timedelta(minutes=minutes)).isoformat()


def scan(door: Door, scan_id: str, code: str, minutes: float = 10, **extra) -> dict:
    return {"scan_id": scan_id, "code": code, "event_id": door.event_id,
            "session_id": door.morning, "scanned_at": minutes_ago(minutes), **extra}


def ticket_id(door: Door, code: str) -> int:
    with door.app.app_context():
        return db.session.scalar(select(Registration.id).filter_by(code=code))


def count(door: Door, model) -> int:
    with door.app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)
                                 .where(model.event_id == door.event_id))


def admissions(door: Door, code: str) -> list[Admission]:
    with door.app.app_context():
        rows = db.session.scalars(select(Admission).where(
            Admission.registration_id == ticket_id(door, code)).order_by(Admission.id)).all()
        db.session.expunge_all()
        return rows


# --- once, however often it arrives -------------------------------------------------------------


def test_the_same_batch_sent_twice_records_every_scan_once(client, door, devices, doc):
    codes = [door.ticket(party=p) for p in (1, 2, 3)]
    opens(door)
    body = {"scans": [scan(door, f"s{i}", code, minutes=20 - i) for i, code in enumerate(codes)]}
    first = client.post(BATCH, json=body, headers=devices[0])
    assert first.status_code == 200, first.get_json()
    assert_documented(doc, "post", "/checkins/batch", first)
    results = first.get_json()["results"]
    assert [r["scan_id"] for r in results] == ["s0", "s1", "s2"]
    assert {(r["status"], r["result"], r["conflict"]) for r in results} == {
        ("recorded", "admitted", None)}
    again = client.post(BATCH, json=body, headers=devices[0]).get_json()["results"]
    assert [r["status"] for r in again] == ["repeated"] * 3
    assert [r["answer"] for r in again] == [r["answer"] for r in results]
    assert [door.admitted(c) for c in codes] == [1, 2, 3]
    assert count(door, Admission) == 3 and count(door, DoorScan) == 3


def test_an_offline_scan_is_admitted_at_the_devices_time(client, door, devices):
    code = door.ticket(party=2)
    opens(door)
    sent = scan(door, "early", code, minutes=12)
    client.post(BATCH, json={"scans": [sent]}, headers=devices[0])
    [admission] = admissions(door, code)
    assert admission.offline
    assert admission.at == datetime.fromisoformat(sent["scanned_at"])


def test_a_single_scan_with_a_scan_id_is_made_once(client, door, devices, doc):
    code = door.ticket(party=2)
    opens(door)
    body = {"code": code, "event_id": door.event_id, "session_id": door.morning,
            "scan_id": "c0ffee"}
    first = client.post("/api/v1/checkins", json=body, headers=devices[0])
    assert first.status_code == 200
    assert_documented(doc, "post", "/checkins", first)
    assert (first.get_json()["result"], first.get_json()["repeated"]) == ("admitted", False)
    again = client.post("/api/v1/checkins", json=body, headers=devices[0])
    assert_documented(doc, "post", "/checkins", again)
    answer = again.get_json()
    assert (answer["result"], answer["repeated"]) == ("admitted", True)
    assert answer["admission_id"] == first.get_json()["admission_id"]
    assert door.admitted(code) == 2 and len(admissions(door, code)) == 1
    other_device = client.post("/api/v1/checkins", json=body, headers=devices[1]).get_json()
    assert (other_device["result"], other_device["repeated"]) == ("already_admitted", False)


def test_a_bad_scan_id_is_refused(client, door, devices):
    body = {"code": "ABCDEFGHJKMNPQRSTVWX", "event_id": door.event_id, "scan_id": "not valid!"}
    response = client.post("/api/v1/checkins", json=body, headers=devices[0])
    assert response.status_code == 422 and "scan_id" in response.get_json()["errors"]


# --- conflicts ----------------------------------------------------------------------------------


def test_a_family_let_in_by_two_devices_counts_once_and_the_earlier_stands(client, door,
                                                                          devices):
    code = door.ticket(party=3)
    opens(door)
    late = client.post(BATCH, json={"scans": [scan(door, "a1", code, minutes=5)]},
                       headers=devices[0]).get_json()["results"][0]
    assert (late["result"], late["conflict"]) == ("admitted", None)
    sent = scan(door, "b1", code, minutes=8)
    early = client.post(BATCH, json={"scans": [sent]}, headers=devices[1]).get_json()["results"][0]
    assert (early["status"], early["conflict"]) == ("recorded", "duplicate")
    assert early["answer"]["previous"]["by"] == "东门 1 号机"
    assert door.admitted(code) == 3  # counted once
    [standing] = admissions(door, code)
    with door.app.app_context():
        second = db.session.scalar(select(DoorDevice.user_id).filter_by(name="东门 2 号机"))
        first = db.session.scalar(select(DoorDevice.user_id).filter_by(name="东门 1 号机"))
        row = db.session.scalar(select(DoorScan).filter_by(scan_id="b1"))
        assert (row.conflict, row.by_id, row.other_by_id) == ("duplicate", second, first)
    assert standing.by_id == second  # the earlier scan stands: 2 号机's time and device
    assert standing.at == datetime.fromisoformat(sent["scanned_at"])
    assert door.figures().admitted_people == 3 and door.figures().inside_now == 3


def test_a_later_duplicate_leaves_the_first_standing(client, door, devices):
    code = door.ticket(party=2)
    opens(door)
    client.post(BATCH, json={"scans": [scan(door, "a1", code, minutes=9)]}, headers=devices[0])
    before = admissions(door, code)
    later = client.post(BATCH, json={"scans": [scan(door, "b1", code, minutes=4)]},
                        headers=devices[1]).get_json()["results"][0]
    assert later["conflict"] == "duplicate"
    assert [(a.id, a.at, a.by_id) for a in admissions(door, code)] == [
        (a.id, a.at, a.by_id) for a in before]
    assert door.admitted(code) == 2


def test_part_of_a_family_in_through_another_device_is_not_counted_twice(client, door,
                                                                         devices):
    code = door.ticket(party=4)
    opens(door)
    client.post(BATCH, json={"scans": [scan(door, "a1", code, minutes=6, people=3)]},
                headers=devices[0])
    result = client.post(BATCH, json={"scans": [scan(door, "b1", code, minutes=5, people=4)]},
                         headers=devices[1]).get_json()["results"][0]
    assert (result["status"], result["result"]) == ("recorded", "admitted")
    assert result["answer"]["admitted_people"] == 1
    assert door.admitted(code) == 4


def test_let_in_offline_after_the_cancellation_is_recorded_but_not_counted(client, door,
                                                                          devices):
    code = door.ticket(party=2)
    door.set_status(code, RegistrationStatus.CANCELLED)
    opens(door)
    result = client.post(BATCH, json={"scans": [scan(door, "x1", code)]},
                         headers=devices[0]).get_json()["results"][0]
    assert (result["status"], result["result"], result["conflict"]) == (
        "recorded", "cancelled", "after_cancellation")
    assert door.admitted(code) == 0
    [admission] = admissions(door, code)
    assert admission.offline and admission.people == 2
    assert door.figures().inside_now == 2  # they are in


def test_an_offline_scan_the_server_refuses_is_a_refused_conflict(client, door, devices):
    wrong_session = door.ticket(session=door.afternoon)
    opens(door)
    results = client.post(BATCH, json={"scans": [
        scan(door, "r1", "ABCDEFGHJKMNPQRSTVWX"), scan(door, "r2", wrong_session)]},
        headers=devices[0]).get_json()["results"]
    assert [(r["result"], r["conflict"]) for r in results] == [
        ("unknown", "refused"), ("wrong_session", "refused")]
    assert count(door, Admission) == 0


def test_an_online_scan_sent_late_is_no_conflict(client, door, devices):
    code = door.ticket(party=1)
    opens(door)
    door.scan(code, session=door.morning)
    result = client.post(BATCH, json={"scans": [scan(door, "o1", code, offline=False)]},
                         headers=devices[0]).get_json()["results"][0]
    assert (result["result"], result["conflict"]) == ("already_admitted", None)


def test_walk_ins_and_walk_outs_in_a_batch(client, door, devices):
    body = {"scans": [
        {"scan_id": "w1", "kind": "walk_in", "people": 3, "event_id": door.event_id,
         "session_id": door.morning, "scanned_at": minutes_ago(6)},
        {"scan_id": "w2", "kind": "walk_out", "people": 1, "event_id": door.event_id,
         "session_id": door.morning, "scanned_at": minutes_ago(2)}]}
    results = client.post(BATCH, json=body, headers=devices[0]).get_json()["results"]
    assert [r["result"] for r in results] == ["admitted", "exited"]
    figures = door.figures()
    assert (figures.walk_in_people, figures.inside_now) == (3, 2)
    again = client.post(BATCH, json=body, headers=devices[0]).get_json()["results"]
    assert [r["status"] for r in again] == ["repeated", "repeated"]
    assert door.figures().inside_now == 2


# --- what the batch refuses -------------------------------------------------------------------


def test_each_bad_item_is_invalid_and_the_others_go_through(client, door, devices, doc):
    good = door.ticket(party=1)
    spare = door.ticket()
    opens(door)
    body = {"scans": [
        scan(door, "ok1", good),
        {"code": good, "event_id": door.event_id, "scanned_at": minutes_ago(1)},  # no scan_id
        scan(door, "t1", good, scanned_at="yesterday-ish"),
        scan(door, "t2", good, scanned_at="2025-09-20T09:02:00"),  # no offset
        "not an object",
        scan(door, "e1", good, event_id=987654),
        scan(door, "p1", spare, people=0),
        {"scan_id": "k1", "kind": "dance", "event_id": door.event_id,
         "scanned_at": minutes_ago(1)},
    ]}
    response = client.post(BATCH + "?lang=en", json=body, headers=devices[0])
    assert response.status_code == 200
    assert_documented(doc, "post", "/checkins/batch", response)
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["recorded"] + ["invalid"] * 7
    assert [sorted(r["errors"]) for r in results[1:]] == [
        ["scan_id"], ["scanned_at"], ["scanned_at"], ["scan"], ["event_id"], ["people"],
        ["kind"]]
    assert results[5]["errors"]["event_id"] == "No such event."
    assert door.admitted(good) == 1 and count(door, DoorScan) == 1


def test_a_batch_of_more_than_100_or_no_list_is_422(client, door, devices, doc):
    many = {"scans": [scan(door, f"m{i}", "X") for i in range(101)]}
    response = client.post(BATCH, json=many, headers=devices[0])
    assert response.status_code == 422 and "scans" in response.get_json()["errors"]
    assert_documented(doc, "post", "/checkins/batch", response)
    for body in ({"scans": "all"}, [1, 2], {}):
        assert client.post(BATCH, json=body, headers=devices[0]).status_code == 422
    assert count(door, DoorScan) == 0


def test_the_batch_needs_a_door_user(client, door):
    assert client.post(BATCH, json={"scans": []}).status_code == 401


# --- the organiser's report ---------------------------------------------------------------------


def test_the_report_lists_offline_scans_and_says_what_happened(client, door, devices):
    code = door.ticket(party=2, name="李雷")
    cancelled = door.ticket(party=1, name="韩梅")
    door.set_status(cancelled, RegistrationStatus.CANCELLED)
    opens(door)
    second, first = scan(door, "a", code, minutes=5), scan(door, "b", code, minutes=8)
    client.post(BATCH, json={"scans": [second]}, headers=devices[1])
    client.post(BATCH, json={"scans": [first, scan(door, "c", cancelled, minutes=7)]},
                headers=devices[0])
    with door.app.app_context():
        summary = offline_report.offline_scans(door.event_id)
    assert (summary.offline, summary.duplicates, summary.after_cancellation) == (3, 1, 1)
    _user, email = door.factory.user("organiser")
    login(client, email)
    page = client.get(f"/organiser/events/{door.event_id}/report").get_data(as_text=True)
    # the times the devices sent, not "now" again: a minute may turn between the two
    early, late = (to_local(datetime.fromisoformat(s["scanned_at"])).strftime("%H:%M")
                   for s in (first, second))
    assert (f"两台设备都放行了同一家庭：东门 1 号机 {early}（有效）、东门 2 号机 {late}（重复）"
            in page)
    assert "取消后离线放行" in page
    english = client.get(f"/organiser/events/{door.event_id}/report?lang=en")
    assert "Let in offline after the cancellation" in english.get_data(as_text=True)
    export = client.get(f"/organiser/events/{door.event_id}/report.csv?lang=en")
    assert export.status_code == 200
    text = export.get_data().decode("utf-8-sig")
    assert "Offline scans,3" in text and "Offline scan conflicts,2" in text


def test_a_report_without_offline_scans_shows_no_such_card(client, door, devices):
    code = door.ticket(party=1)
    opens(door)
    client.post(BATCH, json={"scans": [scan(door, "on", code, offline=False)]},
                headers=devices[0])
    _user, email = door.factory.user("organiser")
    login(client, email)
    page = client.get(f"/organiser/events/{door.event_id}/report").get_data(as_text=True)
    assert 'id="offline-heading"' not in page


# --- a scan whose maker died, or is still at it ---------------------------------------------------


def pending_claim(door: Door, user_id: int, scan_id: str, age: timedelta) -> None:
    """A door_scan row claimed by a request that never answered (its worker killed)."""
    with door.app.app_context():
        db.session.add(DoorScan(event_id=door.event_id, by_id=user_id, scan_id=scan_id,
                                scanned_at=utcnow() - age, received_at=utcnow() - age,
                                offline=True, result=sync.PENDING, answer={}))
        db.session.commit()


def test_a_claim_left_by_a_dead_worker_is_taken_over(client, door, devices):
    code = door.ticket(party=2)
    opens(door)
    with door.app.app_context():
        user_id = db.session.scalar(select(DoorDevice.user_id).filter_by(name="东门 1 号机"))
    pending_claim(door, user_id, "dead1", sync.STALE_CLAIM + timedelta(seconds=5))
    result = client.post(BATCH, json={"scans": [scan(door, "dead1", code)]},
                         headers=devices[0]).get_json()["results"][0]
    assert (result["status"], result["result"]) == ("recorded", "admitted")
    assert door.admitted(code) == 2 and count(door, DoorScan) == 1


def test_a_scan_still_in_flight_is_answered_send_again(client, door, devices, monkeypatch):
    code = door.ticket(party=2)
    opens(door)
    monkeypatch.setattr(sync, "WAIT_SECONDS", 0.2)
    with door.app.app_context():
        user_id = db.session.scalar(select(DoorDevice.user_id).filter_by(name="东门 1 号机"))
    pending_claim(door, user_id, "busy1", timedelta(seconds=1))
    result = client.post(BATCH + "?lang=en", json={"scans": [scan(door, "busy1", code)]},
                         headers=devices[0]).get_json()["results"][0]
    assert result["status"] == "invalid" and "scan_id" in result["errors"]
    single = client.post("/api/v1/checkins", json={
        "code": code, "event_id": door.event_id, "scan_id": "busy1"}, headers=devices[0])
    assert single.status_code == 409 and single.get_json()["error"] == "scan_in_flight"
    assert door.admitted(code) == 0


# --- a real server: racing batches and a cut network ----------------------------------------------


@pytest.fixture
def gate(database_url, tmp_path, monkeypatch) -> Iterator[tuple[Door, Gunicorn, str]]:
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app: Flask = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                             "PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 64,
                             "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    door = make_door(app, Factory(app))
    door.on_the_day = False
    with app.app_context():
        token = accounts.issue_token(db.session.get(User, door.staff_id))[0]
    server = Gunicorn("wsgi:app", app_env(instance, database_url), workers=2, threads=4,
                      worker_class="gthread")
    server.start(ready_path="/api/v1/openapi.json")
    try:
        yield door, server, token
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


def post(port: int, token: str, body: dict, timeout: float = 60) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", BATCH, body=json.dumps(body),
                           headers={"Content-Type": "application/json",
                                    "Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def assert_each_once(door: Door, codes: list[str], parties: list[int]) -> None:
    assert [door.admitted(c) for c in codes] == parties
    assert count(door, Admission) == len(codes)
    assert count(door, DoorScan) == len(codes)


@pytest.mark.server
def test_the_same_batch_racing_from_many_threads_is_recorded_once(gate):
    """Eight threads send the same 20 scans at the same instant to a gunicorn of 2 workers × 4
    threads: each scan is recorded by exactly one of them, the others get its stored answer."""
    door, server, token = gate
    parties = [1 + i % 4 for i in range(20)]
    codes = [door.ticket(party=p) for p in parties]
    opens(door)
    body = {"scans": [scan(door, f"race{i}", c, minutes=15 - i / 2) for i, c in enumerate(codes)]}
    answers = together([lambda: post(server.port, token, body) for _ in range(8)])
    assert {status for status, _body in answers} == {200}, server.errors()
    for i in range(len(codes)):
        items = [results["results"][i] for _status, results in answers]
        assert Counter(item["status"] for item in items) == {"recorded": 1, "repeated": 7}
        assert {item["result"] for item in items} == {"admitted"}
        assert len({json.dumps(item["answer"], sort_keys=True) for item in items}) == 1
    assert_each_once(door, codes, parties)


@pytest.mark.server
def test_two_devices_syncing_the_same_families_at_once_count_each_once(gate):
    """Two devices let the same twelve families in offline, 东门 2 号机 three minutes before 1 号机,
    and sync at the same instant: each family counted once, 2 号机's scan standing."""
    door, server, token = gate
    with door.app.app_context():
        later_id, _email = door.factory.user("staff", org=BUREAU)
        db.session.add(StaffAssignment(user_id=later_id, event_id=door.event_id))
        db.session.commit()
        later_token = accounts.issue_token(db.session.get(User, later_id))[0]
    parties = [1 + i % 4 for i in range(12)]
    codes = [door.ticket(party=p) for p in parties]
    opens(door)
    early = {"scans": [scan(door, f"e{i}", c, minutes=12) for i, c in enumerate(codes)]}
    late = {"scans": [scan(door, f"l{i}", c, minutes=9) for i, c in enumerate(codes)]}
    (s1, first), (s2, second) = together([lambda: post(server.port, token, early),
                                          lambda: post(server.port, later_token, late)])
    assert (s1, s2) == (200, 200), server.errors()
    for a, b in zip(first["results"], second["results"], strict=True):
        assert sorted([a["conflict"] or "", b["conflict"] or ""]) == ["", "duplicate"]
    assert [door.admitted(c) for c in codes] == parties
    assert count(door, Admission) == len(codes)
    with door.app.app_context():
        stands = set(db.session.scalars(select(Admission.by_id)
                                        .where(Admission.event_id == door.event_id)))
    assert stands == {door.staff_id}  # the earlier device's, whoever synced first


class CuttingProxy:
    """A TCP proxy between a device and the server that cuts the line: `mode` "half" forwards
    half the request and hangs up; "no_answer" forwards the whole request, lets the server work
    until its answer starts coming, and hangs up on the device instead of passing it on (the
    scans are made, the answer is lost)."""

    def __init__(self, upstream: int, mode: str) -> None:
        self.upstream, self.mode, self.port = upstream, mode, free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.thread = threading.Thread(target=self._serve_one, daemon=True)
        self.thread.start()

    def _serve_one(self) -> None:
        device, _address = self.listener.accept()
        with device, socket.create_connection(("127.0.0.1", self.upstream)) as server:
            request = _read_request(device)
            if self.mode == "no_answer":
                server.sendall(request)
                server.settimeout(60)
                server.recv(1)  # the server answered: done, and the device never hears it
            else:
                server.sendall(request[:len(request) // 2])
            device.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.listener.close()


def _read_request(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _sep, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


@pytest.mark.server
def test_the_network_cut_in_the_middle_of_an_upload_loses_and_doubles_nothing(gate):
    """The device uploads its queue; the line dies half-way through the request, then again
    after the request but before the answer. The device sends the same batch again, as it
    does until it has an answer: every scan is there exactly once."""
    door, server, token = gate
    parties = [1 + i % 3 for i in range(30)]
    codes = [door.ticket(party=p) for p in parties]
    opens(door)
    body = {"scans": [scan(door, f"cut{i}", c, minutes=20 - i / 2) for i, c in enumerate(codes)]}
    for mode in ("half", "no_answer"):
        proxy = CuttingProxy(server.port, mode)
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            post(proxy.port, token, body, timeout=20)
        proxy.thread.join(5)
        if mode == "half":  # the server never had the whole request: nothing happened
            assert count(door, DoorScan) == 0 and count(door, Admission) == 0
    # The device sends its queue again: the answer of what was made before the cut.
    status, answer = post(server.port, token, body)
    assert status == 200, server.errors()
    assert [r["status"] for r in answer["results"]] == ["repeated"] * len(codes)
    assert {r["result"] for r in answer["results"]} == {"admitted"}
    assert_each_once(door, codes, parties)
    with door.app.app_context():
        assert desk.attendance(door.event_id).admitted_people == sum(parties)
