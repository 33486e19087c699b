"""The organiser decides who comes: the applications of an event by approval (filter, search,
admit or decline several at once with an optional note), invitations by phone number, and the
event's audit log. Who may act and every rule about places are services.registrations.approval's;
these views parse, call it and render. Door staff may look at the event but get a 403 here."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField

from ..models import Event, RegistrationMode
from ..paging import Pager, page_count, page_number, this_page
from ..ratelimits import limit_number_search
from ..services.errors import (
    InvalidTransition,
    RegistrationRefused,
    ValidationFailed,
)
from ..services.registrations import approval
from ..services.registrations import registrants as registrant_rules
from .blueprint import bp, editable_event
from .forms import RegistrantFilterForm

AUDIT_PER_PAGE = 50


def _actor():
    return current_user._get_current_object()


def _here(**changes) -> str:
    """This page's address with its filters, as the bulk form posts back to it."""
    return this_page(dropped=("lang", "select"), **changes)


# --- applications -----------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/applicants", methods=["GET", "POST"])
@login_required
@limit_number_search
def applicants(event_id: int):
    """GET lists the applications; POST admits or declines the selected ones and comes back."""
    event = editable_event(event_id)
    filters = RegistrantFilterForm(formdata=request.args, event=event)
    decision = {"selected": set(), "message": "", "errors": {}, "refusal": None}
    status = 200
    if request.method == "POST":
        outcome = _decide(event)
        if outcome is None:
            return redirect(_here())
        decision.update(outcome)
        status = 409 if decision["refusal"] else 400
    elif request.args.get("select") == "all":
        decision["selected"] = "all"
    return _render_applicants(event, filters, decision, status)


def _decide(event: Event) -> dict | None:
    """Admit or decline what the form selected; None when done (a flash says what happened),
    else what to show again: the selection, the note and the reason."""
    form = request.form
    selected = form.getlist("registration_id")
    note = form.get("message", "")
    act = {"admit": approval.admit, "decline": approval.decline}.get(form.get("decision", ""))
    again = {"selected": set(selected), "message": note, "errors": {}, "refusal": None}
    if act is None:
        again["errors"] = {"decision": _("Press “Admit selected” or “Decline selected”.")}
        return again
    try:
        result = act(event.id, selected, _actor(), note)
    except ValidationFailed as exc:
        again["errors"] = exc.errors
        return again
    except (RegistrationRefused, InvalidTransition) as exc:
        again["refusal"] = exc.message
        return again
    if isinstance(result, approval.AdmitResult):
        flash(ngettext("%(num)d application admitted (%(people)d people): the ticket is sent by "
                       "text message.",
                       "%(num)d applications admitted (%(people)d people): their tickets are "
                       "sent by text message.", len(result.admitted), people=result.people),
              "success")
    else:
        flash(ngettext("%(num)d application declined: the applicant is told by text message.",
                       "%(num)d applications declined: the applicants are told by text message.",
                       len(result.declined)), "success")
    if result.unchanged:
        flash(ngettext("%(num)d selected application had been decided already and is left as "
                       "it is.",
                       "%(num)d selected applications had been decided already and are left as "
                       "they are.", len(result.unchanged)), "info")
    return None


def _render_applicants(event: Event, filters: RegistrantFilterForm, decision: dict,
                       status: int):
    per_page = current_app.config["REGISTRANTS_PER_PAGE"]
    page = page_number()

    def fetch(page: int) -> registrant_rules.RegistrantPage:
        return registrant_rules.registrants(
            event.id, session_id=filters.session_id(), status="applied",
            search=filters.search.data, limit=per_page, offset=(page - 1) * per_page)

    context = dict(event=event, filters=filters, decision=decision,
                   deciding=event.registration_mode == RegistrationMode.APPROVAL,
                   demand=approval.demand(event), found=None, pager=None, groups=[],
                   message_limit=approval.MAX_MESSAGE, action=_here(),
                   select_all=_here(select="all"))
    try:
        found = fetch(page)
    except ValidationFailed as exc:
        filters.add_errors(exc.errors)
        return render_template("organiser/applicants.html", **context), 400
    pages = page_count(found.matching, per_page)
    if page > pages:  # a decision emptied the last page: show the one before
        page = pages
        found = fetch(page)
    sessions = {s.id: s for s in event.sessions}
    context.update(found=found, pager=Pager(page=page, pages=pages),
                   groups=registrant_rules.by_session(found.rows, sessions))
    return render_template("organiser/applicants.html", **context), status


# --- invitations ------------------------------------------------------------------------------


class InviteForm(FlaskForm):
    """Who to invite. Only parsed here: services.registrations.approval.invite checks the values
    exactly as registering does, and its messages go back next to the fields."""

    session_id = StringField(_l("Session"))  # radios of the event's sessions, in the template
    name = StringField(_l("Name"))
    phone = StringField(_l("Mobile number"))
    party_size = StringField(_l("People in the party"), default="1")

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            target = self[name] if name in self else self.name
            target.errors = [*target.errors, message]


@bp.route("/events/<int:event_id>/invite", methods=["GET", "POST"])
@login_required
def invite(event_id: int):
    """Invite someone by phone number: a confirmed ticket that takes its places at once."""
    event = editable_event(event_id)
    form = InviteForm()
    if request.method == "GET":
        first = next((s.id for s in event.sessions if s.places_left), None)
        form.session_id.data = request.args.get("session_id") or first
        return render_template("organiser/invite.html", event=event, form=form, refusal=None)
    try:
        invited = approval.invite(event.id, form.session_id.data, form.name.data,
                                  form.phone.data, form.party_size.data, _actor())
    except ValidationFailed as exc:
        form.add_errors(exc.errors)
        return render_template("organiser/invite.html", event=event, form=form,
                               refusal=None), 400
    except RegistrationRefused as exc:
        return render_template("organiser/invite.html", event=event, form=form,
                               refusal=exc.message), 409
    flash(_("%(name)s is invited: the ticket (code %(code)s) is sent by text message.",
            name=form.name.data.strip(), code=invited.code), "success")
    return redirect(url_for(".invite", event_id=event.id, session_id=form.session_id.data))


# --- the audit log ----------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/audit")
@login_required
def audit(event_id: int):
    """Who admitted, declined, invited, promoted, drew or undid what, and when: newest first."""
    event = editable_event(event_id)
    page = page_number()
    rows, total = approval.audit_log(event.id, AUDIT_PER_PAGE, (page - 1) * AUDIT_PER_PAGE)
    pages = page_count(total, AUDIT_PER_PAGE)
    if page > pages:
        page = pages
        rows, total = approval.audit_log(event.id, AUDIT_PER_PAGE, (page - 1) * AUDIT_PER_PAGE)
    return render_template("organiser/audit.html", event=event, rows=rows, total=total,
                           pager=Pager(page=page, pages=pages),
                           sessions={s.id: s for s in event.sessions})
