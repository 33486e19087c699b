"""The JSON API as a client app uses it: get a token, read events, create one, read the
OpenAPI document and hold the answers to it."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import ApiToken, Event
from qmevents.services import events
from qmevents.timeutil import to_local, utcnow

from .conftest import PASSWORD

YANGPU_BUREAU = "杨浦区市场监督管理局"
PUDONG_BUREAU = "浦东新区市场监督管理局"


# --- helpers ------------------------------------------------------------------------------------


def token_for(client, email: str) -> str:
    response = client.post("/api/v1/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def shanghai_in(days: int, hour: int = 9) -> datetime:
    """A Shanghai wall-clock time some days ahead, aware (+08:00)."""
    return to_local(utcnow() + timedelta(days=days)).replace(
        hour=hour, minute=30, second=0, microsecond=0)


def event_body(**overrides) -> dict:
    start = shanghai_in(10)
    body = {
        "title": "杨浦区家庭质量探寻之旅", "kind": "family_tour", "district": "杨浦区",
        "venue": "上海电气展示中心", "address": "上海市杨浦区军工路1076号",
        "host": "上海电气集团", "description": "带孩子走进智能制造车间。",
        "max_party_size": 3, "registration_mode": "fcfs",
        "sessions": [{"label": "上午场", "starts_at": start.isoformat(),
                      "ends_at": (start + timedelta(hours=2)).isoformat(), "capacity": 40}],
        "checkpoints": [{"name": "入口"}, {"name": "质量展厅"}],
    }
    body.update(overrides)
    return body


def session_draft(days: int) -> events.SessionDraft:
    start = shanghai_in(days)
    return events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2), capacity=30)


def listed_ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [e["id"] for e in response.get_json()["events"]]


@pytest.fixture
def organiser_token(factory, client) -> str:
    """An organiser of the Yangpu bureau holding a token."""
    _id, email = factory.user("organiser", org=YANGPU_BUREAU)
    return token_for(client, email)


# --- tokens -------------------------------------------------------------------------------------


def test_a_user_exchanges_email_and_password_for_a_token(factory, client):
    _id, email = factory.user("organiser")
    response = client.post("/api/v1/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert body["token"].startswith("qm_")
    assert body["expires_at"].endswith("+08:00")
    assert response.headers["Cache-Control"] == "no-store"


def test_a_wrong_password_is_refused(factory, client):
    _id, email = factory.user("organiser")
    response = client.post("/api/v1/token", json={"email": email, "password": "guess" * 3})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_credentials"
    assert response.get_json()["message"]


def test_a_revoked_token_no_longer_works(client, organiser_token):
    assert client.delete("/api/v1/token", headers=bearer(organiser_token)).status_code == 204
    response = client.post("/api/v1/events", json=event_body(), headers=bearer(organiser_token))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_database_holds_no_plain_token(app, client, organiser_token):
    with app.app_context():
        assert db.session.scalar(select(ApiToken.token_hash)) != organiser_token
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                assert all(organiser_token not in str(value) for value in row)


def test_token_requests_are_throttled(app, factory):
    _id, email = factory.user("organiser")
    throttled = create_app({
        "TESTING": True, "SECRET_KEY": "test", "PASSWORD_TIME_COST": 1,
        "PASSWORD_MEMORY_COST": 8, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "2 per minute",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
    })
    client = throttled.test_client()
    try:
        statuses = [client.post("/api/v1/token", json={"email": email, "password": "wrong"})
                    for _ in range(3)]
        assert [r.status_code for r in statuses] == [401, 401, 429]
        assert statuses[-1].get_json()["error"] == "rate_limited"
    finally:
        with throttled.app_context():
            db.engine.dispose()


# --- reading events -----------------------------------------------------------------------------


def test_the_list_shows_published_events_only(app, factory, client):
    published = factory.event(title="已发布的开放日")
    factory.event(title="草稿", publish=False)
    cancelled = factory.event(title="已取消")
    with app.app_context():
        events.cancel(db.session.get(Event, cancelled))
    assert listed_ids(client.get("/api/v1/events")) == [published]


def test_a_cancelled_event_stays_visible_by_id(app, factory, client):
    event_id = factory.event()
    with app.app_context():
        events.cancel(db.session.get(Event, event_id))
    response = client.get(f"/api/v1/events/{event_id}")
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"


def test_an_event_reads_with_sessions_checkpoints_and_shanghai_times(factory, client):
    event_id = factory.event(checkpoints=["入口", "水质实验室"])
    body = client.get(f"/api/v1/events/{event_id}").get_json()
    assert body["district"] == "杨浦区"
    assert body["organisation"] == YANGPU_BUREAU
    assert [c["name"] for c in body["checkpoints"]] == ["入口", "水质实验室"]
    session = body["sessions"][0]
    assert session["places_left"] == session["capacity"] == 30
    assert session["starts_at"].endswith("+08:00")


def test_anonymous_visitors_get_404_for_a_draft(factory, client):
    draft = factory.event(publish=False)
    response = client.get(f"/api/v1/events/{draft}")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_the_owning_organiser_sees_its_draft_by_id(factory, client, organiser_token):
    draft = factory.event(publish=False)
    response = client.get(f"/api/v1/events/{draft}", headers=bearer(organiser_token))
    assert response.status_code == 200
    assert response.get_json()["status"] == "draft"


def test_the_owning_organiser_sees_its_draft_in_the_list(factory, client, organiser_token):
    draft = factory.event(publish=False)
    assert draft in listed_ids(client.get("/api/v1/events", headers=bearer(organiser_token)))


def test_another_districts_organiser_gets_404_for_a_draft(factory, client):
    draft = factory.event(publish=False)
    _id, email = factory.user("organiser", org=PUDONG_BUREAU, district="浦东新区")
    response = client.get(f"/api/v1/events/{draft}", headers=bearer(token_for(client, email)))
    assert response.status_code == 404
    assert draft not in listed_ids(
        client.get("/api/v1/events", headers=bearer(token_for(client, email))))


def test_an_unknown_event_is_404(client):
    response = client.get("/api/v1/events/999999")
    assert response.status_code == 404
    assert set(response.get_json()) == {"error", "message"}


def test_filters_narrow_the_list(factory, client):
    soon = factory.event(kind="lecture", sessions=[session_draft(5)])
    later = factory.event(kind="open_day", sessions=[session_draft(20)])
    pudong = factory.event(PUDONG_BUREAU, district="浦东新区", sessions=[session_draft(6)])
    later_day = shanghai_in(20).date().isoformat()
    assert listed_ids(client.get("/api/v1/events?district=浦东新区")) == [pudong]
    assert listed_ids(client.get("/api/v1/events?kind=lecture")) == [soon]
    assert listed_ids(client.get(f"/api/v1/events?date_from={later_day}")) == [later]
    assert listed_ids(client.get(f"/api/v1/events?date_to={shanghai_in(5).date()}")) == [soon]


@pytest.mark.parametrize("query, field", [
    ("district=火星区", "district"),
    ("kind=party", "kind"),
    ("date_from=2025-13-01", "date_from"),
    ("date_to=9999-12-31", "date_to"),
    ("date_from=2025-09-20&date_to=2025-09-10", "date_to"),
    ("page=0", "page"),
    ("per_page=101", "per_page"),
    ("per_page=ten", "per_page"),
])
def test_a_bad_filter_is_422_naming_it(client, query, field):
    response = client.get(f"/api/v1/events?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_pages_split_the_list(factory, client):
    ids = [factory.event(sessions=[session_draft(day)]) for day in (3, 4, 5)]
    first = client.get("/api/v1/events?per_page=2").get_json()
    second = client.get("/api/v1/events?per_page=2&page=2").get_json()
    assert first["total"] == 3
    assert [e["id"] for e in first["events"] + second["events"]] == ids


# --- creating events ----------------------------------------------------------------------------


def test_an_organiser_creates_an_event(client, organiser_token):
    response = client.post("/api/v1/events", json=event_body(), headers=bearer(organiser_token))
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/events/{body['id']}")
    assert body["status"] == "draft"
    assert body["organisation"] == YANGPU_BUREAU
    assert all(isinstance(s["id"], int) for s in body["sessions"] + body["checkpoints"])
    assert [c["name"] for c in body["checkpoints"]] == ["入口", "质量展厅"]


def test_a_time_without_offset_is_shanghai_wall_clock(client, organiser_token):
    day = shanghai_in(10).date().isoformat()
    body = event_body(sessions=[{"starts_at": f"{day}T09:30", "ends_at": f"{day}T11:30:00Z",
                                 "capacity": 10}])
    response = client.post("/api/v1/events", json=body, headers=bearer(organiser_token))
    assert response.status_code == 201, response.get_json()
    session = response.get_json()["sessions"][0]
    assert session["starts_at"] == f"{day}T09:30:00+08:00"
    assert session["ends_at"] == f"{day}T19:30:00+08:00"


def test_an_event_published_on_creation_is_public(client, organiser_token):
    response = client.post("/api/v1/events", json=event_body(status="published"),
                           headers=bearer(organiser_token))
    assert response.status_code == 201
    assert listed_ids(client.get("/api/v1/events")) == [response.get_json()["id"]]


def _session(**overrides) -> dict:
    return {**event_body()["sessions"][0], **overrides}


@pytest.mark.parametrize("body, field", [
    (event_body(sessions=[_session(ends_at=shanghai_in(10, hour=8).isoformat())]),
     "sessions.0.ends_at"),
    (event_body(sessions=[_session(capacity=0)]), "sessions.0.capacity"),
    (event_body(kind="party"), "kind"),
    (event_body(district="火星区"), "district"),
    (event_body(sessions=[_session(), _session(starts_at="next Tuesday")]),
     "sessions.1.starts_at"),
    (event_body(sessions=[_session(ends_at="0001-01-01T00:00")]), "sessions.0.ends_at"),
    (event_body(sessions=[_session(capacity="40")]), "sessions.0.capacity"),
    (event_body(sessions={"starts_at": "2025-09-20T09:30"}), "sessions"),
    (event_body(sessions=["上午场"]), "sessions.0"),
    (event_body(status="cancelled"), "status"),
    ([event_body()], "body"),
    ("title=开放日", "body"),
], ids=["end-before-start", "capacity-0", "bad-kind", "unknown-district", "malformed-time",
        "time-out-of-range", "string-capacity", "sessions-not-a-list", "session-not-an-object", "bad-status",
        "body-not-an-object", "body-not-json"])
def test_an_invalid_event_is_422_with_the_field_path(client, organiser_token, body, field):
    kwargs = {"data": body} if isinstance(body, str) else {"json": body}
    response = client.post("/api/v1/events?lang=en", headers=bearer(organiser_token), **kwargs)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert field in errors, errors
    assert errors[field]


def test_type_errors_and_rule_errors_come_together(client, organiser_token):
    body = event_body(title="", sessions=[_session(capacity="forty")])
    response = client.post("/api/v1/events", json=body, headers=bearer(organiser_token))
    assert set(response.get_json()["errors"]) == {"title", "sessions.0.capacity"}


def test_creating_without_a_token_is_401(client):
    response = client.post("/api/v1/events", json=event_body())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_door_staff_may_not_create_events(factory, client):
    _id, email = factory.user("staff")
    response = client.post("/api/v1/events", json=event_body(),
                           headers=bearer(token_for(client, email)))
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_an_admin_names_the_organisation(factory, client):
    factory.user("organiser", org=PUDONG_BUREAU, district="浦东新区")
    _id, email = factory.user("admin")
    headers = bearer(token_for(client, email))
    unnamed = client.post("/api/v1/events", json=event_body(), headers=headers)
    assert "organisation" in unnamed.get_json()["errors"]
    named = client.post("/api/v1/events", json=event_body(organisation=PUDONG_BUREAU),
                        headers=headers)
    assert named.status_code == 201
    assert named.get_json()["organisation"] == PUDONG_BUREAU


# --- the OpenAPI document -----------------------------------------------------------------------


def test_every_api_route_is_in_the_document(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            template = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routed |= {(template, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routed == documented


def test_the_document_knows_the_16_districts(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert len(schemas["District"]["enum"]) == 16
    assert "杨浦区" in schemas["District"]["enum"]


def test_answers_match_the_documented_schemas(factory, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    _id, email = factory.user("organiser")
    issued = client.post("/api/v1/token", json={"email": email, "password": PASSWORD})
    headers = bearer(issued.get_json()["token"])
    created = client.post("/api/v1/events", json=event_body(status="published"), headers=headers)
    event_id = created.get_json()["id"]
    calls = [
        ("post", "/token", issued),
        ("post", "/token", client.post("/api/v1/token", json={"email": email, "password": "x"})),
        ("post", "/events", created),
        ("post", "/events", client.post("/api/v1/events", json={"sessions": 1}, headers=headers)),
        ("post", "/events", client.post("/api/v1/events", json=event_body())),
        ("get", "/events", client.get("/api/v1/events")),
        ("get", "/events", client.get("/api/v1/events?kind=party")),
        ("get", "/events/{event_id}", client.get(f"/api/v1/events/{event_id}")),
        ("get", "/events/{event_id}", client.get("/api/v1/events/999999")),
        ("delete", "/token", client.delete("/api/v1/token", headers=headers)),
    ]
    for method, path, response in calls:
        assert_documented(doc, method, path, response)


# --- a validator for the subset of JSON Schema the document uses -------------------------------


def assert_documented(doc: dict, method: str, path: str, response) -> None:
    documented = doc["paths"][path][method]["responses"]
    assert str(response.status_code) in documented, (method, path, response.status_code)
    spec = resolve(doc, documented[str(response.status_code)])
    for header in spec.get("headers", {}):
        assert header in response.headers, (method, path, header)
    if "content" not in spec:
        assert response.data == b""
        return
    problems = check(doc, spec["content"]["application/json"]["schema"], response.get_json())
    assert not problems, (method, path, response.status_code, problems)


def resolve(doc: dict, node: dict) -> dict:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = {**doc["components"][section][name],
                **{k: v for k, v in node.items() if k != "$ref"}}
    return node


TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
         "object": dict, "array": list, "null": type(None)}


def check(doc: dict, schema: dict, value, where: str = "$") -> list[str]:
    """Problems with `value` against `schema`: type, enum, format, bounds, properties, items."""
    schema = resolve(doc, schema)
    types = schema.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else types
        if isinstance(value, bool) and "boolean" not in allowed or not any(
                isinstance(value, TYPES[t]) for t in allowed):
            return [f"{where}: {value!r} is not {types}"]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in enum")
    if isinstance(value, str):
        problems += _check_string(schema, value, where)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            problems.append(f"{where}: {value} out of bounds")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        problems += [f"{where}: {key} missing" for key in schema.get("required", [])
                     if key not in value]
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                problems += check(doc, properties[key], item, f"{where}.{key}")
            elif extra is False:
                problems.append(f"{where}: unexpected {key}")
            elif isinstance(extra, dict):
                problems += check(doc, extra, item, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problems += check(doc, schema["items"], item, f"{where}[{i}]")
    return problems


def _check_string(schema: dict, value: str, where: str) -> list[str]:
    try:
        if schema.get("format") == "date-time" and datetime.fromisoformat(value).tzinfo is None:
            return [f"{where}: {value} has no offset"]
        if schema.get("format") == "date":
            date.fromisoformat(value)
    except ValueError:
        return [f"{where}: {value} is not a {schema['format']}"]
    if len(value) > schema.get("maxLength", len(value)):
        return [f"{where}: too long"]
    return []
