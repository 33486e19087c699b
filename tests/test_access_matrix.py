"""Who may not see what: every back-office and API route, discovered from the app's url_map,
walked with every method it allows by people who have no business with organisation A's event:
a visitor who is not signed in, door staff of another event, an organiser of another organisation,
and API clients with another organisation's token, no token or a revoked token. Each gets a 401,
403 or 404, sees none of A's secrets, and changes nothing in the database.

A route whose URL this test cannot fill in fails it (add a filler to FILLERS), so a new route is
never skipped in silence. POSTs carry a valid CSRF token taken from a page the identity may load
(the sign-in page for a visitor): CSRF must not be what stops them, the access rule must.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from werkzeug.routing import Rule

from qmevents.extensions import db
from qmevents.models import (
    Admission,
    Answer,
    ApiToken,
    AuditEntry,
    Checkpoint,
    DoorScan,
    Event,
    EventSession,
    Notification,
    Question,
    Registration,
    StaffAssignment,
    Tally,
)
from qmevents.services import accounts, devices, events
from qmevents.services.door import checkin
from qmevents.services.identity import mask_mobile
from qmevents.services.registrations import questions
from qmevents.services.registrations import register as registrations
from qmevents.timeutil import utcnow

from .conftest import csrf_from, login

PREFIXES = ("/organiser", "/door", "/api/v1")
DENIED = {401, 403, 404}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}

# Routes anyone may call, token or not: they show nothing of an organisation's own.
PUBLIC = {"api.list_events", "api.openapi_document", "api.issue_token", "api.send_phone_code",
          # a door device's pairing: only the QR's secret pairs (here an unknown one: 410)
          "door.pair", "api.pair_device",
          # the door app's service worker and manifest: the same static files for everyone
          "door.service_worker", "door.manifest"}
# Public routes that write for whoever calls them, about nobody of A's: a code texted to the
# number the caller typed (rate-limited; tests/test_phone_verification.py).
WRITES_FOR_THE_CALLER = {"api.send_phone_code": "Notification"}
# Citizens' apps register without a token (rate-limited instead): an Authorization header is
# not read there, so a revoked token is simply a visitor (a draft event is a 404 for them).
TOKENLESS = {"api.create_registration"}
# Routes every signed-in person may open, each about their own things (their list, their new
# event, their token, their dashboard): for outsiders these may answer 200, but still without
# a word of A's secrets and without touching A's data.
OWN_THINGS = {
    "organiser.events", "organiser.new_event", "door.index", "api.create_event",
    "api.revoke_token", "organiser.dashboard", "organiser.dashboard_export",
    "organiser.campaign_summary", "organiser.members", "organiser.invite_member",
    "organiser.message_kinds",
    # A device's queued scans: the batch answers 200 with each scan judged on its own, a scan
    # aimed at A's event `invalid` under event_id (not on its door staff), nothing recorded.
    "api.create_checkin_batch",
}

SECRET_TITLE = "甲局机密质量开放日"
SECRET_TALLY = "甲局机密血压测量"
SECRET_CHECKPOINT = "甲局机密实验室"
SECRET_QUESTION = "甲局机密问题：您的单位"
FAMILIES = (("欧阳秘密", "13698217391", 2), ("司马隐私", "13577402856", 1))
INTRUDER = ("闯入者", "13912345678")


@dataclass
class Scene:
    """Organisation A's draft event with registrations, an admission and a tally, and its
    organiser; everything here is what outsiders must neither see nor change."""

    event_id: int
    session_id: int
    checkpoint_id: int
    tally_id: int
    question_id: int
    registration_id: int
    admission_id: int
    code: str
    organiser_email: str
    staff_id: int = 0  # door staff of A's event, and A's second organiser
    member_id: int = 0
    device_id: int = 0  # a door device of A's event
    secrets: list[str] = field(default_factory=list)


# URL arguments → org A's objects. A route with an argument missing here fails the test.
FILLERS = {
    "event_id": lambda s: [s.event_id],
    "session_id": lambda s: [s.session_id],
    "checkpoint_id": lambda s: [s.checkpoint_id],
    "tally_id": lambda s: [s.tally_id],
    "question_id": lambda s: [s.question_id],
    "registration_id": lambda s: [s.registration_id],
    "admission_id": lambda s: [s.admission_id],
    "code": lambda s: [s.code],
    "fmt": lambda s: ["csv", "xlsx", "pdf"],
    "user_id": lambda s: [s.staff_id, s.member_id],
    "device_id": lambda s: [s.device_id],
    "secret": lambda s: ["not-a-pairing-secret-of-anyone"],
}


def _form_body(s: Scene) -> dict:
    """Everything a back-office form might read, aimed at A's objects: a view that forgot its
    access check would act on them, and the snapshot would show it."""
    return {"code": s.code, "session_id": s.session_id, "checkpoint_id": s.checkpoint_id,
            "people": "1", "registration_id": s.registration_id, "decision": "decline",
            "message": "x", "name": INTRUDER[0], "phone": INTRUDER[1], "party_size": "1",
            "action": "publish", "format": "csv", "masked": "", "purpose": "audit",
            "tally_id": s.tally_id}


def _json_body(s: Scene) -> dict:
    return {"code": s.code, "event_id": s.event_id, "session_id": s.session_id,
            "checkpoint_id": s.checkpoint_id, "people": 1, "by": 5, "name": INTRUDER[0],
            "phone": INTRUDER[1], "party_size": 1, "registration_ids": [s.registration_id],
            "message": "x", "consent": True,
            "scans": [{"scan_id": "intruder1", "code": s.code, "event_id": s.event_id,
                       "scanned_at": "2025-09-20T09:02:00+08:00"},
                      {"scan_id": "intruder2", "kind": "walk_in", "people": 3,
                       "event_id": s.event_id, "scanned_at": "2025-09-20T09:02:00Z"}]}


# --- the scene ---------------------------------------------------------------------------------


def _seed(app, factory) -> Scene:
    start = (utcnow() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    sessions = [events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=3),
                                    capacity=40)]
    event_id = factory.event(title=SECRET_TITLE, sessions=sessions, tallies=[SECRET_TALLY],
                             checkpoints=["入口", SECRET_CHECKPOINT])
    organiser_id, organiser_email = factory.user("organiser")
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        questions.set_questions(event, [questions.QuestionDraft(SECRET_QUESTION, "text",
                                                                required=False)])
        codes = [registrations.register(registrations.RegistrationRequest(
            event_id=event_id, session_id=event.sessions[0].id, name=name, phone=phone,
            party_size=party, consent=True)).code for name, phone, party in FAMILIES]
        organiser = db.session.get(accounts.User, organiser_id)
        answer = checkin.redeem(codes[0], event_id=event_id, session_id=None,
                                checkpoint_id=None, people=None, staff=organiser)
        event = db.session.get(Event, event_id)
        scene = Scene(
            event_id=event_id, session_id=event.sessions[0].id,
            checkpoint_id=event.checkpoints[-1].id, tally_id=event.tallies[0].id,
            question_id=event.questions[0].id,
            registration_id=db.session.scalar(db.select(Registration.id)
                                              .where(Registration.code == codes[0])),
            admission_id=answer.admission_id, code=codes[0], organiser_email=organiser_email,
        )
        scene.staff_id, _email = factory.user("staff")
        scene.member_id, _email = factory.user("organiser")
        db.session.add(StaffAssignment(user_id=scene.staff_id, event_id=event_id))
        scene.device_id = devices.add(event, "甲局东门 2 号机", organiser).device.id
        events.unpublish(db.session.get(Event, event_id))  # a draft: not even its title is public
    scene.secrets = [SECRET_TITLE, SECRET_TALLY, SECRET_CHECKPOINT, SECRET_QUESTION, *codes]
    for name, phone, _party in FAMILIES:
        scene.secrets += [name, phone, mask_mobile(phone)]
    return scene


@dataclass
class Identity:
    name: str
    client: object
    token: str | None = None  # a bearer token for the API
    signed_in: bool = False  # a browser session
    token_valid: bool = False
    csrf: str = ""


def _browser(app, email: str | None):
    client = app.test_client()
    client.set_cookie("lang", "en")
    if email:
        login(client, email)
    page = "/organiser/" if email else "/login"
    return client, csrf_from(client.get(page).get_data(as_text=True))


def _token(app, email: str, revoked: bool = False) -> str:
    with app.app_context():
        user = db.session.scalar(db.select(accounts.User).filter_by(email=email))
        token, _row = accounts.issue_token(user)
        if revoked:
            accounts.revoke_token(token)
        return token


def _outsiders(app, factory, scene: Scene) -> list[Identity]:
    """Staff of org A assigned to A's OTHER event, and an organiser of organisation B."""
    other_event = factory.event(title="甲局另一场开放日")
    staff_id, staff_email = factory.user("staff")
    with app.app_context():
        db.session.add(StaffAssignment(user_id=staff_id, event_id=other_event))
        db.session.commit()
    _b_id, b_email = factory.user("organiser", org="嘉定区市场监督管理局", district="嘉定区")
    factory.event(org_name="嘉定区市场监督管理局", title="嘉定开放日", district="嘉定区")
    identities = []
    client, token = _browser(app, None)
    identities.append(Identity("anonymous", client, csrf=token))
    for label, email in (("staff of another event", staff_email),
                         ("organiser of another organisation", b_email)):
        client, csrf = _browser(app, email)
        identities.append(Identity(label, client, signed_in=True, csrf=csrf))
        client, csrf = _browser(app, None)
        identities.append(Identity(f"API token of {label}", client, csrf=csrf,
                                   token=_token(app, email), token_valid=True))
    client, csrf = _browser(app, None)
    identities.append(Identity("revoked token of A's organiser", client, csrf=csrf,
                               token=_token(app, scene.organiser_email, revoked=True)))
    return identities


# --- walking the url_map -----------------------------------------------------------------------


@dataclass
class Call:
    rule: Rule
    method: str
    path: str

    @property
    def api(self) -> bool:
        return self.rule.rule.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.rule.endpoint})"


def back_office_rules(app) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith(PREFIXES)),
                  key=lambda r: r.rule)


def calls(app, scene: Scene, problems: list[str]) -> list[Call]:
    """Every (rule, method, filled URL); revoking a token comes last, as it ends that token."""
    found = []
    for rule in back_office_rules(app):
        missing = sorted(a for a in rule.arguments if a not in FILLERS)
        if missing:
            problems.append(f"{rule.rule}: no filler for {missing}; add one to FILLERS")
            continue
        paths = _paths(rule, scene)
        if not paths:
            problems.append(f"{rule.rule}: none of the fillers builds a URL")
        for method in sorted(rule.methods - SKIPPED_METHODS):
            found += [Call(rule, method, path) for path in paths]
    return sorted(found, key=lambda c: c.rule.endpoint == "api.revoke_token")


def _paths(rule: Rule, scene: Scene) -> list[str]:
    combos: list[dict] = [{}]
    for argument in sorted(rule.arguments):
        combos = [{**c, argument: v} for c in combos for v in FILLERS[argument](scene)]
    paths = []
    for values in combos:
        built = rule.build(values, append_unknown=False)
        if built is not None:
            paths.append(built[1])
    return paths


def send(identity: Identity, call: Call, scene: Scene):
    headers = {}
    if identity.token:
        headers["Authorization"] = f"Bearer {identity.token}"
    if call.method == "GET":
        query = {"session_id": scene.session_id, "q": FAMILIES[0][0][:2]}
        return identity.client.get(call.path, query_string=query, headers=headers)
    if call.api:
        headers["X-CSRFToken"] = identity.csrf  # the door page's way in with a session cookie
        return identity.client.open(call.path, method=call.method, json=_json_body(scene),
                                    headers=headers)
    data = {"csrf_token": identity.csrf, **_form_body(scene)}
    return identity.client.open(call.path, method=call.method, data=data, headers=headers)


def snapshot(app, scene: Scene) -> dict:
    """What an intruder could change: row counts, statuses, places and tallies."""
    with app.app_context():
        counted = (Registration, Admission, Tally, AuditEntry, Event, EventSession, Question,
                   Answer, Checkpoint, Notification, StaffAssignment, DoorScan)
        state = {m.__name__: db.session.scalar(db.select(db.func.count()).select_from(m))
                 for m in counted}
        state["events"] = db.session.execute(
            db.select(Event.id, Event.status, Event.title).order_by(Event.id)).all()
        state["places"] = db.session.execute(
            db.select(EventSession.id, EventSession.places_taken, EventSession.capacity)
            .order_by(EventSession.id)
        ).all()
        state["registrations"] = db.session.execute(
            db.select(Registration.id, Registration.status, Registration.admitted_people,
                      Registration.party_size).order_by(Registration.id)).all()
        state["tallies"] = db.session.execute(
            db.select(Tally.id, Tally.name, Tally.count).order_by(Tally.id)).all()
        state["A's audit entries"] = db.session.scalar(
            db.select(db.func.count(AuditEntry.id)).where(AuditEntry.event_id == scene.event_id))
        state["tokens revoked"] = db.session.execute(
            db.select(ApiToken.id, ApiToken.revoked_at).order_by(ApiToken.id)).all()
        db.session.remove()
        return state


def expected(identity: Identity, call: Call) -> set[int] | None:
    """The statuses allowed; None: any answer but a server error (still no leak, no change)."""
    endpoint = call.rule.endpoint
    if endpoint in PUBLIC:
        return None
    if call.api:
        if identity.token and not identity.token_valid and endpoint not in TOKENLESS:
            return {401}  # a bad token is a 401 even where a visitor would get in
        authenticated = identity.token_valid or identity.signed_in
    else:
        authenticated = identity.signed_in
        if not authenticated:
            return {401}
    if authenticated and endpoint in OWN_THINGS:
        return None
    return DENIED


def check(identity: Identity, call: Call, scene: Scene, app, problems: list[str]) -> None:
    before = snapshot(app, scene)
    response = send(identity, call, scene)
    allowed = expected(identity, call)
    status = response.status_code
    where = f"{identity.name}: {call} → {status}"
    if status >= 500 or (allowed is not None and status not in allowed):
        problems.append(f"{where}, expected {sorted(allowed or [])} or no server error")
    body = response.get_data().decode("utf-8", "replace") + response.headers.get("Location", "")
    if response.is_json:  # JSON escapes Chinese as \uXXXX: look at the decoded text too
        body += json.dumps(response.get_json(silent=True), ensure_ascii=False)
    leaked = [secret for secret in scene.secrets if secret in body]
    if leaked:
        problems.append(f"{where} leaked {leaked}")
    if (not identity.signed_in and not identity.token_valid and not call.api
            and status == 401 and 'action="/login"' not in body):
        problems.append(f"{where} without the sign-in form")
    after = snapshot(app, scene)
    if call.rule.endpoint == "api.revoke_token" and identity.token_valid:
        before.pop("tokens revoked"), after.pop("tokens revoked")  # its own token: allowed
    if call.rule.endpoint in WRITES_FOR_THE_CALLER and status < 400:
        table = WRITES_FOR_THE_CALLER[call.rule.endpoint]
        before.pop(table), after.pop(table)
    if call.rule.endpoint in OWN_THINGS and status < 400:
        # Exporting one's own dashboard is audited: an entry, but none about A's event.
        before.pop("AuditEntry"), after.pop("AuditEntry")
    if after != before:
        changed = [k for k in before if before[k] != after[k]]
        problems.append(f"{where} changed {changed}")


# --- the tests ---------------------------------------------------------------------------------


@pytest.fixture
def scene(app, factory) -> Scene:
    return _seed(app, factory)


def test_no_outsider_reaches_another_organisations_event(app, factory, scene):
    problems: list[str] = []
    walked = calls(app, scene, problems)
    for identity in _outsiders(app, factory, scene):
        for call in walked:
            check(identity, call, scene, app, problems)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_the_matrix_walks_every_back_office_route(app, scene):
    problems: list[str] = []
    walked = calls(app, scene, problems)
    assert not problems, "\n".join(problems)
    assert {c.rule.rule for c in walked} == {r.rule for r in back_office_rules(app)}
    assert len(back_office_rules(app)) >= 35


def test_the_fillers_point_at_real_objects_the_owner_may_open(app, factory, scene):
    """The positive control: A's own organiser gets every page and GET of the API (the city's
    campaign office, for the pages only it has, such as the outbox)."""
    _admin_id, admin_email = factory.user("admin")
    owners = [Identity(who, _browser(app, email)[0], token=_token(app, email), signed_in=True,
                       token_valid=True)
              for who, email in (("A's organiser", scene.organiser_email),
                                 ("the campaign office", admin_email))]
    problems: list[str] = []
    for call in calls(app, scene, problems):
        if call.method != "GET":
            continue
        statuses = [send(owner, call, scene).status_code for owner in owners]
        if all(status in DENIED or status >= 500 for status in statuses):
            problems.append(f"{call} → {statuses}")
    assert not problems, "\n".join(problems)


def test_a_visitor_signs_in_on_the_401_page_and_lands_where_they_were_going(app, scene):
    client = app.test_client()
    page = client.get(f"/organiser/events/{scene.event_id}/registrants?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 401 and SECRET_TITLE not in html
    assert f'value="/organiser/events/{scene.event_id}/registrants?lang=en"' in html
    response = client.post("/login", data={
        "csrf_token": csrf_from(html), "email": scene.organiser_email,
        "password": "correct horse battery",
        "next": f"/organiser/events/{scene.event_id}/registrants?lang=en"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organiser/events/{scene.event_id}/registrants?lang=en"
    assert FAMILIES[0][0] in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_api_still_answers_a_visitor_in_json(client, scene):
    response = client.get(f"/api/v1/events/{scene.event_id}/attendance")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
