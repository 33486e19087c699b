"""The API fuzzed from its own OpenAPI document (schemathesis): every operation, with valid and
invalid inputs, as a signed-in organiser and as door staff, in-process through the WSGI app.
No answer is a server error, and every answer has a documented status, content type and shape.

Bounded for CI: MAX_EXAMPLES per operation and generation mode, no deadline, derandomized so a
failure is reproduced by running the test again.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from qmevents.api import openapi
from qmevents.extensions import db
from qmevents.models import Event, StaffAssignment, User
from qmevents.services import accounts, events
from qmevents.services.door import checkin
from qmevents.services.registrations import register as registrations
from qmevents.timeutil import utcnow

from .conftest import on_the_day

MAX_EXAMPLES = int(os.environ.get("QMEVENTS_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]
DOOR_TAG = "door"


def _operations() -> list[tuple[str, str, list[str]]]:
    """(method, path, tags) of every operation the document describes, read at collection."""
    from flask import Flask
    from flask_babel import Babel

    bare = Flask(__name__)
    Babel(bare)
    with bare.test_request_context():
        paths = openapi.document()["paths"]
    return [(method.upper(), path, spec.get("tags", []))
            for path, item in sorted(paths.items()) for method, spec in sorted(item.items())
            if method in ("get", "post", "put", "patch", "delete")]


OPERATIONS = _operations()
CASES = [pytest.param("organiser", m, p, id=f"organiser {m} {p}") for m, p, _t in OPERATIONS] + [
    pytest.param("staff", m, p, id=f"staff {m} {p}") for m, p, t in OPERATIONS if DOOR_TAG in t]


@dataclass
class Seeded:
    event_id: int  # first come, first served, with a tally, a station and tickets
    approval_event_id: int  # where applicants wait for a decision
    tally_id: int
    admission_id: int
    organiser_email: str
    staff_email: str


def _seed(app, factory) -> Seeded:
    start = (utcnow() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    sessions = [events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=3),
                                    capacity=5000)]
    event_id = factory.event(sessions=sessions, tallies=["血压测量"], checkpoints=["入口", "展厅"])
    approval_id = factory.event(title="审核制开放日", registration_mode="approval")
    _organiser_id, organiser_email = factory.user("organiser")
    staff_id, staff_email = factory.user("staff")
    with app.test_request_context():
        db.session.add(StaffAssignment(user_id=staff_id, event_id=event_id))
        db.session.commit()
        for event in (event_id, approval_id):
            session_id = db.session.get(Event, event).sessions[0].id
            for n, name in enumerate(("王芳", "李强")):
                code = registrations.register(registrations.RegistrationRequest(
                    event_id=event, session_id=session_id, name=name,
                    phone=f"1380000{event:02d}{n:02d}", party_size=2, consent=True)).code
        staff = db.session.scalar(db.select(User).filter_by(email=staff_email))
        event = db.session.get(Event, event_id)
        first = event.sessions[0].id
        code = registrations.register(registrations.RegistrationRequest(
            event_id=event_id, session_id=first, name="张伟", phone="13700009012",
            party_size=3, consent=True)).code
        with on_the_day(app, first):
            answer = checkin.redeem(code, event_id=event_id, session_id=first,
                                    checkpoint_id=None, people=1, staff=staff)
        return Seeded(event_id=event_id, approval_event_id=approval_id,
                      tally_id=event.tallies[0].id, admission_id=answer.admission_id,
                      organiser_email=organiser_email, staff_email=staff_email)


def _token(app, email: str) -> str:
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=email))
        return accounts.issue_token(user)[0]


def _path_parameters(path: str, seeded: Seeded) -> dict[str, int]:
    """Real objects in the path, so the bodies reach the services' rules instead of a 404."""
    event_id = seeded.approval_event_id if "/applicants" in path or "/invitations" in path \
        else seeded.event_id
    known = {"event_id": event_id, "tally_id": seeded.tally_id,
             "admission_id": seeded.admission_id}
    return {name: value for name, value in known.items() if "{" + name + "}" in path}


@pytest.mark.parametrize(("role", "method", "path"), CASES)
def test_every_operation_answers_as_its_document_says(app, factory, role, method, path):
    seeded = _seed(app, factory)
    email = seeded.organiser_email if role == "organiser" else seeded.staff_email
    token = _token(app, email)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    params = _path_parameters(path, seeded)
    # Mostly A's real objects in the path; sometimes any ids the document allows.
    strategy = (operation.as_strategy(GenerationMode.POSITIVE, path_parameters=params)
                | operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=params)
                | operation.as_strategy(GenerationMode.POSITIVE))

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(case=strategy)
    def answers_as_documented(case):
        # Revoking ends the token it is sent with: each such call gets a new one.
        bearer = _token(app, email) if (method, path) == ("DELETE", "/token") else token
        # Schemathesis's WSGI transport asks, as requests does, for gzip, br and zstd, but never
        # decodes what comes back: the answers are read as sent (compression is
        # tests/test_static_and_compression.py's).
        case.call_and_validate(headers={"Authorization": f"Bearer {bearer}",
                                        "Accept-Encoding": "identity"}, checks=CHECKS)

    answers_as_documented()


def test_the_fuzzer_covers_every_documented_operation():
    assert len(OPERATIONS) >= 15
    assert {p for _m, p, _t in OPERATIONS} >= {"/checkins", "/events", "/token"}


# --- what the fuzzer found, kept as plain stories ----------------------------------------------


def test_a_nul_character_in_a_body_is_refused_by_name_before_the_database(client):
    response = client.post("/api/v1/token?lang=en",
                           json={"email": "a\x00@example.cn", "password": "x"})
    assert response.status_code == 422
    assert "NUL" in response.get_json()["errors"]["email"]


def test_an_id_beyond_what_the_database_stores_is_simply_not_found(client):
    response = client.get(f"/api/v1/events/{2**31}")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("query", ["attendance?session_id=9999999999",
                                   "search?session_id=9999999999&q=王"])
def test_a_query_id_beyond_what_the_database_stores_is_no_error(app, factory, client, query):
    seeded = _seed(app, factory)
    headers = {"Authorization": f"Bearer {_token(app, seeded.staff_email)}"}
    response = client.get(f"/api/v1/events/{seeded.event_id}/{query}", headers=headers)
    assert response.status_code in (200, 404, 422)
