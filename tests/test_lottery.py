"""The lottery (摇号): a session is drawn once after its registration closes; winners are confirmed
with their places, counted in people; the rest wait in drawn order; and anyone can re-run the draw
from the published seed and applicants with `flask lottery verify`."""
from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from qmevents.demo.names import person_name
from qmevents.extensions import db
from qmevents.models import (
    EventSession,
    LotteryDraw,
    Notification,
    Registration,
    RegistrationStatus,
)
from qmevents.services import audit, events
from qmevents.services.registrations import lottery
from qmevents.services.registrations import register as reg
from qmevents.services.registrations.lottery import DrawRefused, Refusal
from qmevents.timeutil import utcnow

from .conftest import login, submit

SEED = "0123456789abcdef0123456789abcdef"
FAMILIES = [4, 3, 2, 1, 4, 2, 3, 1, 2, 4]  # 26 people apply for 10 places
DOCS = Path(__file__).resolve().parent.parent / "docs" / "LOTTERY.md"


# --- arranging --------------------------------------------------------------------------------


def lottery_day(app, factory, capacity: int = 10, sessions: int = 1, mode: str = "lottery"):
    """A published lottery open day whose registration closes two days before; returns
    (event id, [session ids by time])."""
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    event_id = factory.event(registration_mode=mode, max_party_size=4, sessions=[
        events.SessionDraft(starts_at=start + timedelta(hours=3 * i),
                            ends_at=start + timedelta(hours=3 * i + 2), capacity=capacity,
                            registration_closes_at=start - timedelta(days=2))
        for i in range(sessions)])
    with app.app_context():
        ids = db.session.scalars(select(EventSession.id).filter_by(event_id=event_id)
                                 .order_by(EventSession.starts_at)).all()
    return event_id, list(ids)


def apply(app, event_id: int, session_id: int, sizes: list[int]) -> list[int]:
    """One application per party size, each from its own phone; their registration ids."""
    ids = []
    with app.app_context():
        for n, size in enumerate(sizes):
            ids.append(reg.register(reg.RegistrationRequest(
                event_id=event_id, session_id=session_id, name=person_name(n),
                phone=f"1380000{session_id:02d}{n:02d}", party_size=size, consent=True,
            )).registration_id)
    return ids


def close(app, session_id: int) -> None:
    """Registration for the session closed a minute ago."""
    with app.app_context():
        db.session.execute(update(EventSession).where(EventSession.id == session_id)
                           .values(registration_closes_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()


@pytest.fixture
def applied(app, factory):
    """Ten families applied for a 10-place session whose registration has now closed."""
    event_id, (session_id,) = lottery_day(app, factory)
    ids = apply(app, event_id, session_id, FAMILIES)
    close(app, session_id)
    return event_id, session_id, ids


@pytest.fixture
def drawn(app, applied):
    event_id, session_id, ids = applied
    with app.app_context():
        lottery.draw(session_id, seed=SEED)
    return event_id, session_id, ids


def statuses(session_id: int) -> dict[int, RegistrationStatus]:
    return dict(db.session.execute(select(Registration.id, Registration.status)
                                   .filter_by(session_id=session_id)).all())


def stored(session_id: int) -> LotteryDraw:
    return db.session.scalar(select(LotteryDraw).filter_by(session_id=session_id))


# --- the draw ---------------------------------------------------------------------------------


def test_the_draw_gives_places_in_people_until_no_waiting_party_fits(app, drawn):
    _event_id, session_id, ids = drawn
    with app.app_context():
        size = dict(zip(ids, FAMILIES, strict=True))
        now = statuses(session_id)
        won = [i for i in ids if now[i] == RegistrationStatus.CONFIRMED]
        waiting = [i for i in ids if now[i] == RegistrationStatus.WAITLISTED]
        taken = db.session.get(EventSession, session_id).places_taken
        assert taken == sum(size[i] for i in won) <= 10
        assert won and len(won) + len(waiting) == len(ids)
        assert all(size[i] > 10 - taken for i in waiting)  # no place left that a waiting party fits


def test_the_losers_wait_in_the_order_drawn(app, drawn):
    _event_id, session_id, _ids = drawn
    with app.app_context():
        record = stored(session_id)
        assert lottery.waitlist_order(session_id) == record.ranking[record.winners:]
        now = statuses(session_id)
        assert {now[i] for i in record.ranking[record.winners:]} == {RegistrationStatus.WAITLISTED}


def test_the_stored_draw_follows_the_documented_algorithm(app, drawn):
    """SHA-256 of "<seed>:<id>" orders the applications; parties that fit are selected."""
    _event_id, session_id, ids = drawn
    with app.app_context():
        record = stored(session_id)
    order = sorted(zip(ids, FAMILIES, strict=True), key=lambda a: (
        hashlib.sha256(f"{SEED}:{a[0]}".encode()).hexdigest(), a[0]))
    left, won, waiting = 10, [], []
    for registration_id, size in order:
        if size <= left:
            won.append(registration_id)
            left -= size
        else:
            waiting.append(registration_id)
    assert (record.seed, record.algorithm, record.capacity) == (SEED, "sha256-first-fit-v1", 10)
    assert record.applicants == [[i, n] for i, n in zip(ids, FAMILIES, strict=True)]
    assert (record.ranking, record.winners) == (won + waiting, len(won))


def test_verify_reproduces_the_stored_draw_whatever_the_order_of_the_list(app, drawn):
    _event_id, session_id, _ids = drawn
    with app.app_context():
        record = stored(session_id)
        assert lottery.verify(record.seed, record.capacity, record.applicants) == (
            record.ranking, record.winners)
        reordered = list(reversed(record.applicants))
        assert lottery.verify(record.seed, record.capacity, reordered).ranking == record.ranking


def test_without_a_given_seed_the_draw_makes_a_fresh_random_one(app, applied):
    _event_id, session_id, _ids = applied
    with app.app_context():
        record = lottery.draw(session_id)
        assert re.fullmatch(r"[0-9a-f]{32}", record.seed)
        assert lottery.matches(record)


def test_drawing_before_registration_closes_is_refused(app, factory):
    event_id, (session_id,) = lottery_day(app, factory)
    apply(app, event_id, session_id, [2, 2])
    with app.app_context():
        with pytest.raises(DrawRefused) as refused:
            lottery.draw(session_id)
        assert refused.value.reason == Refusal.WINDOW_OPEN
        assert stored(session_id) is None
        assert set(statuses(session_id).values()) == {RegistrationStatus.APPLIED}


def test_a_session_without_a_closing_time_asks_for_one(app, factory):
    """Its registration would close only when it starts: too late for any draw. (The event
    rules ask for the time; this is the draw's own guard, for a time removed behind them.)"""
    event_id, (session_id,) = lottery_day(app, factory)
    apply(app, event_id, session_id, [2])
    with app.app_context():
        db.session.get(EventSession, session_id).registration_closes_at = None
        db.session.commit()
        with pytest.raises(DrawRefused) as refused:
            lottery.draw(session_id)
        assert refused.value.reason == Refusal.NO_CLOSING_TIME


def test_drawing_twice_is_refused_and_changes_nothing(app, drawn):
    _event_id, session_id, _ids = drawn
    with app.app_context():
        before = (stored(session_id).ranking, statuses(session_id))
        with pytest.raises(DrawRefused) as refused:
            lottery.draw(session_id)
        assert refused.value.reason == Refusal.ALREADY_DRAWN
        assert (stored(session_id).ranking, statuses(session_id)) == before


def test_two_draws_at_once_make_exactly_one(app, applied):
    _event_id, session_id, ids = applied
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def press_draw():
        with app.app_context():
            barrier.wait()
            try:
                outcomes.append(lottery.draw(session_id).seed)
            except DrawRefused as refused:
                outcomes.append(refused.reason)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=press_draw) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 2 and outcomes.count(Refusal.ALREADY_DRAWN) == 1
    with app.app_context():
        record = stored(session_id)
        assert db.session.scalar(select(db.func.count()).select_from(LotteryDraw)) == 1
        size = dict(zip(ids, FAMILIES, strict=True))
        won = record.ranking[:record.winners]
        assert db.session.get(EventSession, session_id).places_taken == sum(size[i] for i in won)


def test_the_database_refuses_a_second_draw_the_checks_missed(app, drawn, monkeypatch):
    """The unique session_id of a draw is the truth, not the friendly check before it."""
    _event_id, session_id, _ids = drawn
    monkeypatch.setattr(lottery, "drawn", lambda session_id: False)
    monkeypatch.setattr(lottery, "_applications", lambda session_id: 1)
    with app.app_context():
        with pytest.raises(DrawRefused) as refused:
            lottery.draw(session_id)
        assert refused.value.reason == Refusal.ALREADY_DRAWN
        assert db.session.scalar(select(db.func.count()).select_from(LotteryDraw)) == 1


def test_an_event_in_another_mode_cannot_be_drawn(app, factory):
    event_id, (session_id,) = lottery_day(app, factory, mode="waitlist")
    apply(app, event_id, session_id, [2])
    close(app, session_id)
    with app.app_context():
        with pytest.raises(DrawRefused) as refused:
            lottery.draw(session_id)
        assert refused.value.reason == Refusal.NOT_LOTTERY


def test_a_session_nobody_applied_for_is_not_drawn(app, factory):
    _event_id, (session_id,) = lottery_day(app, factory)
    close(app, session_id)
    with app.app_context():
        with pytest.raises(DrawRefused) as refused:
            lottery.draw(session_id)
        assert refused.value.reason == Refusal.NO_APPLICANTS


def test_the_draw_is_in_the_audit_log_with_its_seed(app, organiser, drawn):
    event_id, _session_id, _ids = drawn
    with app.app_context():
        (entry,) = [e for e in audit.entries(event_id) if e.action == "drew"]
        assert entry.detail["seed"] == SEED
        assert entry.detail["applications"] == len(FAMILIES)
        assert entry.actor_id is None


def test_winners_get_their_ticket_and_the_others_their_place_in_line(app, drawn):
    _event_id, session_id, _ids = drawn
    with app.app_context():
        record = stored(session_id)
        sent = {n.registration_id: n for n in db.session.scalars(
            select(Notification).where(Notification.kind.like("lottery%")))}
        assert {sent[i].kind for i in record.ranking[:record.winners]} == {"lottery_won"}
        first_waiting = sent[record.ranking[record.winners]]
        assert first_waiting.kind == "lottery_waitlisted" and "第1位" in first_waiting.body
        assert "/t/" in sent[record.ranking[0]].body


def test_run_due_draws_the_closed_sessions_once(app, factory):
    event_id, (closed, still_open) = lottery_day(app, factory, sessions=2)
    apply(app, event_id, closed, [1, 2, 3])
    apply(app, event_id, still_open, [1, 2])
    close(app, closed)
    with app.app_context():
        assert [session_id for session_id, _ in lottery.run_due()] == [closed]
        assert lottery.run_due() == []
        assert stored(still_open) is None


# --- the commands -----------------------------------------------------------------------------


def published_json(client, event_id: int, session_id: int, tmp_path: Path) -> Path:
    response = client.get(f"/events/{event_id}/sessions/{session_id}/lottery.json")
    assert response.status_code == 200
    path = tmp_path / "lottery.json"
    path.write_text(response.get_data(as_text=True), encoding="utf-8")
    return path


def test_verify_with_the_published_json_reproduces_the_winners(app, client, runner, drawn,
                                                               tmp_path):
    event_id, session_id, _ids = drawn
    path = published_json(client, event_id, session_id, tmp_path)
    result = runner.invoke(args=["lottery", "verify", "--applicants", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        record = stored(session_id)
    winners = " ".join(map(str, record.ranking[:record.winners]))
    assert re.search(rf"winners: {record.winners} \(\d+ people\): {winners}$", result.output, re.M)
    assert "MATCHES the published ranking" in result.output


def test_verify_says_when_a_published_ranking_was_altered(client, runner, drawn, tmp_path):
    event_id, session_id, _ids = drawn
    path = published_json(client, event_id, session_id, tmp_path)
    data = json.loads(path.read_text())
    data["ranking"] = list(reversed(data["ranking"]))
    path.write_text(json.dumps(data))
    result = runner.invoke(args=["lottery", "verify", "--applicants", str(path)])
    assert result.exit_code == 1
    assert "DIFFERS" in result.output


def test_verify_takes_seed_and_capacity_by_hand_and_applicants_as_csv(app, runner, drawn,
                                                                     tmp_path):
    _event_id, session_id, ids = drawn
    csv_file = tmp_path / "applicants.csv"
    csv_file.write_text("id,party_size\n" + "".join(
        f"{i},{n}\n" for i, n in zip(ids, FAMILIES, strict=True)))
    result = runner.invoke(args=["lottery", "verify", "--seed", SEED, "--capacity", "10",
                                 "--applicants", str(csv_file)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        record = stored(session_id)
    assert re.search(rf"winners: {record.winners} ", result.output)


def test_verify_session_checks_the_stored_draw(app, runner, drawn):
    _event_id, session_id, _ids = drawn
    result = runner.invoke(args=["lottery", "verify", "--session", str(session_id)])
    assert result.exit_code == 0, result.output
    assert "MATCHES the stored draw" in result.output
    with app.app_context():
        record = stored(session_id)
        record.ranking = list(reversed(record.ranking))
        db.session.commit()
    result = runner.invoke(args=["lottery", "verify", "--session", str(session_id)])
    assert result.exit_code == 1


def test_the_draw_command_draws_once_and_refuses_the_second_time(app, runner, applied):
    _event_id, session_id, _ids = applied
    first = runner.invoke(args=["lottery", "draw", "--session", str(session_id)])
    assert first.exit_code == 0, first.output
    assert f"session {session_id}: drew" in first.output
    again = runner.invoke(args=["lottery", "draw", "--session", str(session_id)])
    assert again.exit_code == 1 and again.output.startswith("Error: ")  # the reason, in Chinese
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(LotteryDraw)) == 1


def test_the_python_lines_in_the_docs_verify_a_published_draw(client, drawn, tmp_path,
                                                              monkeypatch, capsys):
    event_id, session_id, _ids = drawn
    published_json(client, event_id, session_id, tmp_path)
    snippet = re.search(r"<!-- verify-snippet -->\n```python\n(.*?)```", DOCS.read_text(),
                        re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "LOTTERY.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "MATCHES"


# --- the pages --------------------------------------------------------------------------------


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_organiser_draws_with_the_button_once_registration_has_closed(app, client,
                                                                          organiser, applied):
    client.set_cookie("lang", "en")
    event_id, session_id, _ids = applied
    html = page(client, f"/organiser/events/{event_id}/lottery")
    assert "Ready to draw" in html and "10 applications" in html
    response = submit(client, f"/organiser/events/{event_id}/sessions/{session_id}/lottery", {},
                      page=f"/organiser/events/{event_id}/lottery", follow_redirects=True)
    html = response.get_data(as_text=True)
    with app.app_context():
        record = stored(session_id)
        assert record.drawn_by_id == organiser
    assert f"{record.winners} of 10 applications were selected" in html
    assert record.seed in html
    assert "138****" in html and "13800000" not in html  # phones masked


def test_before_the_window_closes_the_button_is_disabled_and_a_post_is_refused(
        app, client, organiser, factory):
    client.set_cookie("lang", "en")
    event_id, (session_id,) = lottery_day(app, factory)
    apply(app, event_id, session_id, [1, 2])
    html = page(client, f"/organiser/events/{event_id}/lottery")
    assert re.search(r'<button class="button primary" type="submit" disabled>', html)
    response = submit(client, f"/organiser/events/{event_id}/sessions/{session_id}/lottery", {},
                      page=f"/organiser/events/{event_id}/lottery", follow_redirects=True)
    assert "the draw can run once it has closed" in response.get_data(as_text=True)
    with app.app_context():
        assert stored(session_id) is None


def test_another_organisations_lottery_is_not_found(app, client, factory, applied):
    event_id, session_id, _ids = applied
    _user_id, email = factory.user("organiser", org="浦东新区市场监督管理局", district="浦东新区")
    login(client, email)
    assert client.get(f"/organiser/events/{event_id}/lottery").status_code == 404
    response = submit(client, f"/organiser/events/{event_id}/sessions/{session_id}/lottery", {},
                      page="/organiser/events/new")
    assert response.status_code == 404
    with app.app_context():
        assert stored(session_id) is None


def test_the_public_page_says_when_the_draw_is_then_shows_its_seed(app, client, applied):
    client.set_cookie("lang", "en")
    event_id, session_id, _ids = applied
    assert "Places are drawn by lottery after registration closes on" in page(
        client, f"/events/{event_id}")
    assert client.get(f"/events/{event_id}/sessions/{session_id}/lottery.json").status_code == 404
    with app.app_context():
        lottery.draw(session_id, seed=SEED)
    html = page(client, f"/events/{event_id}")
    assert SEED in html
    assert f"/events/{event_id}/sessions/{session_id}/lottery.json" in html
    assert 'href="/lottery"' in html
    assert "sha256-first-fit-v1" in page(client, "/lottery")


def test_the_published_list_names_nobody(app, client, drawn):
    event_id, session_id, _ids = drawn
    response = client.get(f"/events/{event_id}/sessions/{session_id}/lottery.json")
    data = response.get_json()
    assert set(data) == {"event_id", "session_id", "algorithm", "seed", "capacity", "drawn_at",
                         "applicants", "ranking", "winners"}
    text = response.get_data(as_text=True)
    assert "申请人" not in text and "1380000" not in text


def test_a_ticket_shows_its_place_in_the_draw(app, drawn):
    """templates/public/_lottery_ticket.html, as the ticket page includes it."""
    _event_id, session_id, _ids = drawn
    with app.test_request_context("/?lang=en"):
        record = stored(session_id)
        waiting = db.session.get(Registration, record.ranking[record.winners])
        html = app.jinja_env.get_template("public/_lottery_ticket.html").render(
            registration=waiting, event=waiting.event, session=waiting.session)
    assert "no. 1 on the waiting list" in html
    assert SEED in html and str(waiting.id) in html
