"""满意度: the figures of the satisfaction survey (services.survey), defined once for the event
report (and its exports), the campaign summary and the dashboard: how many answered, the average
of the stars, the share who would come again; and an event's comments, which only its organisers
read (services.access.may_read_comments: a comment may name someone, and the purge clears them).

SQL aggregates; an answer is one ticket's (one party's), counted with the event it belongs to.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select

from ...extensions import db
from ...models import Event, SurveyResponse


@dataclass
class Satisfaction:
    answers: int = 0  # tickets that answered
    stars: int = 0  # their stars, summed
    come_again: int = 0  # answered "yes, I would come again"
    come_again_answered: int = 0  # answered that question at all (it is optional)

    @property
    def average(self) -> float | None:
        """Average stars, one decimal; None without answers."""
        return round(self.stars / self.answers, 1) if self.answers else None

    @property
    def come_again_share(self) -> float | None:
        """Share of those who answered the question who would come again; None when nobody did."""
        return self.come_again / self.come_again_answered if self.come_again_answered else None

    @classmethod
    def of(cls, row: Any) -> Satisfaction:
        return cls(answers=int(row.answers or 0), stars=int(row.stars or 0),
                   come_again=int(row.come_again or 0),
                   come_again_answered=int(row.come_again_answered or 0))


@dataclass
class Comment:
    stars: int
    come_again: bool | None
    text: str
    at: datetime  # UTC


def _figures() -> list:
    """The columns of Satisfaction, as aggregates of SurveyResponse."""
    return [func.count(SurveyResponse.id).label("answers"),
            func.sum(SurveyResponse.stars).label("stars"),
            func.count(case((SurveyResponse.come_again.is_(True), 1))).label("come_again"),
            func.count(SurveyResponse.come_again).label("come_again_answered")]


def satisfaction_by(key, *where) -> Select:
    """The figures per `key` (a column of SurveyResponse or of Event, which is joined)."""
    return (
        select(key.label("key"), *_figures())
        .join(Event, Event.id == SurveyResponse.event_id)
        .where(*where)
        .group_by(key)
    )


def of_event(event_id: int) -> Satisfaction:
    row = db.session.execute(
        satisfaction_by(SurveyResponse.event_id, SurveyResponse.event_id == event_id)).first()
    return Satisfaction.of(row) if row else Satisfaction()


def of_events(event_ids: list[int]) -> Satisfaction:
    """All these events' answers together (a campaign, an organisation's events)."""
    if not event_ids:
        return Satisfaction()
    row = db.session.execute(
        select(*_figures()).where(SurveyResponse.event_id.in_(event_ids))).one()
    return Satisfaction.of(row)


def by_district(event_ids: list[int]) -> dict[int, Satisfaction]:
    """{district id: figures} of these events' answers; districts without answers left out."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        satisfaction_by(Event.district_id, SurveyResponse.event_id.in_(event_ids))).all()
    return {row.key: Satisfaction.of(row) for row in rows}


def by_district_and_organisation(event_ids) -> list[tuple[int, int, Satisfaction]]:
    """(district id, organisation id, figures) of these events' answers (`event_ids`: a list or
    a SELECT of ids), in one query; the dashboard sums them per district, per organisation and
    in all. Satisfaction's fields are sums and counts, so they add up exactly."""
    rows = db.session.execute(
        select(Event.district_id, Event.organisation_id, *_figures())
        .join(Event, Event.id == SurveyResponse.event_id)
        .where(SurveyResponse.event_id.in_(event_ids))
        .group_by(Event.district_id, Event.organisation_id)).all()
    return [(row.district_id, row.organisation_id, Satisfaction.of(row)) for row in rows]


def added(figures) -> Satisfaction:
    """The sum of several Satisfactions (an empty one without any)."""
    total = Satisfaction()
    for f in figures:
        total.answers += f.answers
        total.stars += f.stars
        total.come_again += f.come_again
        total.come_again_answered += f.come_again_answered
    return total


def comments(event_id: int) -> list[Comment]:
    """The event's non-empty comments, oldest first, as typed (escaped where shown)."""
    rows = db.session.execute(
        select(SurveyResponse.stars, SurveyResponse.come_again, SurveyResponse.comment,
               SurveyResponse.created_at)
        .where(SurveyResponse.event_id == event_id, SurveyResponse.comment != "")
        .order_by(SurveyResponse.created_at, SurveyResponse.id)).all()
    return [Comment(stars=r.stars, come_again=r.come_again, text=r.comment, at=r.created_at)
            for r in rows]
