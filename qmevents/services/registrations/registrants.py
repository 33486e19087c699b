"""Who registered for an event: one page of registrations, filtered and searched in the database,
and the totals per status. The organiser page uses it now; the API and the exports can later.

Personal data leaves here masked (phone 138****5678, ID numbers 310101********123X): the back
office needs to recognise a person, not to copy their numbers. The caller decides who may see
an event (services.access.visible_event) before asking."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...ids import is_row_id
from ...models import (
    Admission,
    AdmissionKind,
    EventSession,
    Question,
    QuestionKind,
    Registration,
    RegistrationStatus,
)
from ...numbers import ascii_digits
from ..errors import NotFound, ValidationFailed
from ..identity import mask_id_number, mask_mobile, normalise_mobile

MAX_SEARCH = 50
_LAST_FOUR = re.compile(r"[0-9]{4}", re.ASCII)


@dataclass
class RegistrantAnswer:
    question: str  # the question's label
    value: str  # masked for an ID-card number; the choices of a multiple choice joined by "; "


@dataclass
class RegistrantRow:
    registration_id: int
    session_id: int
    name: str
    phone: str  # masked
    party_size: int
    status: RegistrationStatus
    registered_at: datetime
    answers: list[RegistrantAnswer]
    admitted_people: int = 0  # let in at the entrance so far
    arrived_at: datetime | None = None  # the first of them let in (UTC); None: nobody yet
    short_code: str | None = None  # 入场口令 of a registration by phone (代报名)
    series_pass: bool = False  # one of the sessions of a series pass (系列通票)

    @property
    def arrival(self) -> str:
        """all (everyone is in), some (part of the family), none (nobody yet)."""
        if not self.admitted_people:
            return "none"
        return "all" if self.admitted_people >= self.party_size else "some"


@dataclass
class StatusTotal:
    status: RegistrationStatus
    registrations: int
    people: int


@dataclass
class RegistrantPage:
    rows: list[RegistrantRow]
    matching: int  # registrations matching every filter, for the pager
    totals: list[StatusTotal]  # per status for the event or the chosen session; filters aside


def registrants(event_id: int, session_id: int | None = None, status: str | None = None,
                search: str | None = None, limit: int = 50, offset: int = 0) -> RegistrantPage:
    """One page of an event's registrations, by session (in time order) then by when they
    registered. `search` is part of a name, a phone's last four digits or the whole number."""
    where = [Registration.event_id == event_id]
    errors: dict[str, str] = {}
    if session_id is not None:
        if not _session_of(event_id, session_id):
            errors["session_id"] = _("Choose one of this event's sessions.")
        where.append(Registration.session_id == session_id)
    everyone = list(where)  # the totals: the whole session, whatever the other filters
    if status:
        if status not in {s.value for s in RegistrationStatus}:
            errors["status"] = _("Choose one of the statuses.")
        else:
            where.append(Registration.status == RegistrationStatus(status))
    if search and search.strip():
        if len(search.strip()) > MAX_SEARCH:
            errors["search"] = _("At most %(n)d characters.", n=MAX_SEARCH)
        else:
            where.append(name_or_phone_matches(search))
    if errors:
        raise ValidationFailed(errors)

    matching = db.session.scalar(select(func.count(Registration.id)).where(*where)) or 0
    found = db.session.execute(
        select(Registration, _first_entry())
        .join(EventSession, EventSession.id == Registration.session_id)
        .where(*where)
        .order_by(EventSession.starts_at, EventSession.id, Registration.created_at, Registration.id)
        .limit(limit)
        .offset(offset)
        .options(selectinload(Registration.answers))
    ).all()
    questions = _questions(event_id) if found else []
    rows = [_row(r, questions, arrived_at) for r, arrived_at in found]
    holders = set(db.session.scalars(select(Registration.pass_id).where(
        Registration.pass_id.in_([r.registration_id for r in rows])))) if rows else set()
    for row in rows:
        row.series_pass = row.series_pass or row.registration_id in holders
    return RegistrantPage(
        rows=rows,
        matching=int(matching),
        totals=_totals(everyone),
    )


def registrant(event_id: int, registration_id: int) -> RegistrantRow:
    """One registration of the event, masked like the list; NotFound for any other id."""
    found = None
    if is_row_id(registration_id):
        found = db.session.scalar(
            select(Registration)
            .where(Registration.id == registration_id, Registration.event_id == event_id)
            .options(selectinload(Registration.answers)))
    if found is None:
        raise NotFound(_("No such registration."))
    return _row(found, _questions(event_id))


def _session_of(event_id: int, session_id: int) -> bool:
    return db.session.scalar(
        select(EventSession.id)
        .where(EventSession.id == session_id, EventSession.event_id == event_id)
    ) is not None


def name_or_phone_matches(search: str):
    """Part of the name; or the phone, by what the person searching may see of it: its last four
    digits (shown in 138****5678), or the whole number typed in full. Any other run of digits
    matches no phone, so nobody can walk a masked number digit by digit ("<d>" + the known tail
    for d in 0–9, watching which still matches)."""
    text = unicodedata.normalize("NFKC", search).strip()
    digits = ascii_digits(re.sub(r"[\s\-]", "", text))
    by_name = Registration.name.icontains(text, autoescape=True)
    if _LAST_FOUR.fullmatch(digits):
        return or_(by_name, Registration.phone.endswith(digits, autoescape=True))
    whole = normalise_mobile(digits)
    if whole is not None:
        return or_(by_name, Registration.phone == whole)
    return by_name


def status_totals(event_id: int) -> list[StatusTotal]:
    """Registrations and people per status for a whole event (the exports' summary)."""
    return _totals([Registration.event_id == event_id])


def _totals(where: list) -> list[StatusTotal]:
    """Registrations and people per status, in the order of the statuses; none left out."""
    counted = {
        status: (int(n), int(people or 0))
        for status, n, people in db.session.execute(
            select(Registration.status, func.count(Registration.id),
                   func.sum(Registration.party_size))
            .where(*where)
            .group_by(Registration.status)
        )
    }
    return [StatusTotal(status=s, registrations=counted[s][0], people=counted[s][1])
            for s in RegistrationStatus if s in counted]


def _questions(event_id: int) -> list[Question]:
    return list(db.session.scalars(
        select(Question).where(Question.event_id == event_id).order_by(Question.position)
    ))


def _first_entry():
    """When the party's first people were let in at the entrance, for each row of the page."""
    return (select(func.min(Admission.at))
            .where(Admission.registration_id == Registration.id,
                   Admission.kind == AdmissionKind.ENTRY)
            .correlate(Registration).scalar_subquery())


def _row(registration: Registration, questions: list[Question],
         arrived_at: datetime | None = None) -> RegistrantRow:
    given = {a.question_id: a.value for a in registration.answers}
    answers = [
        RegistrantAnswer(question=q.label, value=_shown(q, given[q.id]))
        for q in questions if q.id in given
    ]
    return RegistrantRow(
        registration_id=registration.id,
        session_id=registration.session_id,
        name=registration.name,
        phone=mask_mobile(registration.phone),
        party_size=registration.party_size,
        status=registration.status,
        registered_at=registration.created_at,
        answers=answers,
        admitted_people=registration.admitted_people or 0,
        arrived_at=arrived_at,
        short_code=registration.short_code,
        series_pass=registration.pass_id is not None,
    )


def _shown(question: Question, value: str) -> str:
    if question.kind == QuestionKind.ID_CARD:
        return mask_id_number(value)
    if question.kind == QuestionKind.MULTIPLE:
        return "; ".join(value.splitlines())
    return value


def by_session(rows: list[RegistrantRow],
               sessions: dict[int, EventSession]) -> list[tuple[EventSession, list]]:
    """The page's rows under their session, keeping the service's order (sessions by time)."""
    groups: list[tuple[EventSession, list]] = []
    for row in rows:
        if not groups or groups[-1][0].id != row.session_id:
            groups.append((sessions[row.session_id], []))
        groups[-1][1].append(row)
    return groups
