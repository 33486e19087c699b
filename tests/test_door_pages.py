"""The door pages (qmevents/door/): the list of where to scan, the scanner page and its plain form
that works without JavaScript, and the admit block staff see on a ticket page."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from qmevents.extensions import db
from qmevents.models import Admission, Registration, StaffAssignment
from qmevents.services import events
from qmevents.services.door import desk as door
from qmevents.services.registrations import register as registrations
from qmevents.timeutil import utcnow

from .conftest import PASSWORD, csrf_from, login, submit

FAMILIES = (("王芳", "13800001234", 3), ("李强", "13900005678", 1), ("张伟", "13700009012", 2))


@dataclass
class Door:
    """An event starting in 20 minutes, its staff member and the tickets of a few families."""

    event_id: int
    session_id: int
    entrance_id: int
    staff_email: str
    codes: dict[str, str] = field(default_factory=dict)  # name → ticket code
    later_session_id: int | None = None  # the same event two days on, when asked for


def door_scene(app, factory, *, tallies=("血压测量", "资料发放"), checkpoints=("入口",),
               families=FAMILIES, title="威派格智慧水务质量开放日", capacity=40,
               mode="fcfs", later_session=False) -> Door:
    """Arrange through the services, as the app would: publish, register, assign staff."""
    start = (utcnow() + timedelta(minutes=20)).replace(second=0, microsecond=0)
    sessions = [events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=3),
                                    capacity=capacity)]
    if later_session:
        # Two days on, not one: a session just after midnight (Shanghai) opens its door the
        # evening before, which is today when this runs between 00:00 and 00:40 there.
        sessions.append(events.SessionDraft(starts_at=start + timedelta(days=2),
                                            ends_at=start + timedelta(days=2, hours=3),
                                            capacity=capacity))
    event_id = factory.event(title=title, sessions=sessions, checkpoints=list(checkpoints),
                             tallies=list(tallies), registration_mode=mode)
    staff_id, staff_email = factory.user("staff")
    with app.test_request_context():
        event = db.session.get(events.Event, event_id)
        scene = Door(event_id=event_id, session_id=event.sessions[0].id,
                     entrance_id=event.entrance.id, staff_email=staff_email,
                     later_session_id=event.sessions[1].id if later_session else None)
        db.session.add(StaffAssignment(user_id=staff_id, event_id=event_id))
        db.session.commit()
    for name, phone, party in families:
        register(app, scene, name, phone, party)
    return scene


def register(app, scene: Door, name: str, phone: str, party: int,
             session_id: int | None = None) -> str:
    """One more family registers (for the later session when asked); its ticket code."""
    with app.test_request_context():
        done = registrations.register(registrations.RegistrationRequest(
            event_id=scene.event_id, session_id=session_id or scene.session_id, name=name,
            phone=phone, party_size=party, consent=True))
    scene.codes[name] = done.code
    return done.code


def admitted(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(
            db.select(Registration.admitted_people).where(Registration.code == code))


def scanner_url(scene: Door) -> str:
    return f"/door/events/{scene.event_id}?session_id={scene.session_id}"


def post_code(client, scene: Door, code: str, **extra):
    """The scanner page's plain form, as a browser without JavaScript sends it."""
    data = {"code": code, "session_id": scene.session_id, "checkpoint_id": scene.entrance_id}
    data.update(extra)
    return submit(client, f"/door/events/{scene.event_id}", data, page=scanner_url(scene))


@pytest.fixture
def scene(app, factory, client) -> Door:
    scene = door_scene(app, factory)
    client.set_cookie("lang", "en")
    login(client, scene.staff_email)
    return scene


# --- where to scan --------------------------------------------------------------------------


def test_staff_see_their_event_with_todays_session_and_a_scanner_link(scene, client):
    page = client.get("/door/").get_data(as_text=True)
    assert "威派格智慧水务质量开放日" in page
    assert f'action="/door/events/{scene.event_id}"' in page
    assert f'name="session_id" value="{scene.session_id}"' in page


def test_staff_do_not_see_events_they_are_not_assigned_to(app, factory, scene, client):
    other = factory.event(title="另一家企业开放日", org_name="嘉定区市场监督管理局", district="嘉定区")
    assert "另一家企业开放日" not in client.get("/door/").get_data(as_text=True)
    assert client.get(f"/door/events/{other}").status_code == 404


def test_a_tour_offers_a_choice_of_station(app, factory, client):
    tour = door_scene(app, factory, checkpoints=("入口", "展厅", "实验室"), families=())
    login(client, tour.staff_email)
    page = client.get("/door/").get_data(as_text=True)
    assert 'name="checkpoint_id"' in page and "实验室" in page


def test_the_door_asks_to_sign_in(client):
    response = client.get("/door/")
    assert response.status_code == 401 and 'action="/login"' in response.get_data(as_text=True)


def test_a_session_of_another_event_is_not_found(app, factory, scene, client):
    other = door_scene(app, factory, title="另一场开放日", families=())
    assert client.get(f"/door/events/{scene.event_id}?session_id={other.session_id}").status_code == 404
    assert client.get(f"/door/events/{scene.event_id}?checkpoint_id=abc").status_code == 404


# --- the scanner page -----------------------------------------------------------------------


def test_the_scanner_page_has_camera_field_photo_and_no_inline_script(scene, client):
    page = client.get(scanner_url(scene)).get_data(as_text=True)
    video = re.search(r"<video[^>]*>", page).group(0)
    assert all(word in video for word in ("playsinline", "muted", "autoplay"))
    field_tag = re.search(r'<input id="door-code"[^>]*>', page).group(0)
    for attribute in ('autocomplete="off"', 'autocapitalize="off"',
                      'spellcheck="false"', 'inputmode="text"'):
        assert attribute in field_tag
    assert "autofocus" not in field_tag  # a phone's keyboard would cover the camera
    assert re.search(r'type="file" accept="image/\*" capture="environment"', page)
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', page)
    for script in re.findall(r"<script[^>]*>", page):
        assert "src=" in script or 'type="application/json"' in script, script


def test_the_page_hands_its_script_ids_addresses_and_words(scene, client):
    page = client.get(scanner_url(scene)).get_data(as_text=True)
    config = json.loads(re.search(
        r'<script type="application/json" id="door-config">(.*?)</script>', page, re.S).group(1))
    assert config["eventId"] == scene.event_id and config["sessionId"] == scene.session_id
    assert config["checkpointId"] == scene.entrance_id
    # Built by the API blueprint's own routes (url_for); the script fills in {id}.
    event = f"/api/v1/events/{scene.event_id}"
    assert config["urls"] == {
        "checkin": "/api/v1/checkins", "undo": "/api/v1/checkins/{id}/undo",
        "attendance": f"{event}/attendance?session_id={scene.session_id}",
        "walkIns": f"{event}/walk-ins", "walkOuts": f"{event}/walk-outs", "bump": f"{event}/tallies/{{id}}/bump",
        "search": f"{event}/search", "vendor": "/static/vendor/",
        # The door by itself (static/js/door/offline.js): its ticket list and its queue's batch.
        "doorList": f"{event}/door-list", "batch": "/api/v1/checkins/batch",
    }
    assert config["checkpointDirection"] == "in" and config["station"] is False
    assert config["offline"]["offline"] == "Offline"
    assert config["undoSeconds"] == 300
    assert config["text"]["results"]["already_admitted"] == "Already admitted"


def test_the_live_figures_on_the_page_are_the_services(app, scene, client):
    post_code(client, scene, scene.codes["王芳"])
    page = client.get(scanner_url(scene)).get_data(as_text=True)
    with app.app_context():
        figures = door.attendance(scene.event_id, scene.session_id)
    assert figures.admitted_people == 3 and figures.registered_people == 6
    for name in ("admitted_people", "registered_people", "admitted_parties",
                 "registered_parties", "walk_in_people"):
        shown = re.search(rf'data-figure="{name}">(\d+)<', page).group(1)
        assert int(shown) == getattr(figures, name), name
    assert "血压测量" in page and "资料发放" in page


# --- typed codes without JavaScript ---------------------------------------------------------


def test_a_typed_code_admits_the_whole_party(app, scene, client):
    response = post_code(client, scene, scene.codes["王芳"])
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "tone-ok" in page and "Admitted" in page and "3 people" in page
    assert "138****1234" in page and "13800001234" not in page
    assert admitted(app, scene.codes["王芳"]) == 3


def test_a_typed_ticket_address_works_like_the_code(app, scene, client):
    code = scene.codes["李强"]
    post_code(client, scene, f"https://qm.example.cn/t/{code}")
    assert admitted(app, code) == 1


def test_the_same_code_twice_is_already_admitted(app, scene, client):
    post_code(client, scene, scene.codes["李强"])
    page = post_code(client, scene, scene.codes["李强"].lower()).get_data(as_text=True)
    assert "tone-warn" in page and "Already admitted" in page
    assert scene.staff_email in page  # by whom
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Admission.id))) == 1


def test_part_of_a_family_now_and_the_rest_later(app, scene, client):
    code = scene.codes["王芳"]
    page = post_code(client, scene, code, people="2").get_data(as_text=True)
    assert "2 people" in page and admitted(app, code) == 2
    page = post_code(client, scene, code).get_data(as_text=True)
    assert "1 person" in page and admitted(app, code) == 3


@pytest.mark.parametrize("scan", ["", "hello world", "X" * 5000, "\x00\x01\x02\xff",
                                  "WIFI:S:guest;T:WPA;P:secret;;", "<script>alert(1)</script>"])
def test_garbage_gets_an_answer_on_screen_never_an_error(app, scene, client, scan):
    response = post_code(client, scene, scan)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "tone-bad" in page and "Unknown code" in page
    assert "<script>alert" not in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Admission.id))) == 0


@pytest.mark.parametrize("people", ["abc", "3", "0", "-1", "99999"])
def test_a_wrong_number_of_people_is_refused_with_a_message(app, scene, client, people):
    response = post_code(client, scene, scene.codes["张伟"], people=people)  # a party of 2
    assert response.status_code == 422
    assert "tone-bad" in response.get_data(as_text=True)
    assert admitted(app, scene.codes["张伟"]) == 0


def test_the_answer_page_keeps_the_form_for_the_next_scan(scene, client):
    page = post_code(client, scene, scene.codes["李强"]).get_data(as_text=True)
    assert 'id="door-code"' in page and "autofocus" in page
    assert csrf_from(page)


# --- the ticket page for staff --------------------------------------------------------------


def test_staff_of_the_event_can_admit_from_the_ticket_page(app, scene, client):
    code = scene.codes["张伟"]
    page = client.get(f"/t/{code}").get_data(as_text=True)
    assert "Admit at the door" in page
    assert f'action="/door/events/{scene.event_id}"' in page
    response = submit(client, f"/door/events/{scene.event_id}", {"code": code, "people": "1"},
                      page=f"/t/{code}")
    assert "Admitted" in response.get_data(as_text=True)
    assert admitted(app, code) == 1
    page = client.get(f"/t/{code}").get_data(as_text=True)
    assert "Inside: 1 of 2 people." in page


def test_citizens_see_their_ticket_without_the_door_block(app, factory):
    scene = door_scene(app, factory)
    citizen = app.test_client()
    citizen.set_cookie("lang", "en")
    page = citizen.get(f"/t/{scene.codes['王芳']}").get_data(as_text=True)
    assert "Show this QR code at the entrance" in page
    assert "Admit at the door" not in page


def test_staff_of_another_event_see_the_ticket_only(app, factory, scene, client):
    other = door_scene(app, factory, title="另一场开放日", families=())
    stranger = app.test_client()
    stranger.set_cookie("lang", "en")
    login(stranger, other.staff_email, PASSWORD)
    page = stranger.get(f"/t/{scene.codes['王芳']}").get_data(as_text=True)
    assert "Admit at the door" not in page


# --- the decoder comes from our own server --------------------------------------------------


def test_the_decoder_and_its_licences_are_served_from_static_vendor(client):
    script = client.get("/static/vendor/barcode-detector/ponyfill.js")
    assert script.status_code == 200, "run `make install`: it vendors the npm packages"
    assert "javascript" in script.content_type
    wasm = client.get("/static/vendor/zxing-wasm/zxing_reader.wasm")
    assert wasm.status_code == 200 and wasm.content_type == "application/wasm"
    assert wasm.data[:4] == b"\0asm"
    for path in ("barcode-detector/LICENSE", "zxing-wasm/LICENSE", "zxing-wasm/NOTICE",
                 "zxing-wasm/LICENSE-zxing-cpp"):
        assert client.get(f"/static/vendor/{path}").status_code == 200, path


# --- the install step that vendors the decoder (scripts/vendor.py) --------------------------


def vendor_script():
    path = Path(__file__).resolve().parents[1] / "scripts" / "vendor.py"
    spec = importlib.util.spec_from_file_location("vendor_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_node_modules(root: Path, wasm: bytes, expected_sha: str) -> None:
    """What `npm ci` leaves: the two packages, the decoder naming the wasm it was built for."""
    files = {
        "barcode-detector/package.json": '{"version": "9.9.9"}',
        "barcode-detector/dist/es/ponyfill.js": 'export * from "./zxing-exported.js";',
        "barcode-detector/dist/es/zxing-exported.js": f'var fe = "{expected_sha}";',
        "barcode-detector/LICENSE": "MIT",
        "zxing-wasm/package.json": '{"version": "8.8.8"}',
        "zxing-wasm/LICENSE": "MIT",
    }
    for name, content in files.items():
        path = root / "node_modules" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    wasm_path = root / "node_modules/zxing-wasm/dist/reader/zxing_reader.wasm"
    wasm_path.parent.mkdir(parents=True)
    wasm_path.write_bytes(wasm)


def test_the_install_copies_the_decoder_its_wasm_and_the_licences(tmp_path):
    wasm = b"\0asm fake"
    fake_node_modules(tmp_path, wasm, hashlib.sha256(wasm).hexdigest())
    vendor_script().vendor(tmp_path)
    out = tmp_path / "static" / "vendor"
    assert (out / "zxing-wasm/zxing_reader.wasm").read_bytes() == wasm
    assert "Apache License" in (out / "zxing-wasm/LICENSE-zxing-cpp").read_text()
    assert "ZXing authors" in (out / "zxing-wasm/NOTICE").read_text()
    assert (out / "barcode-detector/ponyfill.js").exists()
    assert json.loads((out / "versions.json").read_text())["zxing-wasm"] == "8.8.8"


def test_the_install_refuses_a_wasm_the_decoder_was_not_built_for(tmp_path):
    fake_node_modules(tmp_path, b"\0asm other", hashlib.sha256(b"expected").hexdigest())
    script = vendor_script()
    with pytest.raises(script.VendorError):
        script.vendor(tmp_path)
    assert not (tmp_path / "static" / "vendor" / "zxing-wasm").exists()
