"""The lottery in public: each drawn session's published list (lottery.json: seed, applicants by
registration id and party size, ranking; no names), a page that explains the draw and how to
check it, and the helpers the event page and the ticket page ask (services.registrations.lottery
answers)."""
from __future__ import annotations

from flask import jsonify, render_template
from flask_babel import gettext as _
from flask_login import current_user

from ..models import Event, EventSession, LotteryDraw, Registration, RegistrationMode
from ..services import listings
from ..services.errors import NotFound
from ..services.registrations import lottery as draws
from ..services.registrations import lottery_results
from .blueprint import bp


@bp.route("/events/<int:event_id>/sessions/<int:session_id>/lottery.json")
def lottery_json(event_id: int, session_id: int):
    """Anyone may download a draw and re-run it: `flask --app wsgi lottery verify`."""
    viewer = current_user if current_user.is_authenticated else None
    try:
        event = listings.public_event(event_id, viewer=viewer)
    except NotFound:
        event = None
    found = None
    if event is not None and any(s.id == session_id for s in event.sessions):
        found = draws.draw_of(session_id)
    if found is None:
        return jsonify(error="not_found", message=_("This session has no draw (yet).")), 404
    response = jsonify(draws.published(found))
    response.headers["Cache-Control"] = "public, max-age=300"  # a draw never changes
    response.headers["Access-Control-Allow-Origin"] = "*"  # checkers may fetch it from anywhere
    return response


@bp.route("/lottery")
def lottery_help():
    """How the draw works and how to check one, in words a citizen follows."""
    return render_template("public/lottery.html", algorithm=draws.ALGORITHM)


@bp.app_template_global()
def session_lottery(event: Event, session: EventSession) -> LotteryDraw | None:
    """A lottery session's draw, or None (before the draw, or in another mode)."""
    if event.registration_mode != RegistrationMode.LOTTERY:
        return None
    return draws.draw_of(session.id)


@bp.app_template_global()
def lottery_standing(registration: Registration) -> lottery_results.Standing | None:
    """Where a ticket stands in its session's draw, for templates/public/_lottery_ticket.html."""
    if registration.event.registration_mode != RegistrationMode.LOTTERY:
        return None
    return lottery_results.standing(registration)
