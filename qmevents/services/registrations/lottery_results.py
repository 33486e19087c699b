"""What a draw shows: where an application stands (the ticket page), each session's lottery for
the organiser (applications, places, whether "Draw now" may run) and the ranking with who is in
it, phones masked. The draw itself and its verification are services/registrations/lottery.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ...extensions import db
from ...models import Event, EventSession, LotteryDraw, Registration, RegistrationStatus
from ..identity import mask_mobile
from . import lottery


@dataclass
class Standing:
    """Where one application stands in its session's draw, for the ticket page."""

    draw: LotteryDraw
    registration_id: int
    place_in_ranking: int  # 1-based
    selected: bool
    waiting_position: int | None  # 1-based on the waiting list as drawn


def standing(registration: Registration) -> Standing | None:
    found = lottery.draw_of(registration.session_id)
    if found is None or registration.id not in found.ranking:
        return None
    index = found.ranking.index(registration.id)
    selected = index < found.winners
    return Standing(draw=found, registration_id=registration.id, place_in_ranking=index + 1,
                    selected=selected, waiting_position=None if selected
                    else index - found.winners + 1)


# --- the organiser's view --------------------------------------------------------------------


@dataclass
class SessionLottery:
    session: EventSession
    applications: int
    people: int
    places: int  # places to be drawn (before), or drawn for (after)
    draw: LotteryDraw | None
    refused: lottery.DrawRefused | None  # why "Draw now" cannot run; None when it can


def overview(event: Event, now: datetime | None = None) -> list[SessionLottery]:
    """Each session of `event`: its applications, places and draw, and whether it may draw."""
    counts = {sid: (n, people or 0) for sid, n, people in db.session.execute(
        select(Registration.session_id, func.count(), func.sum(Registration.party_size))
        .where(Registration.event_id == event.id,
               Registration.status == RegistrationStatus.APPLIED)
        .group_by(Registration.session_id))}
    draws = {d.session_id: d for d in db.session.scalars(
        select(LotteryDraw).join(EventSession).where(EventSession.event_id == event.id))}
    rows = []
    for s in event.sessions:
        found = draws.get(s.id)
        n, people = counts.get(s.id, (0, 0))
        if found is not None:
            n, people = len(found.applicants), sum(size for _i, size in found.applicants)
        rows.append(SessionLottery(
            session=s, applications=n, people=people, draw=found,
            places=found.capacity if found else s.places_left,
            refused=lottery.refusal(event, s, drawn=found is not None, applications=n, now=now)))
    return rows


@dataclass
class ResultRow:
    place_in_ranking: int
    registration_id: int
    name: str
    phone: str  # masked
    party_size: int
    selected: bool
    waiting_position: int | None
    status: RegistrationStatus | None  # now; None once the registration has been purged


def results(found: LotteryDraw, limit: int = 200) -> list[ResultRow]:
    """The first `limit` of the ranking with who they are (phones masked) and their status now."""
    ids = found.ranking[:limit]
    people = dict((int(i), int(n)) for i, n in found.applicants)
    by_id = {r.id: r for r in lottery.registrations(ids)}
    rows = []
    for index, registration_id in enumerate(ids):
        r = by_id.get(registration_id)
        selected = index < found.winners
        rows.append(ResultRow(
            place_in_ranking=index + 1, registration_id=registration_id,
            name=r.name if r else "—", phone=mask_mobile(r.phone) if r else "—",
            party_size=people.get(registration_id, 0), selected=selected,
            waiting_position=None if selected else index - found.winners + 1,
            status=r.status if r else None))
    return rows
