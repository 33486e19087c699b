"""The satisfaction survey (满意度) the thank-you links to: 1 to 5 stars, whether one would come
again, a comment. One answer per ticket: the unique registration_id of SurveyResponse decides,
so a second answer, or two sent at once, is AlreadyAnswered and never an error.

Who may answer: a ticket whose party was let in (admitted people > 0: no-shows have nothing to
rate), once its session has ended, for SURVEY_DAYS after that, and never after the event's
personal data was purged (services.purge clears comments; one written afterwards would stay).

The comment is free text kept as typed (the pages escape it); it is shown to the event's
organisers only (services.access.may_read_comments) and never put into a text message. The
figures are services.reporting.reports'.
"""
from __future__ import annotations

import enum
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Registration, SurveyResponse
from ..numbers import whole_number
from ..timeutil import utcnow
from .errors import DomainError, ValidationFailed
from .registrations import codes

MAX_COMMENT = 500  # characters, as the column holds
SURVEY_DAYS = 30  # after the session's end


class SurveyState(enum.StrEnum):
    NOT_YET = "not_yet"  # the session has not ended
    OPEN = "open"
    ANSWERED = "answered"
    NOT_ADMITTED = "not_admitted"  # nobody of the party came in
    CLOSED = "closed"  # too long ago, or the event's personal data is purged


class SurveyClosed(DomainError):
    """This ticket may not answer (now); the message says why, for the citizen."""

    code = "survey_closed"

    def __init__(self, state: SurveyState):
        super().__init__(_reason(state))
        self.state = state


class AlreadyAnswered(DomainError):
    code = "already_answered"


def state(registration: Registration, now: datetime | None = None) -> SurveyState:
    """Where the ticket stands with the survey."""
    now = now or utcnow()
    if _answered(registration.id):
        return SurveyState.ANSWERED
    if not registration.admitted_people:
        return SurveyState.NOT_ADMITTED
    ends_at = registration.session.ends_at
    if now < ends_at:
        return SurveyState.NOT_YET
    if (now >= ends_at + timedelta(days=SURVEY_DAYS)
            or registration.event.personal_data_purged_at is not None):
        return SurveyState.CLOSED
    return SurveyState.OPEN


def answer(code: str, stars: object, come_again: object = None, comment: object = "",
           now: datetime | None = None) -> SurveyResponse:
    """Store the answer of the ticket `code`. NotFound for a wrong code; SurveyClosed when the
    ticket may not answer; AlreadyAnswered for its second answer (or the loser of two sent at
    once); ValidationFailed for stars other than 1 to 5, a come-again that is not yes or no, or
    a comment too long."""
    registration = codes.ticket(code)
    current = state(registration, now)
    if current == SurveyState.ANSWERED:
        raise AlreadyAnswered(_("This ticket has answered the survey already. Thank you!"))
    if current != SurveyState.OPEN:
        raise SurveyClosed(current)
    response = SurveyResponse(registration_id=registration.id, event_id=registration.event_id,
                              **checked(stars, come_again, comment))
    db.session.add(response)
    try:
        db.session.commit()
    except IntegrityError:  # the unique registration_id: another answer was stored first
        db.session.rollback()
        raise AlreadyAnswered(_("This ticket has answered the survey already. Thank you!")) \
            from None
    return response


def checked(stars: object, come_again: object, comment: object) -> dict[str, object]:
    """The three answers as stored, or ValidationFailed naming each field that is wrong."""
    errors = {}
    value = whole_number(stars, max_digits=2)
    if value is None or not 1 <= value <= 5:
        errors["stars"] = _("Choose from 1 to 5 stars.")
    if come_again not in (None, True, False):
        errors["come_again"] = _("Answer yes or no.")
    text = comment.strip() if isinstance(comment, str) else ("" if comment is None else None)
    if text is None:
        errors["comment"] = _("A comment is text.")
    elif len(text) > MAX_COMMENT:
        errors["comment"] = _("At most %(n)d characters, please.", n=MAX_COMMENT)
    if errors:
        raise ValidationFailed(errors)
    return {"stars": value, "come_again": come_again, "comment": text}


def _answered(registration_id: int) -> bool:
    return db.session.scalar(select(SurveyResponse.id).where(
        SurveyResponse.registration_id == registration_id)) is not None


def _reason(current: SurveyState) -> str:
    if current == SurveyState.NOT_ADMITTED:
        return _("The survey is for those who came to the event. This ticket was not used at "
                 "the entrance, so there is nothing to rate. We hope to see you at another "
                 "Quality Month activity.")
    if current == SurveyState.NOT_YET:
        return _("The survey opens when your session has ended. Come back after the event.")
    return _("The survey of this event is closed. Thank you all the same.")
