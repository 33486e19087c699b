"""The ticket a citizen opens from the SMS link: the page, the QR PNG, the PDF to print, the
calendar entry, and cancelling with a confirmation. The code in the URL is a secret."""
from __future__ import annotations

import io
import re
import shutil
import subprocess

import icalendar
import pytest
from PIL import Image
from sqlalchemy import select, update

from qmevents.extensions import db
from qmevents.models import EventSession, Notification, Registration, RegistrationStatus
from qmevents.services.registrations import register as reg

from .conftest import csrf_from, submit

PHONE = "13812345678"
TITLE = "威派格智慧水务质量开放日"


@pytest.fixture
def en(client):
    client.set_cookie("lang", "en")
    return client


def register(app, factory, **overrides) -> tuple[str, int]:
    """张伟's family of three at the open day: (ticket code, session id)."""
    event_id = factory.event(title=TITLE, venue="威派格智慧水务", address="上海市嘉定区恒定路1号",
                             **overrides)
    with app.test_request_context("/"):
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
        code = reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="张伟", phone=PHONE, party_size=3,
            consent=True)).code
    return code, session_id


@pytest.fixture
def ticket(app, factory) -> str:
    return register(app, factory)[0]


def places_taken(app, session_id: int) -> int:
    with app.app_context():
        return db.session.get(EventSession, session_id).places_taken


def assert_personal(response) -> None:
    assert "private" in response.headers["Cache-Control"]
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert response.headers["Referrer-Policy"] == "same-origin"


# --- the page -------------------------------------------------------------------------------


def test_the_ticket_shows_what_where_when_and_whose_with_the_phone_masked(en, ticket):
    response = en.get(f"/t/{ticket}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for shown in (TITLE, "Enterprise open day", "威派格智慧水务", "上海市嘉定区恒定路1号",
                  "3 people", "Confirmed", "张伟", "138****5678",
                  " ".join(ticket[i:i + 4] for i in range(0, 20, 4))):
        assert shown in page, shown
    assert PHONE not in page


def test_the_ticket_page_is_private_to_the_browser(en, ticket):
    assert_personal(en.get(f"/t/{ticket}"))


def test_the_qr_is_an_image_described_for_screen_readers(en, ticket):
    """An <img> (WeChat's long press reads and saves images only), with its alt text."""
    page = en.get(f"/t/{ticket}").get_data(as_text=True)

    assert re.search(rf'<img class="qr" src="/t/{ticket}/qr.png" [^>]*alt="[^"]+">', page)


def test_a_code_typed_in_lower_case_with_dashes_opens_the_same_ticket(en, ticket):
    typed = "-".join(ticket[i:i + 4] for i in range(0, 20, 4)).lower()

    assert "138****5678" in en.get(f"/t/{typed}").get_data(as_text=True)


def test_the_downloads_are_offered(en, ticket):
    page = en.get(f"/t/{ticket}").get_data(as_text=True)

    for link in ("qr.png", "ticket.pdf", "calendar.ics", "cancel"):
        assert f'href="/t/{ticket}/{link}"' in page


# --- wrong codes ----------------------------------------------------------------------------


def test_wrong_and_truncated_codes_get_the_same_friendly_404(en, ticket):
    wrong = ticket[:-1] + ("0" if ticket[-1] != "0" else "1")
    pages = []
    for code in (ticket[:-1], wrong, ticket[:8], "x" * 300):
        response = en.get(f"/t/{code}")
        assert response.status_code == 404
        assert "no-store" in response.headers["Cache-Control"]
        page = response.get_data(as_text=True)
        assert "No ticket has this code." in page
        assert ticket not in page and "张伟" not in page and "138****5678" not in page
        pages.append(page.replace(f"/t/{code}", ""))  # the language links repeat the address
    assert len(set(pages)) == 1  # nothing tells a near miss from a wild guess


@pytest.mark.parametrize("path", ["qr.png", "ticket.pdf", "calendar.ics", "cancel"])
def test_the_downloads_of_a_wrong_code_are_404_too(en, ticket, path):
    assert en.get(f"/t/{ticket[:-2]}/{path}").status_code == 404


# --- the QR, the PDF and the calendar entry --------------------------------------------------


def test_the_qr_png_is_a_png_kept_by_the_browser_for_good(en, ticket):
    response = en.get(f"/t/{ticket}/qr.png")

    assert response.status_code == 200 and response.mimetype == "image/png"
    assert Image.open(io.BytesIO(response.data)).format == "PNG"
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response.headers["ETag"]
    assert_personal(response)


def test_a_browser_that_has_the_qr_gets_a_304_without_the_image(en, ticket):
    etag = en.get(f"/t/{ticket}/qr.png").headers["ETag"]

    again = en.get(f"/t/{ticket}/qr.png", headers={"If-None-Match": etag})

    assert again.status_code == 304 and again.data == b""


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_the_pdf_ticket_is_a_pdf_to_download_that_shows_the_title(en, ticket, tmp_path):
    response = en.get(f"/t/{ticket}/ticket.pdf")

    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="qmevents-ticket-{ticket}.pdf"')
    assert response.headers["Cache-Control"] == "private, no-cache"
    path = tmp_path / "ticket.pdf"
    path.write_bytes(response.data)
    shown = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert TITLE in "".join(shown.split())


def test_the_calendar_entry_parses_and_links_the_ticket(en, ticket):
    response = en.get(f"/t/{ticket}/calendar.ics")

    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="qmevents-ticket-{ticket}.ics"')
    entry = icalendar.Calendar.from_ical(response.data).walk("VEVENT")[0]
    assert str(entry["summary"]) == TITLE
    assert str(entry["url"]) == f"http://localhost/t/{ticket}"
    assert_personal(response)


def test_the_qr_holds_the_public_address_when_one_is_configured(app, en, ticket):
    app.config["PUBLIC_URL"] = "https://zlj.example.cn/"

    entry = icalendar.Calendar.from_ical(en.get(f"/t/{ticket}/calendar.ics").data)

    assert str(entry.walk("VEVENT")[0]["url"]) == f"https://zlj.example.cn/t/{ticket}"


# --- cancelling -----------------------------------------------------------------------------


def test_cancelling_asks_first_then_frees_the_places_and_shows_the_ticket_cancelled(
    app, en, factory
):
    code, session_id = register(app, factory)

    asked = en.get(f"/t/{code}/cancel")
    assert asked.status_code == 200
    assert "Cancel this registration?" in asked.get_data(as_text=True)
    assert places_taken(app, session_id) == 3  # asking cancels nothing

    done = submit(en, f"/t/{code}/cancel", {})

    assert done.status_code == 303 and done.headers["Location"] == f"/t/{code}"
    assert places_taken(app, session_id) == 0
    page = en.get(f"/t/{code}").get_data(as_text=True)
    assert "Your registration is cancelled." in page
    assert '<p class="ticket-ended" role="status">Cancelled</p>' in page
    assert '<img class="qr"' not in page and "/qr.png" not in page


def test_a_cancelled_ticket_has_no_qr_or_pdf_to_download(app, en, ticket):
    submit(en, f"/t/{ticket}/cancel", {})

    assert en.get(f"/t/{ticket}/qr.png").status_code == 404
    assert en.get(f"/t/{ticket}/ticket.pdf").status_code == 404
    entry = icalendar.Calendar.from_ical(en.get(f"/t/{ticket}/calendar.ics").data)
    assert str(entry.walk("VEVENT")[0]["status"]) == "CANCELLED"  # updates the calendar


def test_cancelling_without_the_forms_token_cancels_nothing(app, en, factory):
    code, session_id = register(app, factory)

    response = en.post(f"/t/{code}/cancel")

    assert response.status_code == 400
    assert places_taken(app, session_id) == 3


def test_cancelling_twice_says_it_is_no_longer_active(app, en, factory):
    """Two taps on the button, or the form sent again from the browser's history."""
    code, session_id = register(app, factory)
    token = csrf_from(en.get(f"/t/{code}/cancel").get_data(as_text=True))
    en.post(f"/t/{code}/cancel", data={"csrf_token": token})

    again = en.post(f"/t/{code}/cancel", data={"csrf_token": token}, follow_redirects=True)

    assert "This registration is no longer active." in again.get_data(as_text=True)
    assert places_taken(app, session_id) == 0


def test_cancelling_sends_a_message_with_the_ticket_link(app, en, ticket):
    submit(en, f"/t/{ticket}/cancel", {})

    with app.app_context():
        kinds = dict(db.session.execute(select(Notification.kind, Notification.body)).all())
    assert f"http://localhost/t/{ticket}" in kinds["registration_cancelled"]


# --- tickets that wait for a place ----------------------------------------------------------


def test_a_waiting_ticket_shows_its_status_and_no_qr_yet(app, en, factory):
    code, _ = register(app, factory, registration_mode="lottery")

    page = en.get(f"/t/{code}").get_data(as_text=True)

    assert "Applied: awaiting a decision" in page
    assert "Your QR code appears here once you have a place." in page
    assert '<img class="qr"' not in page
    assert en.get(f"/t/{code}/qr.png").status_code == 404


def test_a_place_offered_from_the_waiting_list_asks_to_confirm_before_the_qr(app, en, factory):
    code, _ = register(app, factory, registration_mode="waitlist")
    with app.app_context():
        db.session.execute(update(Registration).values(status=RegistrationStatus.OFFERED))
        db.session.commit()

    page = en.get(f"/t/{code}").get_data(as_text=True)

    assert "Place offered: please confirm" in page and '<img class="qr"' not in page
