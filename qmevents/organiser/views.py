"""The list of one's events, the event form (sessions and checkpoints in one flow) and the status
changes. Who may see and change what is services.access; blueprint.py turns it into 404 and 403."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..models import Event, EventStatus, Role
from ..paging import Pager, page_count, page_number
from ..services import access, events, listings
from ..services.errors import InvalidTransition, ValidationFailed
from ..services.messaging import changes
from .blueprint import bp, editable_event, organisation_choices, visible_event
from .forms import EventForm, data_from_event

# --- the list -----------------------------------------------------------------------------


@bp.route("/", endpoint="events")
@login_required
def events_list():
    per_page = current_app.config["EVENTS_PER_PAGE"]
    page = page_number()
    rows, total = listings.office_events(current_user, limit=per_page, offset=(page - 1) * per_page)
    return render_template(
        "organiser/events.html",
        rows=rows,
        total=total,
        pager=Pager(page=page, pages=page_count(total, per_page)),
        may_create=access.may_create_events(current_user),
        is_admin=access.sees_whole_city(current_user),
        is_staff=current_user.role == Role.STAFF,
    )


# --- the form -----------------------------------------------------------------------------


def _form_submitted(form: EventForm) -> bool:
    return request.method == "POST" and form.is_submitted()


def _render_form(form: EventForm, event: Event | None, status: int = 200):
    return render_template("organiser/form.html", form=form, event=event), status


def _save(form: EventForm, event: Event | None):
    """Validate what was typed, save it through the service, or show the form again with every
    message next to its field and everything typed still there."""
    draft, rows = form.to_draft()
    if not form.validate():
        form.show_errors(events.validate(draft, existing=event), rows)
        return _render_form(form, event, 400)
    publish = request.form.get("action") == "publish"
    if event is not None and request.form.get("tell_confirmed") != "1":
        told = changes.preview(event, draft.venue or "", draft.address or "",
                               {d.id: (d.starts_at, d.ends_at) for d in draft.sessions if d.id},
                               {d.id: d.address or "" for d in draft.sessions if d.id})
        if told:  # registrants will get a text: the organiser sees how many, then confirms
            return render_template("organiser/form.html", form=form, event=event, told=told)
    try:
        if event is None:
            organisation_id = (form.organisation.data if "organisation" in form
                               else current_user.organisation_id)
            event = events.create_event(organisation_id, draft, publish=publish)
        else:
            events.update_event(event, draft)
    except ValidationFailed as exc:
        form.show_errors(exc.errors, rows)
        return _render_form(form, event, 400)
    if publish and event.status != EventStatus.PUBLISHED:
        try:
            events.publish(event)
        except InvalidTransition as exc:
            flash(_("The changes are saved, but the event was not published: %(why)s",
                    why=exc.message), "error")
            return redirect(url_for(".event", event_id=event.id))
    if publish:
        flash(_("The event is saved and published."), "success")
    elif event.status == EventStatus.DRAFT:
        flash(_("The draft is saved. Publish it when it is ready."), "success")
    else:
        flash(_("The changes are saved."), "success")
    return redirect(url_for(".event", event_id=event.id))


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event():
    if not access.may_create_events(current_user):
        abort(403)
    organisations = organisation_choices()
    form = EventForm(organisations=organisations)
    if "organisation" in form and not form.organisation.choices:
        flash(_("There is no organisation yet. Create an organiser first (flask create-user)."),
              "warning")
    if not _form_submitted(form):
        if current_user.organisation is not None:
            form.district.data = current_user.organisation.district.name
        return _render_form(form, None)
    if "add_session" in request.form:
        form.add_session_row()
        return _render_form(form, None)
    return _save(form, None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit_event(event_id: int):
    event = editable_event(event_id)
    if request.method == "GET":
        return _render_form(EventForm(data=data_from_event(event)), event)
    form = EventForm()
    if "add_session" in request.form:
        form.add_session_row()
        return _render_form(form, event)
    return _save(form, event)


# --- one event and its status ---------------------------------------------------------------


@bp.route("/events/<int:event_id>")
@login_required
def event(event_id: int):
    event = visible_event(event_id)
    return render_template("organiser/event.html", event=event,
                           editable=access.may_edit(current_user, event),
                           sees_registrants=access.may_see_registrants(current_user, event),
                           by_phone=access.may_register_by_phone(current_user, event))


def _change_status(event_id: int, change, done: str):
    event = editable_event(event_id)
    try:
        change(event)
    except InvalidTransition as exc:
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for(".event", event_id=event.id))


@bp.route("/events/<int:event_id>/publish", methods=["POST"])
@login_required
def publish_event(event_id: int):
    return _change_status(event_id, events.publish,
                          _("The event is published: citizens can now see it and register."))


@bp.route("/events/<int:event_id>/unpublish", methods=["POST"])
@login_required
def unpublish_event(event_id: int):
    return _change_status(event_id, events.unpublish,
                          _("The event is back to draft: citizens no longer see it."))


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_event(event_id: int):
    if request.method == "GET":
        event = editable_event(event_id)
        if event.status == EventStatus.CANCELLED:
            flash(_("The event is already cancelled."), "info")
            return redirect(url_for(".event", event_id=event.id))
        return render_template("organiser/cancel.html", event=event,
                               told=changes.cancel_preview(event))
    return _change_status(event_id, events.cancel, _("The event is cancelled."))
