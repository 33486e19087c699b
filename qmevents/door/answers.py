"""How the door shows an answer: the words the scanner's script needs (in the visitor's
language, handed to it as JSON) and the answer page of the plain form without JavaScript.

Both show the same things for the same result: a colour (tone), an icon, big words, the party.
The rules that decide the result live in services.door.checkin, not here."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from .. import labels
from ..models import RegistrationStatus
from ..services.door import ticket_list
from ..services.door.checkin import OVERRIDABLE, Result, ScanAnswer

# The colour of each result, for the page without JavaScript; static/js/door/answer.js has the
# same table for the scanner, and both follow checkin.Result (tests/test_layout.py).
TONES = {
    "admitted": "ok",
    "already_admitted": "warn",
    "not_confirmed": "wait",
    "unknown": "bad",
    "cancelled": "bad",
    "wrong_event": "bad",
    "wrong_session": "bad",
    "wrong_day": "bad",
    "not_yet_open": "wait",
    "exited": "ok",
    "over_capacity": "bad",
}


def result_titles() -> dict[str, str]:
    return {
        "admitted": _("Admitted"),
        "already_admitted": _("Already admitted"),
        "unknown": _("Unknown code"),
        "cancelled": _("Cancelled"),
        "not_confirmed": _("Not confirmed"),
        "wrong_event": _("Another event"),
        "wrong_session": _("Another session"),
        "wrong_day": _("Not today's session"),
        "not_yet_open": _("Admission not open yet"),
        "exited": _("Left"),
        "over_capacity": _("Safety cap reached"),
    }


def people(n: int) -> str:
    """"3人" / "3 people": the same two templates the script uses."""
    return (_("%(num)s person") if n == 1 else _("%(num)s people")).replace("%(num)s", str(n))


def client_text() -> dict[str, Any]:
    """Every sentence static/js/scanner.js may show, in the request's language."""
    return {
        "locale": "zh-CN" if str(get_locale() or "zh_CN").startswith("zh") else "en",
        "results": result_titles(),
        "statuses": {status.value: str(labels.REGISTRATION_STATUS[status])
                     for status in RegistrationStatus},
        "person": _("%(num)s person"),
        "people": _("%(num)s people"),
        "party": _("%(inside)s of %(total)s inside, %(remaining)s to come"),
        "admit_people": _("Admit %(people)s"),
        "fewer_label": _("How many people come in now?"),
        "fewer_confirm": _("Admit %(people)s instead"),
        "walk_in_admitted": _("Walk-in admitted"),
        "undone": _("Admission undone"),
        "not_undone": _("Not undone"),
        "not_recorded": _("Not recorded"),
        "not_a_code": _("Not a ticket code"),
        "not_read": _("Not read"),
        "overlong": _("This is far too long for a ticket code. Scan the ticket's QR code."),
        "ime": _("The keyboard is in Chinese input mode and changed the scan. Switch it to "
                 "English (英) and scan again."),
        "full_width": _("The keyboard typed full-width letters: switch the input method to "
                        "English (英) for the next scans."),
        "type_a_code": _("Scan a ticket or type its code first."),
        "no_qr_title": _("No QR code found"),
        "no_qr": _("No QR code could be read in this photo. Take it again, closer and sharper."),
        "photo_reading": _("Reading the photo…"),
        "camera_on": _("Point the camera at the ticket's QR code."),
        "camera_starting": _("Starting the camera…"),
        "camera_stopped": _("The camera is off."),
        "camera_start": _("Start camera"),
        "camera_stop": _("Stop camera"),
        "camera_insecure": _("The camera needs a secure (https) address on this phone. Use "
                             "“Photo”, a hand scanner or type the code."),
        "camera_denied": _("The camera was not allowed. Allow it in the browser's settings, "
                           "or use “Photo”, a hand scanner or type the code."),
        "camera_none": _("No camera was found. Use “Photo”, a hand scanner or type the code."),
        "camera_busy": _("Another app is using the camera. Close it, then start the camera "
                         "again."),
        "camera_failed": _("The camera could not be started. Use “Photo”, a hand scanner or "
                           "type the code."),
        "decoder_missing": _("The QR reader could not be loaded. Type the code or use a hand "
                             "scanner."),
        "offline": _("No connection to the server: nothing was recorded. Try again."),
        "signed_out": _("You are signed out. Sign in again, then scan again."),
        "forbidden": _("You may not check people in at this event."),
        "server_error": _("The server could not answer. Nothing was recorded; try again."),
        "search_short": _("Type at least two letters of the name, or the last four digits of "
                          "the phone number."),
        "search_none": _("No registration matches."),
        "override": _("Admit anyway (recorded)"),
        "walked_out": _("Left"),
        "walk_out_refused": _("Not counted out"),
    }


@dataclass
class AnswerView:
    """The answer as the plain page shows it."""

    result: str
    tone: str
    title: str
    count: str = ""
    lines: list[str] = field(default_factory=list)
    # A good ticket refused only for the time: staff may admit it anyway (sent by its id).
    override_ticket_id: int | None = None
    # The ticket's answers the organiser shows at the door: [{label, value}].
    door_answers: list[dict[str, str]] = field(default_factory=list)


def refused(message: str) -> AnswerView:
    """What the page says for input the service would not take (e.g. too many people)."""
    return AnswerView("unknown", "bad", _("Not recorded"), lines=[message])


def answer_page(answer: ScanAnswer) -> AnswerView:
    """The page's view of services.door.checkin's answer: the same words as the script's overlay."""
    name = answer.result.value
    view = AnswerView(name, TONES.get(name, "bad"), result_titles().get(name, name))
    ticket = answer.ticket
    if ticket is not None:
        who = "  ".join(part for part in (ticket.name, ticket.phone_masked) if part)
        if who:
            view.lines.append(who)
        if ticket.door_answers is not None and ticket.ticket_id is not None:
            view.door_answers = ticket.door_answers  # read with the ticket by the scan
        elif ticket.ticket_id is not None:  # a ticket of the door's event
            view.door_answers = ticket_list.ticket_door_answers(ticket.event_id,
                                                                ticket.ticket_id)
    if answer.result == Result.ADMITTED:
        # The count is the news; the party only when some are still to come.
        view.count = people(answer.admitted_people)
        if ticket is not None and answer.remaining_people > 0:
            view.lines.append(party_line(ticket.admitted_people, ticket.party_size,
                                         answer.remaining_people))
        if answer.reentry:
            view.lines.append(answer.message)
    elif answer.result == Result.EXITED and answer.exited_people:
        view.count = people(answer.exited_people)
        view.lines.append(answer.message)
    elif answer.message:
        view.lines.append(answer.message)
    if answer.result in OVERRIDABLE and ticket is not None:
        view.override_ticket_id = ticket.ticket_id
    return view


def party_line(inside: int, total: int, remaining: int) -> str:
    return (client_text()["party"]
            .replace("%(inside)s", str(inside))
            .replace("%(total)s", people(total))
            .replace("%(remaining)s", str(max(remaining, 0))))


def offline_text() -> dict[str, str]:
    """The words of the door by itself (static/js/door/offline.js): its status line, the badge
    of an answer decided on the phone, and the phone's own answers. Templates keep their
    %(name)s for the script to fill; the server's own sentences are reused where they fit."""
    return {
        "online": _("Online"),
        "offline": _("Offline"),
        "pending": _("%(n)s to sync"),
        "age_s": _("List updated %(n)s s ago"),
        "age_min": _("List updated %(n)s min ago"),
        "age_h": _("List updated %(n)s h ago"),
        "no_list_short": _("No ticket list on this phone"),
        "badge": _("Offline · syncs later"),
        "unchecked": _("Cannot check offline"),
        "no_list": _("This phone has no ticket list of this event yet, so it cannot check tickets "
                     "without a network. Open the scanner once with a network connection."),
        "not_on_list": _("Not on this phone's ticket list. Check the ticket's event on the "
                         "citizen's phone, or search by name once the network is back."),
        "cancelled": _("This registration was cancelled."),
        "not_confirmed": _("This registration is not confirmed: %(status)s."),
        "wrong_session": _("This ticket is for another session."),
        "already": _("Already admitted."),
        "already_here": _("Already let in on this phone at %(time)s."),
        "admit": _("Admit %(n)d."),
        "admit_some": _("Admit %(n)d; %(left)d more of this party may come in later."),
        "exited": _("Exit: %(n)d left."),
        "conflicts": _("Synced: %(n)s to look at"),
        "named_offline": _("Without a network only +1 and +N are recorded: a name and a phone "
                           "number need the network."),
    }
