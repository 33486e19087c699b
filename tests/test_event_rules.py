"""The rules about an event's fields, in services.events: one validation for the organiser's form,
the API and the demo loader."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from qmevents.extensions import db
from qmevents.models import Event, EventSession, EventStatus
from qmevents.services import accounts, events, listings
from qmevents.services.errors import InvalidTransition, ValidationFailed
from qmevents.timeutil import utcnow


@pytest.fixture
def ctx(app):
    with app.test_request_context("/?lang=en"):
        yield


def soon(days: int = 7, hours: int = 0):
    return (utcnow() + timedelta(days=days, hours=hours)).replace(second=0, microsecond=0)


def one_session(**overrides) -> events.SessionDraft:
    start = overrides.pop("starts_at", soon())
    fields = dict(starts_at=start, ends_at=start + timedelta(hours=2), capacity=30)
    fields.update(overrides)
    return events.SessionDraft(**fields)


def errors_of(factory, existing=None, **overrides) -> dict[str, str]:
    return events.validate(factory.draft(**overrides), existing=existing)


def yangpu_id() -> int:
    org = accounts.find_or_create_organisation("杨浦区市场监督管理局", "杨浦区")
    db.session.commit()
    return org.id


# --- the event's own fields ------------------------------------------------------------------


def test_a_complete_draft_has_no_errors(ctx, factory):
    assert errors_of(factory) == {}


@pytest.mark.parametrize("title", ["", "   ", "质" * 121])
def test_a_title_is_required_and_at_most_120_characters(ctx, factory, title):
    assert "title" in errors_of(factory, title=title)


def test_a_title_of_120_characters_is_accepted(ctx, factory):
    assert "title" not in errors_of(factory, title="质" * 120)


@pytest.mark.parametrize("district", ["浦西区", "", None, "Yangpu"])
def test_the_district_must_be_one_of_shanghais_sixteen(ctx, factory, district):
    assert "district" in errors_of(factory, district=district)


@pytest.mark.parametrize("size,ok", [(0, False), (1, True), (20, True), (21, False),
                                     (None, False), (True, False)])
def test_a_party_is_one_to_twenty_people(ctx, factory, size, ok):
    assert ("max_party_size" not in errors_of(factory, max_party_size=size)) is ok


@pytest.mark.parametrize("kind", ["party", "", None, ["open_day"]])
def test_the_kind_must_be_one_of_the_known_kinds(ctx, factory, kind):
    assert "kind" in errors_of(factory, kind=kind)


@pytest.mark.parametrize("mode", ["raffle", "", None, {"fcfs": 1}])
def test_the_registration_mode_must_be_one_of_the_known_modes(ctx, factory, mode):
    assert "registration_mode" in errors_of(factory, registration_mode=mode)


def test_a_venue_is_required(ctx, factory):
    assert "venue" in errors_of(factory, venue=" ")


# --- sessions --------------------------------------------------------------------------------


def test_an_event_needs_at_least_one_session(ctx, factory):
    draft = factory.draft()
    draft.sessions = []
    assert "sessions" in events.validate(draft)


def test_a_session_ends_after_it_starts(ctx, factory):
    start = soon()
    errors = errors_of(factory, sessions=[one_session(starts_at=start, ends_at=start)])
    assert "sessions.0.ends_at" in errors


@pytest.mark.parametrize("capacity", [0, -5, None])
def test_a_session_has_at_least_one_place(ctx, factory, capacity):
    assert "sessions.0.capacity" in errors_of(factory, sessions=[one_session(capacity=capacity)])


def test_a_new_session_cannot_start_in_the_past(ctx, factory):
    errors = errors_of(factory, sessions=[one_session(starts_at=utcnow() - timedelta(hours=1))])
    assert "sessions.0.starts_at" in errors


def test_registration_closes_no_later_than_the_session_starts(ctx, factory):
    start = soon()
    late = one_session(starts_at=start, registration_closes_at=start + timedelta(minutes=1))
    on_time = one_session(starts_at=start, registration_closes_at=start)
    assert "sessions.0.registration_closes_at" in errors_of(factory, sessions=[late])
    assert errors_of(factory, sessions=[on_time]) == {}


def test_registration_opens_before_it_closes(ctx, factory):
    start = soon()
    session = one_session(starts_at=start, registration_opens_at=start - timedelta(days=1),
                          registration_closes_at=start - timedelta(days=2))
    assert "sessions.1.registration_closes_at" in errors_of(
        factory, sessions=[one_session(), session])


def test_registration_opens_before_the_session_starts(ctx, factory):
    start = soon()
    session = one_session(starts_at=start, registration_opens_at=start)
    assert "sessions.0.registration_opens_at" in errors_of(factory, sessions=[session])


# --- checkpoints -----------------------------------------------------------------------------


def test_checkpoint_names_are_unique(ctx, factory):
    assert "checkpoints" in errors_of(factory, checkpoints=["入口", "展厅", "展厅"])


def test_checkpoint_names_are_not_empty(ctx, factory):
    assert "checkpoints" in errors_of(factory, checkpoints=["入口", "  "])


def test_an_event_without_checkpoints_gets_an_entrance(ctx, factory):
    event = events.create_event(yangpu_id(), factory.draft(checkpoints=[]))
    assert [(c.position, c.name) for c in event.checkpoints] == [(0, "Entrance")]


def test_checkpoints_keep_their_order_the_first_being_the_entrance(ctx, factory):
    event = events.create_event(yangpu_id(), factory.draft(checkpoints=["北门", "生产线", "展厅"]))
    assert [c.name for c in event.checkpoints] == ["北门", "生产线", "展厅"]
    assert event.entrance.name == "北门"


# --- editing an event people registered for --------------------------------------------------


def _created_with_places_taken(factory, taken: int) -> Event:
    event = events.create_event(yangpu_id(), factory.draft(
        sessions=[one_session(), one_session(starts_at=soon(days=8))]))
    db.session.execute(update(EventSession).where(EventSession.id == event.sessions[0].id)
                       .values(places_taken=taken))
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Event, event.id)


def _drafts_of(event: Event) -> list[events.SessionDraft]:
    return [events.SessionDraft(id=s.id, starts_at=s.starts_at, ends_at=s.ends_at,
                                capacity=s.capacity) for s in event.sessions]


def test_capacity_cannot_drop_below_the_places_taken(ctx, factory):
    event = _created_with_places_taken(factory, 12)
    sessions = _drafts_of(event)
    sessions[0].capacity = 11
    with pytest.raises(ValidationFailed) as refused:
        events.update_event(event, factory.draft(sessions=sessions))
    assert "sessions.0.capacity" in refused.value.errors


def test_capacity_can_drop_to_the_places_taken(ctx, factory):
    event = _created_with_places_taken(factory, 12)
    sessions = _drafts_of(event)
    sessions[0].capacity = 12
    events.update_event(event, factory.draft(sessions=sessions))
    assert event.sessions[0].capacity == 12


def test_a_session_with_places_taken_cannot_be_removed(ctx, factory):
    event = _created_with_places_taken(factory, 3)
    with pytest.raises(ValidationFailed) as refused:
        events.update_event(event, factory.draft(sessions=_drafts_of(event)[1:]))
    assert "sessions" in refused.value.errors
    assert len(db.session.get(Event, event.id).sessions) == 2


def test_a_session_nobody_registered_for_can_be_removed(ctx, factory):
    event = _created_with_places_taken(factory, 3)
    events.update_event(event, factory.draft(sessions=_drafts_of(event)[:1]))
    assert len(event.sessions) == 1


def test_a_session_that_already_started_may_stay_as_it_is(ctx, factory):
    event = _created_with_places_taken(factory, 0)
    db.session.execute(update(EventSession).where(EventSession.id == event.sessions[0].id)
                       .values(starts_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    events.update_event(event, factory.draft(title="新标题", sessions=_drafts_of(event)))
    assert event.title == "新标题"


def test_a_session_of_another_event_cannot_be_edited_through_this_one(ctx, factory):
    mine = events.create_event(yangpu_id(), factory.draft())
    other = events.create_event(yangpu_id(), factory.draft())
    stolen = _drafts_of(other)
    with pytest.raises(ValidationFailed) as refused:
        events.update_event(mine, factory.draft(sessions=stolen))
    assert "sessions.0.id" in refused.value.errors


# --- publishing and cancelling -------------------------------------------------------------


def test_a_draft_is_published_then_taken_back(ctx, factory):
    event = events.create_event(yangpu_id(), factory.draft())
    assert event.status == EventStatus.DRAFT
    events.publish(event)
    assert event.status == EventStatus.PUBLISHED and event.published_at is not None
    events.unpublish(event)
    assert event.status == EventStatus.DRAFT


def test_a_cancelled_event_cannot_be_published_or_cancelled_again(ctx, factory):
    event = events.create_event(yangpu_id(), factory.draft(), publish=True)
    events.cancel(event)
    with pytest.raises(InvalidTransition):
        events.publish(event)
    with pytest.raises(InvalidTransition):
        events.cancel(event)
    assert event.status == EventStatus.CANCELLED


def test_only_a_published_event_goes_back_to_draft(ctx, factory):
    event = events.create_event(yangpu_id(), factory.draft())
    with pytest.raises(InvalidTransition):
        events.unpublish(event)


# --- the back office's list --------------------------------------------------------------


def test_the_back_office_list_sums_places_and_puts_the_soonest_first(ctx, factory):
    org = yangpu_id()
    later = events.create_event(org, factory.draft(title="晚", sessions=[
        one_session(starts_at=soon(days=20), capacity=10),
        one_session(starts_at=soon(days=21), capacity=5)]))
    sooner = events.create_event(org, factory.draft(title="早", sessions=[
        one_session(starts_at=soon(days=2), capacity=8)]))
    db.session.execute(update(EventSession).where(EventSession.event_id == later.id).values(places_taken=2))
    db.session.commit()
    admin = accounts.create_user("admin@example.cn", "correct horse battery", "admin")
    rows, total = listings.office_events(admin)
    assert total == 2
    assert [r.event.title for r in rows] == ["早", "晚"]
    assert (rows[1].places_taken, rows[1].capacity, rows[1].sessions) == (4, 15, 2)
    assert rows[0].next_starts_at == sooner.sessions[0].starts_at


def test_a_lottery_session_needs_a_registration_closing_time(app, factory):
    draft = factory.draft(registration_mode="lottery")
    draft.sessions[0].registration_closes_at = None
    with app.test_request_context("/?lang=en"):
        errors = events.validate(draft)
    assert errors == {
        "sessions.0.registration_closes_at": "A lottery is drawn when registration closes: set that time."
    }
