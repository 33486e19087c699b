"""The waiting list of a popular open day: freed places go at once to the next parties in line
whose party fits, with a deadline to confirm when one is configured, and pass on when it runs
out. Service calls, as the ticket page, the organiser and cron make them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from qmevents.demo.names import person_name
from qmevents.extensions import db
from qmevents.models import (
    AuditEntry,
    Event,
    EventSession,
    Notification,
    Registration,
    RegistrationStatus,
)
from qmevents.services import events
from qmevents.services.errors import RegistrationClosed, ValidationFailed
from qmevents.services.registrations import cancellation, codes, lottery, places, waitlist
from qmevents.services.registrations import register as reg
from qmevents.timeutil import utcnow

from .conftest import Factory

CONFIRMED, WAITING, OFFERED, CANCELLED = (
    RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.OFFERED,
    RegistrationStatus.CANCELLED)


@dataclass
class OpenDay:
    """A waiting-list open day with one session; parties join it through the service."""

    app: Flask
    factory: Factory
    event_id: int
    session_id: int
    joined: int = 0

    def join(self, people: int) -> str:
        self.joined += 1
        with self.app.test_request_context("/"):
            return reg.register(reg.RegistrationRequest(
                event_id=self.event_id, session_id=self.session_id, name=person_name(self.joined),
                phone=f"139{self.joined:08d}", party_size=people, consent=True)).code

    def status(self, code: str) -> RegistrationStatus:
        with self.app.app_context():
            return db.session.scalar(select(Registration.status).filter_by(code=code))

    def statuses(self, *codes: str) -> list[RegistrationStatus]:
        return [self.status(code) for code in codes]

    def cancel(self, code: str) -> None:
        with self.app.test_request_context("/"):
            cancellation.cancel(code)

    def taken(self) -> int:
        with self.app.app_context():
            return db.session.get(EventSession, self.session_id).places_taken

    def position(self, code: str) -> int | None:
        with self.app.app_context():
            return waitlist.position(codes.ticket(code))

    def audit(self, action: str) -> list[AuditEntry]:
        with self.app.app_context():
            return list(db.session.scalars(
                select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)))

    def messages(self, kind: str) -> list[Notification]:
        with self.app.app_context():
            return list(db.session.scalars(
                select(Notification).filter_by(kind=kind).order_by(Notification.id)))


def open_day(app, factory, capacity: int, mode: str = "waitlist") -> OpenDay:
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    session = events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2),
                                  capacity=capacity)
    event_id = factory.event(registration_mode=mode, sessions=[session])
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    return OpenDay(app, factory, event_id, session_id)


@pytest.fixture
def day(app, factory) -> OpenDay:
    return open_day(app, factory, capacity=4)


@pytest.fixture
def offers(app):
    """Promotions are offers to confirm within a day."""
    app.config["WAITLIST_OFFER_HOURS"] = 24


# --- promotion ----------------------------------------------------------------------------------


def test_a_full_session_puts_newcomers_on_the_waiting_list_in_order(day):
    day.join(4)
    first, second = day.join(2), day.join(1)
    assert day.statuses(first, second) == [WAITING, WAITING]
    assert (day.position(first), day.position(second)) == (1, 2)


def test_a_cancellation_promotes_the_next_party_in_line_at_once(day):
    holder = day.join(4)
    first, second, third = day.join(2), day.join(2), day.join(2)
    day.cancel(holder)
    assert day.statuses(first, second, third) == [CONFIRMED, CONFIRMED, WAITING]
    assert day.taken() == 4
    assert day.position(third) == 1


def test_a_party_that_does_not_fit_is_passed_over_for_a_smaller_one_behind(day):
    day.join(1)
    holder = day.join(3)
    family, couple, single = day.join(4), day.join(2), day.join(1)
    day.cancel(holder)  # 3 places free: the family of 4 does not fit
    assert day.statuses(family, couple, single) == [WAITING, CONFIRMED, CONFIRMED]
    assert day.taken() == 4
    assert day.position(family) == 1


def test_cancelling_a_place_on_the_waiting_list_moves_the_others_up(day):
    day.join(4)
    first, second, third = day.join(1), day.join(1), day.join(1)
    day.cancel(first)
    assert (day.position(second), day.position(third)) == (1, 2)
    assert day.taken() == 4


def test_more_capacity_promotes_the_waiting_list(app, day):
    day.join(4)
    waiting = day.join(3)
    with app.app_context():
        event = db.session.get(Event, day.event_id)
        draft = day.factory.draft(registration_mode="waitlist", sessions=[events.SessionDraft(
            id=day.session_id, starts_at=event.sessions[0].starts_at,
            ends_at=event.sessions[0].ends_at, capacity=8)])
        events.update_event(event, draft)
    assert day.status(waiting) == CONFIRMED
    assert day.taken() == 7


def test_nobody_is_promoted_into_a_cancelled_event(app, day):
    holder = day.join(4)
    waiting = day.join(2)
    with app.app_context():
        events.cancel(db.session.get(Event, day.event_id))
    day.cancel(holder)
    assert day.status(waiting) == WAITING
    assert day.taken() == 0


def test_a_promotion_is_audited_as_done_by_the_system(day):
    holder = day.join(4)
    waiting = day.join(2)
    day.cancel(holder)
    [entry] = day.audit("promoted")
    with day.app.app_context():
        assert entry.registration_id == codes.ticket(waiting).id
    assert entry.actor_id is None and entry.event_id == day.event_id
    assert entry.detail["status"] == "confirmed" and entry.detail["party_size"] == 2


def test_the_promoted_party_is_told_by_text_with_its_ticket_link(day):
    holder = day.join(4)
    waiting = day.join(2)
    day.cancel(holder)
    [message] = day.messages("waitlist_promoted")
    assert message.recipient == "13900000002"
    assert f"/t/{waiting}" in message.body and "转为报名成功" in message.body


def test_places_freed_while_a_newcomer_joins_the_waiting_list_are_not_lost(day, monkeypatch):
    day.join(2)
    day.cancel(day.join(2))  # two places free, nobody waiting
    claims = []
    real_claim = places.claim_places

    def full_at_first(session_id: int, people: int) -> bool:
        # As if the session was full when the newcomer tried, and a cancellation freed these
        # places just before the newcomer's waiting-list entry was written.
        claims.append(people)
        return False if len(claims) == 1 else real_claim(session_id, people)

    monkeypatch.setattr(places, "claim_places", full_at_first)
    newcomer = day.join(2)
    assert day.status(newcomer) == CONFIRMED
    assert day.taken() == 4


# --- offers with a deadline ---------------------------------------------------------------------


def test_with_an_offer_window_the_place_is_held_until_a_deadline(day, offers):
    holder = day.join(4)
    waiting = day.join(2)
    day.cancel(holder)
    assert day.status(waiting) == OFFERED
    assert day.taken() == 2  # the offer holds its places
    with day.app.app_context():
        deadline = codes.ticket(waiting).offer_expires_at
    assert timedelta(hours=23) < deadline - utcnow() <= timedelta(hours=24)
    [message] = day.messages("waitlist_promoted")
    assert "请在" in message.body and "前打开链接确认" in message.body


def test_confirming_an_offer_in_time_confirms_the_ticket(day, offers):
    holder = day.join(4)
    waiting = day.join(2)
    day.cancel(holder)
    with day.app.test_request_context("/"):
        confirmed = waitlist.confirm_offer(waiting)
        assert (confirmed.status, confirmed.offer_expires_at) == (CONFIRMED, None)
    assert day.taken() == 2
    assert [e.action for e in day.audit("offer_confirmed")] == ["offer_confirmed"]


def past_deadline(app, code: str) -> None:
    with app.app_context():
        db.session.execute(update(Registration).filter_by(code=code)
                           .values(offer_expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()


def test_confirming_after_the_deadline_is_refused_and_the_place_passes_on(day, offers):
    holder = day.join(4)
    late, next_in_line = day.join(4), day.join(4)
    day.cancel(holder)
    past_deadline(day.app, late)
    with day.app.test_request_context("/?lang=en"), pytest.raises(RegistrationClosed) as refused:
        waitlist.confirm_offer(late)
    assert "passed" in refused.value.message
    assert day.statuses(late, next_in_line) == [CANCELLED, OFFERED]
    assert day.taken() == 4


def test_expired_offers_are_cancelled_and_their_places_offered_to_the_next(day, offers):
    holder = day.join(4)
    first, second, third = day.join(2), day.join(2), day.join(2)
    day.cancel(holder)
    assert day.statuses(first, second, third) == [OFFERED, OFFERED, WAITING]
    with day.app.test_request_context("/"):
        expired = waitlist.expire_offers(utcnow() + timedelta(hours=25))
    assert expired == 2
    assert day.statuses(first, second, third) == [CANCELLED, CANCELLED, OFFERED]
    assert day.taken() == 2
    assert len(day.audit("offer_expired")) == 2
    assert len(day.messages("offer_expired")) == 2


def test_expiry_leaves_offers_still_in_time_alone(day, offers):
    holder = day.join(4)
    waiting = day.join(2)
    day.cancel(holder)
    with day.app.app_context():
        assert waitlist.expire_offers() == 0
    assert day.status(waiting) == OFFERED


def test_a_confirmed_promotion_has_nothing_left_to_confirm(day):
    holder = day.join(4)
    waiting = day.join(2)
    day.cancel(holder)
    with day.app.test_request_context("/"):
        assert waitlist.confirm_offer(waiting).status == CONFIRMED  # a second tap: no error
        with pytest.raises(RegistrationClosed):
            waitlist.confirm_offer(day.join(4))  # waiting: nothing offered


# --- deadlines that make no sense --------------------------------------------------------------


def test_a_promotion_deadline_in_the_past_is_rejected_and_nothing_moves(app, day):
    day.join(4)
    waiting = day.join(2)
    with app.app_context():
        db.session.execute(update(EventSession).values(capacity=6))
        db.session.commit()
        with pytest.raises(ValidationFailed) as refused:
            waitlist.promote(day.session_id, offer_until=utcnow() - timedelta(hours=1))
    assert "offer_expires_at" in refused.value.errors
    assert day.status(waiting) == WAITING


def test_a_deadline_after_the_session_starts_is_rejected(app, day):
    with app.app_context():
        with pytest.raises(ValidationFailed):
            waitlist.promote(day.session_id, offer_until=utcnow() + timedelta(days=30))


@pytest.mark.parametrize("hours", [0, -2, "soon"])
def test_an_offer_window_that_is_not_a_positive_number_of_hours_is_rejected(app, hours):
    app.config["WAITLIST_OFFER_HOURS"] = hours
    with app.app_context(), pytest.raises(ValidationFailed):
        waitlist.offer_deadline(utcnow())


def test_a_wrong_offer_window_never_blocks_a_cancellation(app, day):
    app.config["WAITLIST_OFFER_HOURS"] = 0
    holder = day.join(4)
    waiting = day.join(2)
    day.cancel(holder)
    assert day.statuses(holder, waiting) == [CANCELLED, CONFIRMED]


def test_an_explicit_deadline_makes_offers(app, day):
    day.join(4)
    waiting = day.join(2)
    with app.test_request_context("/"):
        db.session.execute(update(EventSession).values(capacity=6))
        db.session.commit()
        [promoted] = waitlist.promote(day.session_id, offer_until=utcnow() + timedelta(hours=2))
        assert promoted.code == waiting
    assert day.status(waiting) == OFFERED


# --- after a lottery: the draw's order ---------------------------------------------------------


def test_after_a_draw_the_waiting_list_follows_the_draws_ranking(app, factory):
    day = open_day(app, factory, capacity=1, mode="lottery")
    joined = [day.join(1) for _ in range(4)]
    with app.test_request_context("/"):
        db.session.execute(update(EventSession).values(
            registration_closes_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        drawn = lottery.draw(day.session_id, seed="waitlist0rder")
        ids = {codes.ticket(c).id: c for c in joined}
        ranking = [ids[i] for i in drawn.ranking]
    assert [day.position(c) for c in ranking] == [None, 1, 2, 3]
    day.cancel(ranking[0])
    assert day.statuses(*ranking) == [CANCELLED, CONFIRMED, WAITING, WAITING]
    assert [day.position(c) for c in ranking[2:]] == [1, 2]


# --- from a terminal ----------------------------------------------------------------------------


def test_the_expire_command_passes_on_offers_past_their_deadline(app, day, offers, runner):
    holder = day.join(4)
    late, next_in_line = day.join(4), day.join(4)
    day.cancel(holder)
    past_deadline(app, late)
    result = runner.invoke(args=["waitlist", "expire"])
    assert result.exit_code == 0 and result.output.strip() == "1 offers expired"
    assert day.statuses(late, next_in_line) == [CANCELLED, OFFERED]


def test_the_promote_command_refuses_a_deadline_in_the_past(day, runner):
    result = runner.invoke(args=["waitlist", "promote", str(day.session_id),
                                 "--offer-until", "2020-09-01 18:00"])
    assert result.exit_code == 2
    assert "晚于现在" in result.output  # "must be later than now": the CLI speaks zh_CN
