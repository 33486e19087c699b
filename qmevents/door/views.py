"""The door (签到): staff choose an event, a session and a station, then scan tickets on a phone.

The scanner page is one HTML page whose script (static/js/scanner.js) talks to the JSON API;
without JavaScript its code field is a plain form posted here, answered by a page. Both paths
call services.door.checkin.redeem: the rules of admission live there, never here.
"""
from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from .. import labels
from ..extensions import db
from ..ids import MAX_ID
from ..models import Checkpoint, Event, EventSession, EventStatus
from ..numbers import whole_number
from ..services import access
from ..services.door import checkin, desk
from ..services.errors import Forbidden, NotFound, ValidationFailed
from ..timeutil import SHANGHAI, from_local, to_local, utcnow
from .answers import answer_page, client_text, offline_text, refused
from .blueprint import bp

# The decoder's WebAssembly must be served as such for streaming compilation; Python 3.11
# knows the type only where the system's mime.types does.
mimetypes.add_type("application/wasm", ".wasm")



# --- who may scan what ----------------------------------------------------------------------


def _scannable_event(event_id: int) -> Event:
    """The event if the signed-in user may scan at it: 404 for events they cannot see (nothing
    leaks), 403 for one they see but may not scan."""
    try:
        event = access.visible_event(current_user, event_id)
    except NotFound:
        abort(404)
    if not access.may_scan(current_user, event):
        abort(403)
    return event


def _today_start() -> datetime:
    local = to_local(utcnow())
    return from_local(local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None),
                      SHANGHAI)


@dataclass
class DoorEvent:
    """An event on the door's list, with the sessions still worth scanning for."""

    event: Event
    sessions: list[EventSession]


def _door_events() -> list[DoorEvent]:
    """The user's scannable published events with a session today or later, soonest first."""
    since = _today_start()
    query = (
        access.events_visible_to(current_user)
        .where(Event.status == EventStatus.PUBLISHED)
        .where(Event.sessions.any(EventSession.ends_at >= since))
        .options(selectinload(Event.sessions), selectinload(Event.checkpoints))
    )
    rows = []
    for event in db.session.scalars(query):
        if not access.may_scan(current_user, event):
            continue
        sessions = [s for s in event.sessions if s.ends_at >= since]
        rows.append(DoorEvent(event=event, sessions=sessions))
    rows.sort(key=lambda row: (row.sessions[0].starts_at, row.event.id))
    return rows


def _session_of(event: Event, raw: str | None) -> EventSession | None:
    """The session asked for (404 when it is not this event's), or the one happening now, or
    the next to come, or the last one held."""
    return _one_of(event.sessions, raw) if raw else desk.session_at_the_door(event)


def _checkpoint_of(event: Event, raw: str | None) -> Checkpoint | None:
    """The checkpoint asked for (404 when it is not this event's), or the entrance."""
    return _one_of(event.checkpoints, raw) if raw else event.entrance


def _one_of(rows: list, raw: str) -> Any:
    """The row whose id was typed or linked: 404 when it is none of `rows`."""
    wanted = _as_id(raw)
    for row in rows:
        if row.id == wanted:
            return row
    abort(404)


def _as_id(raw: str) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        abort(404)


# --- pages ----------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    """Where to scan: each event with its sessions today and to come, a checkpoint for tours."""
    return render_template("door/index.html", rows=_door_events(),
                           tomorrow=_today_start() + timedelta(days=1))


@bp.route("/events/<int:event_id>", methods=["GET", "POST"])
@login_required
def scan(event_id: int):
    """The scanner. POST is the page's plain form (typed codes without JavaScript, and the
    "admit" block of a ticket page): the answer comes back as a page with the form again."""
    event = _scannable_event(event_id)
    source = request.form if request.method == "POST" else request.args
    session = _session_of(event, source.get("session_id"))
    checkpoint = _checkpoint_of(event, source.get("checkpoint_id"))
    if request.method == "POST":
        # Without a session (the ticket page's block), the service takes today's sessions.
        chosen = session if source.get("session_id") else None
        return _redeem_typed(event, session, chosen, checkpoint)
    return _scanner_page(event, session, checkpoint)


def _scanner_page(event: Event, session: EventSession | None, checkpoint: Checkpoint | None,
                  answer=None, status: int = 200):
    figures = desk.attendance(event.id, session.id if session else None)
    return render_template(
        "door/scan.html",
        event=event,
        session=session,
        checkpoint=checkpoint,
        figures=figures,
        answer=answer,
        door_config=_client_config(event, session, checkpoint),
        statuses=labels.REGISTRATION_STATUS,
    ), status


def _redeem_typed(event: Event, session: EventSession | None, chosen: EventSession | None,
                  checkpoint: Checkpoint | None):
    """One typed code through the same service as the API; the answer as a page. The answer's
    "admit anyway" button sends the ticket back by its id with `override`."""
    ticket_id = request.form.get("ticket_id")
    try:
        answer = checkin.redeem(
            request.form.get("code", "")[: checkin.MAX_SCAN + 1],
            event_id=event.id,
            session_id=chosen.id if chosen else None,
            checkpoint_id=checkpoint.id if checkpoint else None,
            people=_people(request.form.get("people")),
            staff=current_user._get_current_object(),
            ticket_id=None if ticket_id is None else (whole_number(ticket_id) or -1),
            override=request.form.get("override") == "1",
            direction=request.form.get("direction") or "in",
        )
    except ValidationFailed as failed:
        view = refused(" ".join(failed.errors.values()))
        return _scanner_page(event, session, checkpoint, view, 422)
    except (NotFound, Forbidden):
        abort(404)
    return _scanner_page(event, session, checkpoint, answer_page(answer))


def _people(raw: str | None) -> int | None:
    """People to admit from a form: None (all still outside) when left empty; anything that is
    not a small number becomes -1, which the service refuses with its own message."""
    raw = (raw or "").strip()
    if not raw:
        return None
    number = whole_number(raw, max_digits=3)
    return -1 if number is None else number


def _client_config(event: Event, session: EventSession | None,
                   checkpoint: Checkpoint | None) -> dict:
    """What static/js/scanner.js needs: ids, addresses and the words it shows."""
    query = {"session_id": session.id} if session else {}
    checkins = url_for("api.create_checkin")
    return {
        "eventId": event.id,
        "sessionId": session.id if session else None,
        "checkpointId": checkpoint.id if checkpoint else None,
        # For the door by itself (static/js/door/offline.js): which way this checkpoint counts,
        # and whether it is a station of a tour (one visit per ticket) rather than the entrance.
        "checkpointDirection": checkpoint.direction.value if checkpoint else "in",
        "station": bool(checkpoint and checkpoint.position != 0),
        "undoSeconds": int(current_app.config["DOOR_UNDO_MINUTES"] * 60),
        "maxWalkIn": desk.MAX_WALK_IN,
        # The API's addresses as the API blueprint builds them; static/js/door fills in `{id}`.
        "urls": {
            "checkin": checkins,
            "batch": f"{checkins}/batch",
            "doorList": url_for("api.attendance", event_id=event.id).rpartition("/")[0]
            + "/door-list",
            "undo": _with_placeholder("api.undo_checkin", "admission_id"),
            "attendance": url_for("api.attendance", event_id=event.id, **query),
            "walkIns": url_for("api.create_walk_in", event_id=event.id),
            "walkOuts": url_for("api.create_walk_out", event_id=event.id),
            "bump": _with_placeholder("api.bump_tally", "tally_id", event_id=event.id),
            "search": url_for("api.search_tickets", event_id=event.id),
            "vendor": url_for("static", filename="vendor/"),
        },
        "text": client_text(),
        "offline": offline_text(),
    }


def _with_placeholder(endpoint: str, id_arg: str, **values) -> str:
    """The URL of `endpoint` with `{id}` where `id_arg` goes, for the page's JavaScript to fill:
    built by url_for (with MAX_ID as a stand-in), so it follows the route wherever it moves."""
    head, _id, tail = url_for(endpoint, **values, **{id_arg: MAX_ID}).rpartition(f"/{MAX_ID}")
    return f"{head}/{{id}}{tail}"


@bp.get("/events/<int:event_id>/kiosk")
@login_required
def kiosk(event_id: int):
    """Self check-in (自助签到): a tablet facing the visitors, its camera admitting whole parties
    by itself; anything else calls staff (static/js/kiosk.js)."""
    event = _scannable_event(event_id)
    session = _session_of(event, request.args.get("session_id"))
    checkpoint = _checkpoint_of(event, request.args.get("checkpoint_id"))
    config = _client_config(event, session, checkpoint)
    query = {key: value.id for key, value in (("session_id", session),
                                              ("checkpoint_id", checkpoint)) if value}
    config["urls"]["scanner"] = url_for(".scan", event_id=event.id, **query)
    config["kiosk"] = {
        "welcome": _("Welcome!"),
        "go_in": _("Please go in."),
        "wait": _("Please wait a moment"),
        "staff_coming": _("A member of staff is coming to help you."),
        "not_a_ticket": _("This is not a ticket code."),
    }
    return render_template("door/kiosk.html", event=event, session=session,
                           checkpoint=checkpoint, door_config=config)
