"""Exits, people inside now and the safety cap (最大承载量): a family tour with an entrance counting
both ways, a station and an exit. Through services.door.checkin.redeem and desk, through the API,
the organiser's form, the report, and against a real gunicorn with threads for the cap."""
from __future__ import annotations

import http.client
import json
from collections import Counter
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import (
    Admission,
    AdmissionKind,
    AuditEntry,
    Checkpoint,
    CheckpointDirection,
    Event,
    EventSession,
    User,
    ensure_districts,
)
from qmevents.services import accounts
from qmevents.services.door import desk
from qmevents.services.door.checkin import Result
from qmevents.services.errors import ValidationFailed
from qmevents.services.reporting import reports

from .conftest import Factory, csrf_from
from .support.server import Gunicorn, app_env
from .test_api import assert_documented, bearer, event_body, token_for
from .test_capacity_race import together
from .test_checkin import Door, make_door

# make_door's two checkpoints: an entrance counting both ways, and an exit.
GATES = dict(checkpoints=["入口", "南门"], checkpoint_directions=["both", "out"])


@pytest.fixture
def tour(app, factory) -> Iterator[Door]:
    tour = make_door(app, factory, **GATES)
    with tour.clock():
        yield tour


def checkpoint(tour: Door, name: str) -> int:
    with tour.app.app_context():
        return db.session.scalar(select(Checkpoint.id).filter_by(event_id=tour.event_id,
                                                                 name=name))


def set_caps(tour: Door, event: int | None = None, session: int | None = None) -> None:
    with tour.app.app_context():
        db.session.get(Event, tour.event_id).safety_cap = event
        db.session.get(EventSession, tour.morning).safety_cap = session
        db.session.commit()


def walk_in(tour: Door, people: int, **kwargs):
    with tour.app.app_context(), tour.clock():
        staff = db.session.get(User, tour.staff_id)
        return desk.walk_in(tour.event_id, tour.morning, people, staff, **kwargs)


def walk_out(tour: Door, people: int = 1, **kwargs):
    with tour.app.app_context():
        staff = db.session.get(User, tour.staff_id)
        return desk.walk_out(tour.event_id, tour.morning, people, staff, **kwargs)


# --- exits ------------------------------------------------------------------------------------


def test_a_scan_at_the_exit_counts_the_party_out_and_keeps_them_admitted(tour):
    code = tour.ticket(party=3)
    assert tour.scan(code).result == Result.ADMITTED
    assert tour.figures().inside_now == 3
    answer = tour.scan(code, checkpoint=checkpoint(tour, "南门"))
    assert answer.result == Result.EXITED
    assert answer.exited_people == 3
    assert tour.admitted(code) == 3  # they came: the report keeps them
    figures = tour.figures()
    assert (figures.inside_now, figures.admitted_people) == (0, 3)
    exit_gate = next(c for c in figures.checkpoints if c.name == "南门")
    assert exit_gate.inside_now == 0


def test_part_of_a_party_leaves_then_the_rest(tour):
    code = tour.ticket(party=4)
    tour.scan(code)
    south = checkpoint(tour, "南门")
    assert tour.scan(code, checkpoint=south, people=1).exited_people == 1
    assert tour.figures().inside_now == 3
    answer = tour.scan(code, checkpoint=south)
    assert answer.exited_people == 3
    again = tour.scan(code, checkpoint=south)
    assert (again.result, again.exited_people, again.admission_id) == (Result.EXITED, 0, None)
    assert tour.figures().inside_now == 0


def test_the_entrance_counting_both_ways_lets_out_when_told(tour):
    code = tour.ticket(party=2)
    tour.scan(code)
    answer = tour.scan(code, direction="out")
    assert (answer.result, answer.exited_people) == (Result.EXITED, 2)
    assert tour.figures().inside_now == 0


def test_out_at_a_checkpoint_that_only_admits_is_refused(app, factory):
    tour = make_door(app, factory)  # 入口 and 质量展厅, both admitting only
    code = tour.ticket(party=2)
    tour.scan(code)
    with pytest.raises(ValidationFailed) as refused:
        tour.scan(code, checkpoint=tour.station, direction="out")
    assert "direction" in refused.value.errors


def test_an_unknown_code_at_the_exit_is_unknown(tour):
    assert tour.scan("ZZZZZZZZZZZZZZZZZZZZ", checkpoint=checkpoint(tour, "南门")).result \
        == Result.UNKNOWN


def test_walk_ins_leave_one_by_one_never_below_zero(tour):
    walk_in(tour, 2)
    assert walk_out(tour).exited_people == 1
    assert walk_out(tour).result == Result.EXITED
    with pytest.raises(ValidationFailed) as refused:
        walk_out(tour)
    assert "people" in refused.value.errors
    assert tour.figures().inside_now == 0


def test_a_walk_out_is_recorded_at_the_first_exit(tour):
    walk_in(tour, 1)
    answer = walk_out(tour)
    with tour.app.app_context():
        row = db.session.get(Admission, answer.admission_id)
        assert (row.kind, row.checkpoint_id) == (AdmissionKind.EXIT, checkpoint(tour, "南门"))


def test_an_exit_can_be_undone(tour):
    walk_in(tour, 1)
    answer = walk_out(tour)
    with tour.app.app_context(), tour.clock():
        desk.undo(answer.admission_id, db.session.get(User, tour.staff_id))
    assert tour.figures().inside_now == 1


# --- the safety cap -----------------------------------------------------------------------------


def test_the_cap_warns_from_ninety_percent(tour):
    set_caps(tour, event=10)
    walk_in(tour, 6)
    answer = tour.scan(tour.ticket(party=3))
    assert answer.result == Result.ADMITTED
    assert "90%" in answer.message
    figures = tour.figures()
    assert (figures.inside_now, figures.safety_cap, figures.cap_state) == (9, 10, "warn")


def test_the_cap_refuses_entries_past_it_until_someone_leaves(tour):
    set_caps(tour, event=5)
    walk_in(tour, 4)
    code = tour.ticket(party=2)
    refused = tour.scan(code)
    assert refused.result == Result.OVER_CAPACITY
    assert refused.admission_id is None and tour.admitted(code) == 0
    walk_out(tour)
    assert tour.scan(code).result == Result.ADMITTED
    assert tour.figures().cap_state == "full"


def test_staff_may_override_the_cap_and_the_audit_log_says_so(tour):
    set_caps(tour, event=2)
    walk_in(tour, 2)
    code = tour.ticket(party=2)
    answer = tour.scan(code, override=True)
    assert answer.result == Result.ADMITTED
    with tour.app.app_context():
        entry = db.session.scalar(select(AuditEntry).filter_by(action="cap_override"))
        assert entry.detail["inside"] == 4 and entry.detail["safety_cap"] == 2


def test_walk_ins_past_the_cap_are_refused_unless_overridden(tour):
    set_caps(tour, event=3)
    walk_in(tour, 3)
    assert walk_in(tour, 1).result == Result.OVER_CAPACITY
    assert walk_in(tour, 1, override=True).result == Result.ADMITTED
    assert tour.figures().inside_now == 4


def test_the_sessions_cap_wins_over_the_events(tour):
    set_caps(tour, event=100, session=2)
    walk_in(tour, 2)
    assert tour.scan(tour.ticket(party=1)).result == Result.OVER_CAPACITY
    figures = tour.figures(tour.morning)
    assert (figures.safety_cap, figures.cap_state) == (2, "full")


def test_re_entries_count_against_the_cap(app, factory):
    tour = make_door(app, factory, allow_reentry=True, **GATES)
    with tour.clock():
        set_caps(tour, event=3)
        code = tour.ticket(party=3)
        tour.scan(code)
        assert tour.scan(code).result == Result.OVER_CAPACITY  # a re-entry: 6 would be inside
        tour.scan(code, direction="out")
        assert tour.scan(code).reentry


# --- the API --------------------------------------------------------------------------------------


@pytest.fixture
def doc(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def device(client, tour) -> dict[str, str]:
    return bearer(token_for(client, tour.staff_email))


def test_api_scans_out_and_shows_inside_now(client, tour, device, doc):
    code = tour.ticket(party=2)
    body = {"code": code, "event_id": tour.event_id, "session_id": tour.morning}
    client.post("/api/v1/checkins", json=body, headers=device)
    response = client.post("/api/v1/checkins?lang=en", json={**body, "direction": "out"},
                           headers=device)
    answer = response.get_json()
    assert (answer["result"], answer["exited_people"]) == ("exited", 2)
    assert_documented(doc, "post", "/checkins", response)
    figures = client.get(f"/api/v1/events/{tour.event_id}/attendance", headers=device)
    assert figures.get_json()["inside_now"] == 0
    assert_documented(doc, "get", "/events/{event_id}/attendance", figures)


def test_api_refuses_a_direction_it_does_not_know(client, tour, device):
    body = {"code": tour.ticket(), "event_id": tour.event_id, "direction": "sideways"}
    response = client.post("/api/v1/checkins", json=body, headers=device)
    assert response.status_code == 422 and "direction" in response.get_json()["errors"]


def test_api_walk_outs_never_below_zero(client, tour, device, doc):
    path = f"/api/v1/events/{tour.event_id}/walk-outs?lang=en"
    walk_in(tour, 1)
    first = client.post(path, json={"session_id": tour.morning}, headers=device)
    assert first.status_code == 201 and first.get_json()["result"] == "exited"
    assert_documented(doc, "post", "/events/{event_id}/walk-outs", first)
    second = client.post(path, json={"session_id": tour.morning, "people": 1}, headers=device)
    assert second.status_code == 422
    assert second.get_json()["errors"]["people"] == "Nobody is inside now: nobody can leave."
    assert_documented(doc, "post", "/events/{event_id}/walk-outs", second)
    bad = client.post(path, json={"people": "many"}, headers=device)
    assert bad.status_code == 422


def test_api_figures_carry_the_cap(client, tour, device, doc):
    set_caps(tour, event=4)
    walk_in(tour, 4)
    figures = client.get(f"/api/v1/events/{tour.event_id}/attendance", headers=device).get_json()
    assert (figures["inside_now"], figures["safety_cap"], figures["cap_state"]) == (4, 4, "full")
    entrance = next(c for c in figures["checkpoints"] if c["name"] == "入口")
    assert entrance["inside_now"] == 4


def test_api_walk_in_over_the_cap_answers_over_capacity(client, tour, device, doc):
    set_caps(tour, event=1)
    path = f"/api/v1/events/{tour.event_id}/walk-ins"
    body = {"session_id": tour.morning, "people": 2}
    refused = client.post(path, json=body, headers=device)
    assert refused.status_code == 200 and refused.get_json()["result"] == "over_capacity"
    assert_documented(doc, "post", "/events/{event_id}/walk-ins", refused)
    admitted = client.post(path, json={**body, "override": True}, headers=device)
    assert admitted.status_code == 201


def test_api_events_carry_directions_and_caps(client, factory, doc):
    _user, email = factory.user("organiser")
    headers = bearer(token_for(client, email))
    body = event_body(checkpoints=[{"name": "入口", "direction": "both"},
                                   {"name": "南门", "direction": "out"}], safety_cap=300)
    body["sessions"][0]["safety_cap"] = 120
    response = client.post("/api/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    event = response.get_json()
    assert [c["direction"] for c in event["checkpoints"]] == ["both", "out"]
    assert (event["safety_cap"], event["sessions"][0]["safety_cap"]) == (300, 120)
    bad = client.post("/api/v1/events", json=event_body(
        checkpoints=[{"name": "出口", "direction": "out"}], safety_cap=0), headers=headers)
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) >= {"checkpoints", "safety_cap"}


def test_the_organiser_form_sets_directions_and_the_cap(client, tour, factory):
    from .conftest import login

    _user, email = factory.user("organiser")
    login(client, email)
    url = f"/organiser/events/{tour.event_id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "南门 | 出口" in page and "入口 | 双向" in page
    form = {k: v for k, v in _form_fields(page).items()}
    form.update({"csrf_token": csrf_from(page), "checkpoints": "入口 | 双向\n展厅\n北门 ｜ 出口",
                 "safety_cap": "250", "sessions-0-safety_cap": "80", "action": "save"})
    response = client.post(url, data=form)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    with tour.app.app_context():
        event = db.session.get(Event, tour.event_id)
        assert [c.direction for c in event.checkpoints] == [
            CheckpointDirection.BOTH, CheckpointDirection.IN, CheckpointDirection.OUT]
        assert [c.name for c in event.checkpoints] == ["入口", "展厅", "北门"]
        assert event.safety_cap == 250 and event.sessions[0].safety_cap == 80


def _form_fields(page: str) -> dict[str, str]:
    """The values an edit form starts with (inputs and textareas; checked boxes only)."""
    import re
    from html import unescape

    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = unescape(value.group(1)) if value else "y"
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page,
                                 re.S):
        fields[name] = unescape(text).lstrip("\n")
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"'
                           r'[^>]*selected', body)
        if chosen:
            fields[name] = unescape(chosen.group(1) or chosen.group(2))
    return fields


# --- the report ---------------------------------------------------------------------------------


def test_the_report_draws_people_inside(tour, client, factory):
    walk_in(tour, 3)
    walk_out(tour, 2)
    with tour.app.app_context():
        bins = reports.arrivals(tour.event_id)
    assert sum(b.people for b in bins) == 3
    assert bins[-1].inside == 1
    _user, email = factory.user("organiser")
    from .conftest import login

    login(client, email)
    page = client.get(f"/organiser/events/{tour.event_id}/report").get_data(as_text=True)
    assert 'class="chart-line"' in page


# --- many doors at once, against a real server --------------------------------------------------

@pytest.fixture
def gate(database_url, tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app: Flask = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                             "PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 64,
                             "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    door = make_door(app, Factory(app), **GATES)
    with app.app_context():
        staff = db.session.get(User, door.staff_id)
        tokens = [accounts.issue_token(staff)[0] for _ in range(12)]
    server = Gunicorn("wsgi:app", app_env(instance, database_url), workers=2, threads=6,
                      worker_class="gthread")
    server.start(ready_path="/api/v1/openapi.json")
    try:
        yield door, server, tokens
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


def post(port: int, token: str, path: str, body: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, body=json.dumps(body),
                           headers={"Content-Type": "application/json",
                                    "Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


@pytest.mark.server
def test_twelve_doors_at_once_do_not_oversell_the_cap(gate):
    """Twelve phones on a real gunicorn (2 workers × 6 threads) scan twelve families of two at
    the same instant under a cap of 10 people: exactly five families come in, on SQLite (its
    write lock) and on PostgreSQL (the event's advisory lock, services/door/occupancy.py)."""
    door, server, tokens = gate
    set_caps(door, event=10)
    codes = [door.ticket(party=2) for _ in tokens]
    door.starts_now(door.morning)
    answers = together([
        (lambda token=token, code=code: post(server.port, token, "/api/v1/checkins", {
            "code": code, "event_id": door.event_id, "session_id": door.morning}))
        for token, code in zip(tokens, codes, strict=True)
    ])
    statuses = Counter(status for status, _body in answers)
    assert statuses == {200: len(tokens)}, (statuses, server.errors())
    results = Counter(body["result"] for _status, body in answers)
    with door.app.app_context():
        inside = desk.attendance(door.event_id).inside_now
    assert results["admitted"] * 2 == inside
    assert results["admitted"] + results["over_capacity"] == len(tokens)
    assert inside == 10, results
