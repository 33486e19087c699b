"""Messages to an event's registrants (services/messaging/broadcasts.py): write, see the count
of recipients per group and the exact text, then send; and the list of every message citizens
and staff get from us (services/messaging/templates.REGISTRY)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required

from ..services.errors import ValidationFailed
from ..services.messaging import broadcasts, templates
from .blueprint import bp, editable_event


def _page(event, status: int = 200, **shown):
    return render_template(
        "organiser/messages.html", event=event, counts=broadcasts.counts(event),
        history=broadcasts.history(event.id), max_text=broadcasts.MAX_TEXT,
        text=request.form.get("text", ""),
        audience=request.form.getlist("audience") or ["confirmed"],
        session_id=request.form.get("session_id", ""), **shown), status


@bp.get("/events/<int:event_id>/messages")
@login_required
def messages(event_id: int):
    return _page(editable_event(event_id))[0]


@bp.post("/events/<int:event_id>/messages")
@login_required
def send_message(event_id: int):
    """"preview": the text and the number of recipients, to confirm; "send": sent."""
    event = editable_event(event_id)
    try:
        composed = broadcasts.compose(event, request.form.get("text"),
                                      request.form.getlist("audience"),
                                      request.form.get("session_id"))
        if request.form.get("action") != "send":
            text, total = broadcasts.preview(event, composed)
            return _page(event, preview=text, total=total)[0]
        sent = broadcasts.send(event, composed, current_user._get_current_object())
    except ValidationFailed as exc:
        return _page(event, 400, errors=exc.errors)
    flash(ngettext("Sent to %(num)d party.", "Sent to %(num)d parties.", sent.recipients),
          "success")
    return redirect(url_for(".messages", event_id=event.id), 303)


@bp.get("/messages/kinds")
@login_required
def message_kinds():
    """Every message we send: what, when, the text (the same list the providers register)."""
    return render_template("organiser/message_kinds.html",
                           kinds=sorted(templates.REGISTRY.values(), key=lambda t: t.key),
                           signature=templates.signature())
