"""The event's own questions (text, choices, number, ID-card number), edited as one list on a
form that needs no JavaScript, like the sessions on the event form."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ..models import Event
from ..services.errors import ValidationFailed
from ..services.registrations import questions as question_rules
from .blueprint import bp, editable_event
from .forms import QuestionsForm, data_from_questions


def _render(form: QuestionsForm, event: Event, locked: bool, status: int = 200):
    return render_template("organiser/questions.html", form=form, event=event,
                           locked=locked), status


@bp.route("/events/<int:event_id>/questions", methods=["GET", "POST"])
@login_required
def questions(event_id: int):
    event = editable_event(event_id)
    locked = question_rules.has_registrations(event.id)
    if request.method == "GET":
        form = QuestionsForm(data=data_from_questions(event))
        form.new_rows_required(not locked)
        return _render(form, event, locked)
    form = QuestionsForm()
    if "add_question" in request.form:
        form.add_question_row(required=not locked)
        return _render(form, event, locked)
    drafts, rows = form.to_drafts()
    try:
        question_rules.set_questions(event, drafts)
    except ValidationFailed as exc:
        form.show_errors(exc.errors, rows)
        return _render(form, event, locked, 400)
    flash(_("The questions are saved.") if drafts else _("The event asks no questions now."),
          "success")
    return redirect(url_for(".event", event_id=event.id))
