"""Who registered for an event, session by session, with masked phones and ID numbers. Door staff
assigned to the event may look too. Reports and exports come with issue 6."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..models import ENDED
from ..paging import Pager, page_count, page_number
from ..ratelimits import limit_number_search
from ..services import access
from ..services.errors import NotFound, RegistrationClosed, ValidationFailed
from ..services.registrations import cancellation
from ..services.registrations import registrants as registrant_rules
from .blueprint import bp, editable_event, visible_event
from .forms import RegistrantFilterForm


@bp.route("/events/<int:event_id>/registrants")
@login_required
@limit_number_search
def registrants(event_id: int):
    event = visible_event(event_id)
    if not access.may_see_registrants(current_user, event):
        abort(403)
    form = RegistrantFilterForm(formdata=request.args, event=event)
    per_page = current_app.config["REGISTRANTS_PER_PAGE"]
    page = page_number()

    def fetch(page: int) -> registrant_rules.RegistrantPage:
        return registrant_rules.registrants(
            event.id, session_id=form.session_id(), status=(form.status.data or "").strip(),
            search=form.search.data, limit=per_page, offset=(page - 1) * per_page,
        )

    try:
        found = fetch(page)
    except ValidationFailed as exc:
        form.add_errors(exc.errors)
        return render_template("organiser/registrants.html", event=event, form=form,
                               found=None, pager=None, groups=[]), 400
    pages = page_count(found.matching, per_page)
    if page > pages:  # an old link past the end shows the last page, not an empty one
        page = pages
        found = fetch(page)
    return render_template(
        "organiser/registrants.html", event=event, form=form, found=found,
        pager=Pager(page=page, pages=pages),
        groups=registrant_rules.by_session(found.rows, {s.id: s for s in event.sessions}),
        may_edit=access.may_edit(current_user, event),
    )


@bp.route("/events/<int:event_id>/registrants/<int:registration_id>/cancel",
          methods=["GET", "POST"])
@login_required
def cancel_registration(event_id: int, registration_id: int):
    """The organiser cancels one registration: GET asks to confirm and says what it frees,
    POST (CSRF) cancels. People already let in stay counted and keep their places."""
    event = editable_event(event_id)
    try:
        row = registrant_rules.registrant(event.id, registration_id)
    except NotFound:
        abort(404)
    back = url_for("organiser.registrants", event_id=event.id)
    if request.method == "GET":
        return render_template("organiser/registrant_cancel.html", event=event, row=row,
                               back=back, ended=row.status in ENDED)
    try:
        cancellation.cancel_by_organiser(event.id, registration_id,
                                         current_user._get_current_object())
    except RegistrationClosed as refused:
        flash(refused.message, "warning")
    else:
        flash(_("The registration of %(name)s is cancelled; they have been told.",
                name=row.name), "success")
    return redirect(back, 303)


