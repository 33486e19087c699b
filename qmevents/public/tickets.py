"""The ticket a citizen carries: its page (/t/<code>), the QR as PNG, the printable PDF, the
calendar entry, cancelling it, confirming a place offered from the waiting list, and after the
event the satisfaction survey the thank-you links to (/t/<code>/survey).

The code in the URL is the only key, so it is treated as a secret: every answer here is private
to the browser, kept out of search engines and out of Referer headers, and a wrong or truncated
code gets the same 404 whether or not a similar code exists.

The QR holds the ticket's URL (links.ticket_url), never changes for a code, and is drawn once
per worker (services.tickets caches it); browsers keep the PNG for a year.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import (
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import links
from ..errors import render_error
from ..extensions import db
from ..models import Checkpoint, Registration, RegistrationStatus
from ..models.registration import ENDED
from ..numbers import whole_number
from ..ratelimits import limit_survey, limit_ticket_lookup
from ..services import access, survey, ticket_card, tickets, tours
from ..services.errors import (
    NotFound,
    RegistrationClosed,
    RegistrationRefused,
    ValidationFailed,
)
from ..services.identity import mask_mobile
from ..services.registrations import (
    amend,
    cancellation,
    codes,
    series,
    short_codes,
    waitlist,
)
from .blueprint import bp
from .forms import SurveyForm

# Browsers and proxies: the page and the downloads belong to this browser only.
PRIVATE = "private, no-cache"
PRIVATE_FOREVER = "private, max-age=31536000, immutable"  # the QR of a code never changes


@bp.route("/t/<code>")
@limit_ticket_lookup
def ticket(code: str):
    """The ticket: what, when, where, for how many, how places are given and where the party
    stands (its number on the waiting list, an offer to confirm), and once confirmed the QR to
    show at the door. Door staff of the event (who opened the QR with WeChat's scanner,
    say) see a block to admit the party on top; citizens see their ticket only."""
    registration = _ticket_or_404(code)
    if registration.pass_id is not None:  # a session of a series pass: the pass is the ticket
        holder = db.session.get(Registration, registration.pass_id)
        return _personal(redirect(url_for("public.ticket", code=holder.code), 303), PRIVATE)
    qr = registration.status == RegistrationStatus.CONFIRMED  # an offer admits nobody yet
    ended = registration.status in ENDED
    members = series.members_of(registration)
    return _personal(Response(render_template(
        "public/ticket.html", registration=registration, event=registration.event,
        session=registration.session, qr=qr, phone=mask_mobile(registration.phone),
        grouped_code=tickets.group_code(registration.code),
        ended=ended, may_cancel=not ended and _holder_may_cancel(registration, members),
        door=_door_block(registration),
        position=waitlist.position(registration), offer_lapsed=_offer_lapsed(registration),
        survey=_survey_link(registration), in_wechat=in_wechat(),
        stamps=tours.stamp_card(registration) if qr else [],
        spelled_short_code=short_codes.spelled, series_members=members,
    )), PRIVATE)


def _holder_may_cancel(registration: Registration, members: list[Registration]) -> bool:
    """Whether the page offers (and says) cancelling: not once the party has come in
    (services.registrations.cancellation refuses it), except a series pass's sessions to come."""
    return not registration.admitted_people or bool(members)


def in_wechat() -> bool:
    """WeChat's own browser (its user agent says MicroMessenger): it shows pictures, and
    blocks downloads of PDF and calendar files, so the page says how to open those."""
    return "MicroMessenger" in (request.user_agent.string or "")


def _survey_link(registration: Registration) -> survey.SurveyState | None:
    """What the ticket page says of the survey: open (a link) or answered (thanks); nothing
    before the party came and its session ended, nor for a ticket that may not answer."""
    current = survey.state(registration)
    return current if current in (survey.SurveyState.OPEN, survey.SurveyState.ANSWERED) else None


def _offer_lapsed(registration: Registration) -> bool:
    """Cancelled because a place offered from the waiting list was not confirmed in time."""
    deadline, cancelled = registration.offer_expires_at, registration.cancelled_at
    return (registration.status == RegistrationStatus.CANCELLED and deadline is not None
            and cancelled is not None and cancelled >= deadline)


@dataclass
class DoorBlock:
    """What door staff see on a ticket page: who is in, and a form to admit the rest."""

    inside: int
    remaining: int
    admissible: bool  # confirmed, with people still outside
    checkpoints: list[Checkpoint]  # a choice of station for tours; empty for one entrance


def _door_block(registration: Registration) -> DoorBlock | None:
    """The block for signed-in staff who may scan at this ticket's event; None for others."""
    if not current_user.is_authenticated:
        return None
    event = registration.event
    if not access.may_scan(current_user, event):
        return None
    remaining = max(registration.party_size - (registration.admitted_people or 0), 0)
    return DoorBlock(
        inside=registration.admitted_people or 0,
        remaining=remaining,
        # At a tour's station the service counts a visit even when everyone is in already.
        admissible=registration.status == RegistrationStatus.CONFIRMED
        and (remaining > 0 or len(event.checkpoints) > 1),
        checkpoints=list(event.checkpoints) if len(event.checkpoints) > 1 else [],
    )


@bp.route("/t/<code>/qr.png")
@limit_ticket_lookup
def ticket_qr(code: str):
    """The QR alone, to save in the phone's photos. Unchanged since the browser's copy: 304."""
    registration = _ticket_or_404(code, with_qr=True)
    url = links.ticket_url(registration.code)
    etag = hashlib.sha256(url.encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(tickets.qr_png(url), mimetype="image/png")
        response.headers["Content-Disposition"] = (
            f'inline; filename="{tickets.ticket_filename(registration, "png")}"')
    response.set_etag(etag)
    return _personal(response, PRIVATE_FOREVER)


@bp.route("/t/<code>/ticket.png")
@limit_ticket_lookup
def ticket_picture(code: str):
    """保存电子票图片: the ticket as one picture (services.ticket_card), shown inline so that
    WeChat's long press saves it, or forwards it, or reads its QR."""
    registration = _ticket_or_404(code, with_qr=True)
    png = ticket_card.ticket_card_png(registration, links.ticket_url(registration.code))
    response = Response(png, mimetype="image/png")
    response.headers["Content-Disposition"] = (
        f'inline; filename="{tickets.ticket_filename(registration, "png")}"')
    return _personal(response, PRIVATE)


@bp.route("/t/<code>/certificate.<any(png, pdf):fmt>")
@limit_ticket_lookup
def certificate(code: str, fmt: str):
    """The tour's certificate of completion, once every station stamped the family's card:
    the picture shown inline (to keep), the PDF downloaded (to print)."""
    registration = _ticket_or_404(code)
    found = tours.certificate(registration)
    if found is None:
        abort(_error_page(_("The certificate is ready once every station of the tour has "
                            "scanned this ticket.")))
    name = tickets.ticket_filename(registration, fmt).replace("ticket", "certificate", 1)
    if fmt == "pdf":
        return _download(tours.certificate_pdf(found), "application/pdf", name)
    response = Response(tours.certificate_png(found), mimetype="image/png")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return _personal(response, PRIVATE)


@bp.route("/t/<code>/ticket.pdf")
@limit_ticket_lookup
def ticket_pdf(code: str):
    """A one-page A4 ticket to print, Chinese text embedded."""
    registration = _ticket_or_404(code, with_qr=True)
    pdf = tickets.ticket_pdf(registration, links.ticket_url(registration.code))
    return _download(pdf, "application/pdf", tickets.ticket_filename(registration, "pdf"))


@bp.route("/t/<code>/calendar.ics")
@limit_ticket_lookup
def ticket_ics(code: str):
    """The session for the phone's calendar; a cancelled ticket's entry says it is cancelled,
    so importing it again updates the calendar."""
    registration = _ticket_or_404(code)
    ics = tickets.ticket_ics(registration, links.ticket_url(registration.code))
    return _download(ics, "text/calendar",  # werkzeug adds "; charset=utf-8" to text/*
                     tickets.ticket_filename(registration, "ics"))


@bp.route("/t/<code>/cancel", methods=["GET", "POST"])
@limit_ticket_lookup
def cancel_ticket(code: str):
    """GET asks to confirm; POST (with its CSRF token) cancels and frees the places at once."""
    registration = _ticket_or_404(code)
    if request.method == "GET":
        return _personal(Response(render_template(
            "public/ticket_cancel.html", registration=registration, event=registration.event,
            session=registration.session, ended=registration.status in ENDED,
            series_members=series.members_of(registration),
        )), PRIVATE)
    if registration.admitted_people and series.members_of(registration):  # a pass, attended
        return _act(registration, cancellation.cancel, _(
            "The sessions of your series pass you have not come to are cancelled: their places "
            "are free for others. The sessions you attended stay on your ticket."))
    return _act(registration, cancellation.cancel,
                _("Your registration is cancelled. Your places are free for others."))


@bp.route("/t/<code>/change", methods=["GET", "POST"])
@limit_ticket_lookup
def change_ticket(code: str):
    """Change without losing the place (services.registrations.amend): GET, the choices; POST
    (CSRF token) `people` for fewer people, or `session_id` for another session."""
    registration = _ticket_or_404(code)
    if request.method == "POST":
        people, session_id = request.form.get("people"), request.form.get("session_id")
        try:
            if people is not None:
                amend.change_party_size(registration.code, whole_number(people, max_digits=3))
                done = _("Done: your registration is now for %(n)d people. Your ticket stays "
                         "the same.", n=registration.party_size)
            else:
                amend.move_to_session(registration.code, whole_number(session_id, max_digits=10))
                done = _("Done: your registration moved to the new session. Your ticket and "
                         "its QR code stay the same.")
        except (ValidationFailed, RegistrationRefused, NotFound) as refused:
            message = (" ".join(refused.errors.values()) if isinstance(refused, ValidationFailed)
                       else refused.message)
            db.session.rollback()
            return _change_page(_ticket_or_404(code), message, 409 if isinstance(
                refused, RegistrationRefused) else 400)
        flash(done, "success")
        return _personal(redirect(url_for("public.ticket", code=registration.code), 303),
                         PRIVATE)
    return _change_page(registration)


def _change_page(registration: Registration, error: str | None = None,
                 status: int = 200) -> Response:
    refusal = amend.refusal(registration)
    return _personal(Response(render_template(
        "public/ticket_change.html", registration=registration, event=registration.event,
        session=registration.session, refusal=refusal, error=error,
        sessions=amend.other_sessions(registration) if refusal is None else [],
        smallest=max(registration.admitted_people or 0, 1),
    ), status=status), PRIVATE)


@bp.post("/t/<code>/confirm")
@limit_ticket_lookup
def confirm_offer(code: str):
    """POST (with its CSRF token): take the place offered from the waiting list."""
    return _act(_ticket_or_404(code), waitlist.confirm_offer,
                _("Your place is confirmed. Show the QR code at the entrance."))


@bp.route("/t/<code>/survey", methods=["GET", "POST"])
@limit_ticket_lookup
@limit_survey
def ticket_survey(code: str):
    """After the event: 1 to 5 stars, would you come again, a comment; one answer per ticket.
    GET: the form, or the thanks for the answer, or why this ticket has no survey. POST (with
    its CSRF token): the answer stored, then the thanks (303); a second answer, or the loser of
    two sent at once, is told it was answered already (409)."""
    registration = _ticket_or_404(code)
    form = SurveyForm()
    if not form.is_submitted():
        return _survey_page(registration, form, survey.state(registration))
    try:
        survey.answer(registration.code, form.stars.data, form.come_again_value(),
                      form.comment.data)
    except ValidationFailed as failed:
        form.add_errors(failed.errors)
        return _survey_page(registration, form, survey.SurveyState.OPEN, 400)
    except survey.AlreadyAnswered:
        return _survey_page(registration, form, survey.SurveyState.ANSWERED, 409, already=True)
    except survey.SurveyClosed as closed:
        return _survey_page(registration, form, closed.state, 403)
    except NotFound:
        abort(_not_found())
    return _personal(redirect(url_for("public.ticket_survey", code=registration.code), 303),
                     PRIVATE)


def _survey_page(registration: Registration, form: SurveyForm, state: survey.SurveyState,
                 status: int = 200, already: bool = False) -> Response:
    reason = None
    if state not in (survey.SurveyState.OPEN, survey.SurveyState.ANSWERED):
        reason = survey.SurveyClosed(state).message
    return _personal(Response(render_template(
        "public/survey.html", registration=registration, event=registration.event,
        session=registration.session, form=form, state=state.value, reason=reason,
        max_comment=survey.MAX_COMMENT, already=already,
    ), status=status), PRIVATE)


# --- helpers --------------------------------------------------------------------------------


def _act(registration: Registration, action, done: str) -> Response:
    """Run the citizen's `action` on their ticket, then back to the ticket with what happened
    (or why not)."""
    try:
        action(registration.code)
    except RegistrationClosed as refused:
        flash(refused.message, "warning")
    except NotFound:
        abort(_not_found())
    else:
        flash(done, "success")
    return _personal(redirect(url_for("public.ticket", code=registration.code), 303), PRIVATE)


def _ticket_or_404(code: str, with_qr: bool = False) -> Registration:
    """The registration behind `code`; the friendly 404 for a wrong code, and for a QR of a
    ticket that is not confirmed (cancelled, waiting, applied, offered) since it admits nobody."""
    try:
        registration = codes.ticket(code)
    except NotFound:
        abort(_not_found())
    if with_qr and registration.status != RegistrationStatus.CONFIRMED:
        abort(_error_page(_("This ticket has no QR code: it is not confirmed at the moment.")))
    return registration


def _not_found() -> Response:
    """The same page for every unknown code: nothing says whether a similar one exists."""
    return _error_page(_("No ticket has this code. Please check the link in your message."))


def _error_page(message: str) -> Response:
    return _personal(make_response(render_error(404, message)), "no-store")


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _personal(response, PRIVATE)


def _personal(response: Response, cache: str) -> Response:
    """Headers for anything reached by a ticket code: the code is a secret in the URL."""
    response.headers["Cache-Control"] = cache
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    # same-origin: never to another site, yet the cancel form's Referer still reaches us, which
    # Flask-WTF requires of a form posted over HTTPS.
    response.headers["Referrer-Policy"] = "same-origin"
    return response
