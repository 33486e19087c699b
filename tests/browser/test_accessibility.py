"""WCAG 2.1 AA on a phone: axe-core (pinned in package.json, from the npm registry, never served
to citizens) runs over the main public, door and organiser pages and any violation fails; and
every tap target is at least 44 × 44 CSS pixels."""
from __future__ import annotations

from pathlib import Path

import pytest

from ..test_door_pages import door_scene, scanner_url
from ..test_ticket_pages import register as register_ticket
from .conftest import phone_page, screenshot
from .test_door_wedge import sign_in, wait_until

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MIN_TARGET = 44  # CSS pixels, WCAG 2.5.5 (AAA) as the issue asks, for every control
# What is exempt from the size rule (WCAG 2.5.5's own exceptions): a link inside a sentence or a
# paragraph of text ("inline"), and the skip link, which is off screen until focused.
TARGETS = """() => {
  const found = [];
  for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, summary, textarea, label.check')) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === 'hidden' || style.opacity === '0') continue;
    if (box.right <= 0 || box.bottom <= 0) continue;  // off screen (a form's default button)
    if (el.classList.contains('skip') || el.closest('.visually-hidden')) continue;
    if (el.type === 'checkbox' || el.type === 'radio') continue;  // their label is the target
    if (el.tagName === 'A' && style.display === 'inline' && el.closest('p, li, dd, figcaption')
        && !el.closest('footer, .door-where, .back, .office-back')
        && el.parentElement.textContent.trim() !== el.textContent.trim()) continue;  // in a sentence
    if (box.height < 44 || box.width < 44) found.push(
      `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${el.textContent.trim().slice(0, 30)}" ${Math.round(box.width)}×${Math.round(box.height)}`);
  }
  return found;
}"""


@pytest.fixture
def checked(browser, live_server):
    """A phone whose pages axe can be injected into (the CSP forbids inline scripts, so this
    context alone bypasses it), every request kept on 127.0.0.1."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed: make install runs npm ci")
    with phone_page(browser, live_server, device_scale_factor=1, bypass_csp=True) as page:
        yield page


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async (tags) => {
      const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
      return {passes: result.passes.length, violations: result.violations.map((v) =>
        `${v.id} (${v.impact}): ${v.help} — ` +
        v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | '))};
    }""", WCAG_AA)
    assert found["passes"] > 10, "axe ran no rules: is it the real axe-core?"
    return found["violations"]


def audit(page, path: str, name: str, problems: list[str]) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    for found in violations(page):
        problems.append(f"{path}: {found}")
    for small in page.evaluate(TARGETS):
        problems.append(f"{path}: tap target too small: {small}")
    screenshot(page, f"a11y-{name}")


def test_public_pages_pass_axe_and_have_thumb_sized_targets(app, factory, checked):
    code, _session = register_ticket(app, factory)
    event_id = factory.event(title="普陀区家庭探寻质量发展之旅", kind="family_tour",
                             checkpoints=["上海纺织博物馆", "英雄金笔厂"])
    problems: list[str] = []
    with app.app_context():
        from qmevents.extensions import db
        from qmevents.models import EventSession
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))
    for path, name in (("/", "index"), (f"/events/{event_id}", "event"),
                       (f"/events/{event_id}/sessions/{session_id}/register", "register"),
                       (f"/t/{code}", "ticket"), (f"/t/{code}/change", "change"),
                       (f"/t/{code}/cancel", "cancel"), ("/my-tickets", "my-tickets"),
                       ("/privacy", "privacy"), ("/login", "login")):
        audit(checked, path, name, problems)
    assert not problems, "\n".join(problems)


def test_door_pages_pass_axe_and_have_thumb_sized_targets(app, factory, checked):
    scene = door_scene(app, factory)
    sign_in(checked, scene.staff_email)
    problems: list[str] = []
    audit(checked, "/door/", "door-index", problems)
    checked.goto(scanner_url(scene))
    wait_until(checked, "window.qmDoor !== undefined")
    for found in violations(checked):
        problems.append(f"scanner: {found}")
    for small in checked.evaluate(TARGETS):
        problems.append(f"scanner: tap target too small: {small}")
    screenshot(checked, "a11y-door-scanner")
    audit(checked, f"/door/events/{scene.event_id}/kiosk", "door-kiosk", problems)
    assert not problems, "\n".join(problems)


def test_organiser_pages_pass_axe_and_have_thumb_sized_targets(app, factory, checked):
    code, _session = register_ticket(app, factory)
    _user, email = factory.user("organiser")
    sign_in(checked, email)
    with app.app_context():
        from qmevents.extensions import db
        from qmevents.models import Registration
        event_id = db.session.scalar(db.select(Registration.event_id).filter_by(code=code))
    problems: list[str] = []
    for path, name in (("/organiser/", "events"), (f"/organiser/events/{event_id}", "event"),
                       (f"/organiser/events/{event_id}/edit", "form"),
                       (f"/organiser/events/{event_id}/registrants", "registrants"),
                       (f"/organiser/events/{event_id}/report", "report"),
                       (f"/organiser/events/{event_id}/hotline", "hotline"),
                       ("/organiser/dashboard", "dashboard")):
        audit(checked, path, name, problems)
    assert not problems, "\n".join(problems)
