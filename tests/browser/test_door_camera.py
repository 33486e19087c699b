"""The camera path: Chromium's fake camera shows a ticket QR made by the app itself to the door
page, which decodes it (with our own vendored decoder and its wasm, nothing from a CDN) and admits
the ticket. And the photo path WeChat's browser relies on: a picture of the QR, same answer."""
from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from qmevents.extensions import db
from qmevents.models import Admission
from qmevents.services import tickets

from ..test_door_pages import admitted, door_scene
from .conftest import CHROMIUM, PHONE
from .test_door_wedge import answer, open_scanner, shot, sign_in

WIDTH, HEIGHT = 640, 480


def ticket_qr(text: str) -> Image.Image:
    """A QR drawn by the app's own ticket service (the ticket page and the PDF carry the
    ticket's URL; some printed lists carry the bare code)."""
    return Image.open(io.BytesIO(tickets.qr_png(text))).convert("L")


def ticket_video(qr: Image.Image, path: Path) -> Path:
    """One 640×480 frame of YUV4MPEG2 (I420, BT.601 limited range) with the QR on white paper;
    Chromium loops it as its fake camera. Black and white: luma only, chroma neutral."""
    side = min(qr.width, HEIGHT - 40)
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(qr.resize((side, side), Image.Resampling.NEAREST),
                ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    luma = frame.point(lambda v: 16 + round(v * 219 / 255))  # full range → 16..235
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    path.write_bytes(b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n" + b"FRAME\n"
                     + luma.tobytes() + chroma + chroma)
    return path


@pytest.fixture
def camera_phone(browser, live_server, tmp_path):
    """A phone whose camera films the file written to `video`, in its own Chromium (the video is
    a launch flag); every request must stay on 127.0.0.1."""
    launched = []

    def open_phone(video: Path):
        chromium = browser.browser_type.launch(
            executable_path=CHROMIUM,
            args=["--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync",
                  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                  f"--use-file-for-fake-video-capture={video.resolve()}"],
        )
        launched.append(chromium)
        context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                       has_touch=True, locale="zh-CN", base_url=live_server)
        context.route("**/*", lambda route: guard(route, requests))
        return context.new_page()

    requests: dict[str, list[str]] = {"local": [], "escaped": []}
    yield open_phone, requests
    for chromium in launched:
        chromium.close()
    assert not requests["escaped"], f"requests left the machine: {requests['escaped']}"


def guard(route, requests) -> None:
    if urlsplit(route.request.url).hostname == "127.0.0.1":
        requests["local"].append(urlsplit(route.request.url).path)
        route.continue_()
    else:
        requests["escaped"].append(route.request.url)
        route.abort()


def test_the_camera_reads_a_ticket_qr_and_admits_it(app, factory, live_server, tmp_path,
                                                     camera_phone):
    open_phone, requests = camera_phone
    scene = door_scene(app, factory)
    code = scene.codes["王芳"]
    page = open_phone(ticket_video(ticket_qr(f"{live_server}/t/{code}"), tmp_path / "ticket.y4m"))
    sign_in(page, scene.staff_email)
    open_scanner(page, scene)

    result = answer(page)
    assert result["tone"] == "ok" and "3" in result["count"], result
    shot(page, "door-camera-admitted")
    assert admitted(app, code) == 3
    decoder = page.get_attribute("#door-video", "data-decoder")
    if decoder == "zxing":  # desktop Linux has no native detector: ours was used
        assert "/static/vendor/zxing-wasm/zxing_reader.wasm" in requests["local"]

    # The QR stays in front of the camera after the answer: it is not scanned again.
    page.wait_for_selector("#door-answer", state="hidden", timeout=5000)
    page.wait_for_timeout(1500)
    assert page.locator("#door-answer").is_hidden()
    shot(page, "door-camera-scanning")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Admission.id))) == 1


def test_a_photo_of_a_code_only_qr_admits_like_the_camera(app, factory, tmp_path,
                                                          camera_phone):
    """WeChat's browser: no camera stream, but `<input type=file capture>` takes a photo. This
    QR holds only the code, not the ticket's URL."""
    open_phone, _requests = camera_phone
    scene = door_scene(app, factory)
    code = scene.codes["李强"]
    blank = ticket_video(Image.new("L", (10, 10), 255), tmp_path / "blank.y4m")
    page = open_phone(blank)
    sign_in(page, scene.staff_email)
    open_scanner(page, scene)

    photo = Image.new("L", (1200, 1600), 250)  # a portrait phone photo of the ticket
    photo.paste(ticket_qr(code).rotate(8, expand=True, fillcolor=250), (300, 500))
    path = tmp_path / "photo.jpg"
    photo.convert("RGB").save(path, quality=85)
    page.set_input_files("#door-photo", str(path))

    result = answer(page)
    assert result["tone"] == "ok", result
    assert admitted(app, code) == 1
