"""The organiser's lottery page (摇号): per session the applications, the places and the window;
"Draw now" once registration has closed; and the results with the seed. The draw itself, and
every rule about when it may run, is services.registrations.lottery's."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services import access
from ..services.registrations import lottery as draws
from ..services.registrations import lottery_results
from .blueprint import bp, editable_event, visible_event

RESULTS_SHOWN = 200  # rows of a ranking on the page; the published list has them all


@bp.route("/events/<int:event_id>/lottery", endpoint="lottery")
@login_required
def lottery_page(event_id: int):
    event = visible_event(event_id)
    rows = lottery_results.overview(event)
    return render_template(
        "organiser/lottery.html", event=event, rows=rows, shown=RESULTS_SHOWN,
        editable=access.may_edit(current_user, event),
        results={r.session.id: lottery_results.results(r.draw, RESULTS_SHOWN) for r in rows if r.draw},
    )


@bp.route("/events/<int:event_id>/sessions/<int:session_id>/lottery", methods=["POST"])
@login_required
def draw_lottery(event_id: int, session_id: int):
    """Draw one session now. Refusals (too early, twice, wrong mode) come back as a message."""
    event = editable_event(event_id)
    if all(s.id != session_id for s in event.sessions):
        abort(404)
    try:
        found = draws.draw(session_id, actor_id=current_user.id)
    except draws.DrawRefused as refused:
        flash(refused.message, "error")
    else:
        flash(_("Drawn: %(winners)d of %(applications)d applications were selected. The others "
                "are on the waiting list in the order drawn. Everyone is being told.",
                winners=found.winners, applications=len(found.applicants)), "success")
    return redirect(url_for(".lottery", event_id=event_id), 303)
