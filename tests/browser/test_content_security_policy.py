"""The Content-Security-Policy breaks nothing: in the real Chromium, the citizen's pages (list,
event, registering, ticket) and the door scanner reading a QR from the fake camera with our
WebAssembly decoder raise no policy violation and no script error."""
from __future__ import annotations

import pytest

from ..test_door_pages import admitted, door_scene, scanner_url
from .test_door_camera import camera_phone, ticket_qr, ticket_video  # noqa: F401 (fixture)
from .test_door_wedge import answer, sign_in

# Injected by the browser itself (not subject to the page's policy): every violation is kept.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watch:
    """What a page complains about: policy violations, console errors, uncaught exceptions."""

    def __init__(self, page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.context.add_init_script(WATCH)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"console: {text}")
        elif message.type == "error" and "Failed to load resource" not in text:
            self.problems.append(f"console error: {text}")

    def visit(self, path: str) -> None:
        response = self.page.goto(path)
        assert response is not None and "script-src" in response.headers[
            "content-security-policy"]
        self.check(path)

    def check(self, where: str) -> None:
        self.problems += [f"{where}: {v}" for v in self.page.evaluate("window.__violations")]
        assert not self.problems, "\n".join(self.problems)


def test_the_citizens_pages_and_registering_break_no_policy(app, factory, phone):
    scene = door_scene(app, factory)
    watch = Watch(phone)
    watch.visit("/")
    watch.visit(f"/events/{scene.event_id}")
    watch.visit(f"/events/{scene.event_id}/sessions/{scene.session_id}/register")

    phone.fill("input[name=name]", "赵敏")
    phone.fill("input[name=phone]", "13911112222")
    phone.check("input[name=consent]")
    phone.click("button.reg-submit")
    phone.wait_for_url("**/t/*")
    watch.check("the ticket after registering")  # the inline SVG QR, the page's own styles

    watch.visit(f"/t/{scene.codes['王芳']}")
    watch.visit("/my-tickets")
    watch.visit("/privacy")


@pytest.mark.parametrize("path", ["/login", "/no-such-page"])
def test_sign_in_and_error_pages_break_no_policy(phone, path):
    Watch(phone).visit(path)


def test_the_door_scanner_decodes_with_webassembly_under_the_policy(app, factory, live_server,
                                                                   tmp_path, camera_phone):  # noqa: F811
    open_phone, _requests = camera_phone
    scene = door_scene(app, factory)
    code = scene.codes["王芳"]
    page = open_phone(ticket_video(ticket_qr(f"{live_server}/t/{code}"), tmp_path / "qr.y4m"))
    watch = Watch(page)
    sign_in(page, scene.staff_email)
    watch.visit(scanner_url(scene))  # (no wait_for_function: Playwright evals its predicate)

    assert answer(page)["tone"] == "ok"
    assert admitted(app, code) == 3
    watch.check("the door scanner")
