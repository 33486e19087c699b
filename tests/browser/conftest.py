"""Real Chromium (Debian's, never a downloaded build) against the app served by a real HTTP server.

Every page is route-guarded: a request that leaves 127.0.0.1 fails the test, which proves nothing
comes from a CDN. Screenshots of key pages are kept under artifacts/screenshots/ to look at.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("QMEVENTS_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app):
    """The test's app on a free loopback port, threaded like a real server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized page in Chinese whose every request must stay on 127.0.0.1."""
    with phone_page(browser, live_server) as page:
        yield page


@contextmanager
def phone_page(browser, live_server, **options):
    """A phone-sized page in Chinese (`options` change the context: a user agent, a scale);
    any request that leaves 127.0.0.1 is refused and fails the test."""
    context = browser.new_context(**{
        "viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
        "locale": "zh-CN", "base_url": live_server, **options})
    escaped: list[str] = []

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            escaped.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    yield page
    context.close()
    assert not escaped, f"requests left the machine: {escaped}"


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
