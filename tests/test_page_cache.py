"""The public pages' render cache (qmevents/public/pagecache.py): a cached page never shows another
language, a draft, a signed-in organiser's menu or a visitor's own message to anybody else, and
never an "open" session more than PAGE_CACHE_SECONDS (1 s) after it filled or closed or its event
was cancelled; a page whose events did not change is kept (up to PAGE_CACHE_MAX_SECONDS). The
cache's clock is moved on by the tests (no sleeping); the real-server test runs the app under
gunicorn with several workers and real time."""
from __future__ import annotations

import gzip
import re
import time
import urllib.request
from datetime import timedelta
from types import SimpleNamespace

import brotli
import pytest
from sqlalchemy import select, update

from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import Event, EventSession, EventStatus, ensure_districts
from qmevents.public import pagecache
from qmevents.timeutil import utcnow

from .conftest import TEST_CONFIG, Factory, close_app, login, ready_app
from .support.pgserver import free_port
from .support.redisserver import RedisServer
from .support.server import Gunicorn, app_env
from .test_public import sessions_at, take_places


@pytest.fixture
def app(tmp_path, monkeypatch, postgres_url):
    """The suite's app with the render cache on, as it is served (conftest switches it off)."""
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = ready_app(postgres_url, PAGE_CACHE_SECONDS=1.0)
    yield app
    close_app(app)


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock: `clock.move(s)` ages every stored page by s seconds."""
    moved = [0.0]
    monkeypatch.setattr(pagecache, "time", SimpleNamespace(
        time=lambda: time.time() + moved[0], monotonic=lambda: time.monotonic() + moved[0]))
    return SimpleNamespace(move=lambda s: moved.__setitem__(0, moved[0] + s))


def page(client, url: str, status: int = 200, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_places_taken_show_within_the_freshness_and_not_before(app, client, factory, clock):
    event_id = factory.event(sessions=sessions_at(3, capacity=8))
    assert "8 of 8 places left" in page(client, f"/events/{event_id}?lang=en")
    assert "8 places left" in page(client, "/?lang=en")

    take_places(app, event_id, 8)
    # Within the second the page was rendered, phones get it as it was (the cache is at work)...
    assert "8 of 8 places left" in page(client, f"/events/{event_id}?lang=en")
    clock.move(pagecache_seconds(app))
    # ...and from then on the full session, on the event page and in the list.
    full = page(client, f"/events/{event_id}?lang=en")
    assert "Full" in full and "places left" not in full
    assert "/register" not in full
    assert "8 places left" not in page(client, "/?lang=en")


def test_a_closed_window_and_a_cancelled_event_show_within_the_freshness(app, client, factory,
                                                                          clock):
    closing = factory.event(title="截止报名的活动", sessions=sessions_at(3))
    cancelled = factory.event(title="取消的活动", sessions=sessions_at(4))
    for event_id in (closing, cancelled):
        assert "Registration open until" in page(client, f"/events/{event_id}?lang=en")
    with app.app_context():
        db.session.execute(update(EventSession).where(EventSession.event_id == closing)
                           .values(registration_closes_at=utcnow() - timedelta(minutes=1)))
        db.session.get(Event, cancelled).status = EventStatus.CANCELLED
        db.session.commit()

    clock.move(pagecache_seconds(app))

    closed = page(client, f"/events/{closing}?lang=en")
    assert "Registration open until" not in closed and "/register" not in closed
    gone = page(client, f"/events/{cancelled}?lang=en")
    assert "This event has been cancelled." in gone and "/register" not in gone


def test_a_page_whose_events_did_not_change_is_kept_up_to_its_longest_life(app, client, factory,
                                                                           clock):
    event_id = factory.event(title="开放日", sessions=sessions_at(3, capacity=8))
    url = f"/events/{event_id}?lang=en"
    first = client.get(url)
    with app.app_context():  # what no fingerprint covers: the organisation's name
        db.session.get(Event, event_id).organisation.name = "改名后的市场监督管理局"
        db.session.commit()

    clock.move(30)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304  # the same page, not rendered again
    clock.move(pagecache_seconds(app) + 30)
    assert "改名后的市场监督管理局" in page(client, url)


def test_a_new_event_and_an_event_taken_back_to_draft_show_within_the_freshness(app, client,
                                                                                 factory, clock):
    shown = factory.event(title="第一场开放日")
    assert "第一场开放日" in page(client, "/")
    later = factory.event(title="新发布的开放日")
    with app.app_context():
        db.session.get(Event, shown).status = EventStatus.DRAFT
        db.session.commit()

    clock.move(pagecache_seconds(app))

    listed = page(client, "/")
    assert "新发布的开放日" in listed and "第一场开放日" not in listed
    assert "第一场开放日" not in page(client, f"/events/{shown}", status=404)
    assert "新发布的开放日" in page(client, f"/events/{later}")


def test_an_organisers_edit_of_a_session_shows_within_the_freshness(app, client, factory, clock,
                                                                    monkeypatch):
    event_id = factory.event(sessions=sessions_at(3, capacity=8, label="上午场"))
    assert "上午场" in page(client, f"/events/{event_id}")
    with app.app_context():
        from qmevents.services import events
        event = db.session.get(Event, event_id)
        draft = factory.draft(sessions=[events.SessionDraft(
            id=event.sessions[0].id, starts_at=event.sessions[0].starts_at,
            ends_at=event.sessions[0].ends_at, capacity=8, label="下午场")])
        events.update_event(event, draft)

    clock.move(pagecache_seconds(app))

    edited = page(client, f"/events/{event_id}")
    assert "下午场" in edited and "上午场" not in edited


def test_a_cached_page_never_answers_in_another_language(client, factory):
    event_id = factory.event()
    url = f"/events/{event_id}"
    assert '<html lang="zh-CN"' in page(client, url)  # stored in Chinese

    assert '<html lang="en"' in page(client, url + "?lang=en")
    # The English choice is now a cookie: the same address is the English page.
    english = page(client, url)
    assert '<html lang="en"' in english and "Sessions" in english
    # A phone without the cookie still gets the Chinese page, from the cache.
    other_phone = client.application.test_client()
    assert '<html lang="zh-CN"' in page(other_phone, url)
    assert '<html lang="zh-CN"' in page(other_phone, "/")
    assert '<html lang="en"' in page(client, "/")


def test_larger_text_is_one_visitors_choice(client, factory):
    event_id = factory.event()
    assert 'class="text-large"' in page(client, f"/events/{event_id}?text=large")
    assert 'class="text-large"' not in page(client.application.test_client(),
                                            f"/events/{event_id}")


def test_an_organisers_draft_preview_and_menu_never_reach_citizens(app, client, factory):
    draft = factory.event(title="草稿活动", publish=False)
    published = factory.event(title="已发布的活动")
    _, email = factory.user("organiser")
    login(client, email)
    assert "草稿活动" in page(client, f"/events/{draft}")
    own = client.get(f"/events/{published}")
    assert "Sign out" in own.get_data(as_text=True) or "退出" in own.get_data(as_text=True)
    assert own.headers["Cache-Control"] == "private, no-cache"
    page(client, "/")

    citizen = app.test_client()
    assert "草稿活动" not in page(citizen, f"/events/{draft}", status=404)
    for url in (f"/events/{published}", "/"):
        seen = page(citizen, url)
        assert "csrf_token" not in seen and "/logout" not in seen, url
        assert "草稿活动" not in seen

    # Another organisation's organiser: the draft stays hidden, cached page or not.
    other = app.test_client()
    _, other_email = factory.user("organiser", org="徐汇区市场监督管理局", district="徐汇区")
    login(other, other_email)
    assert "草稿活动" not in page(other, f"/events/{draft}", status=404)


def test_a_citizens_signed_in_page_is_theirs_even_after_citizens_warmed_the_cache(app, client,
                                                                                   factory):
    event_id = factory.event()
    page(client, f"/events/{event_id}")  # the anonymous page is stored
    _, email = factory.user("organiser")
    organiser = app.test_client()
    login(organiser, email)

    assert "/logout" in page(organiser, f"/events/{event_id}")


def test_a_made_up_parameter_is_neither_stored_nor_repeated_to_others(app, client, factory, clock):
    event_id = factory.event(sessions=sessions_at(3, capacity=8))
    marked = page(client, f"/events/{event_id}?lang=en&utm_source=spam")
    assert "utm_source=spam" in marked  # the language link keeps what this visitor sent

    assert "utm_source" not in page(app.test_client(), f"/events/{event_id}?lang=en")
    take_places(app, event_id, 8)
    # Not stored: the same odd address is rendered afresh.
    assert "Full" in page(client, f"/events/{event_id}?lang=en&utm_source=spam")


def test_a_bad_filter_and_an_unknown_event_are_not_stored(app, client, factory):
    page(client, "/?date_from=2026-13-40", status=400)
    assert page(client, "/events/424242", status=404)
    event_id = factory.event()
    assert page(client, f"/events/{event_id}")


def test_a_visitors_message_is_shown_to_them_alone(app, client, factory):
    event_id = factory.event()
    page(app.test_client(), f"/events/{event_id}?lang=en")  # stored without any message
    with client.session_transaction() as s:
        s["_flashes"] = [("info", "只给这位访客的提示")]

    assert "只给这位访客的提示" in page(client, f"/events/{event_id}?lang=en")
    assert "只给这位访客的提示" not in page(app.test_client(), f"/events/{event_id}?lang=en")


def test_a_phone_that_has_the_page_gets_304_and_compressed_bodies_are_the_page(app, client,
                                                                               factory, clock):
    event_id = factory.event(sessions=sessions_at(3, capacity=8))
    url = f"/events/{event_id}?lang=en"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    assert "Cookie" in first.headers["Vary"] and "Accept-Encoding" in first.headers["Vary"]

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""

    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.data) == first.data
    br = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.data) == first.data
    assert client.get(url, headers={"Accept-Encoding": "br",
                                    "If-None-Match": br.headers["ETag"]}).status_code == 304

    take_places(app, event_id, 8)
    clock.move(pagecache_seconds(app))
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Full" in changed.get_data(as_text=True)


def test_the_cache_can_be_switched_off(client, factory, app):
    app.config["PAGE_CACHE_SECONDS"] = 0
    event_id = factory.event(sessions=sessions_at(3, capacity=8))
    assert "8 of 8" in page(client, f"/events/{event_id}?lang=en")
    take_places(app, event_id, 8)
    assert "Full" in page(client, f"/events/{event_id}?lang=en")
    assert "ETag" not in client.get(f"/events/{event_id}").headers


def pagecache_seconds(app) -> float:
    return float(app.config["PAGE_CACHE_SECONDS"])


# --- the real server ----------------------------------------------------------------------------


@pytest.mark.server
def test_a_full_session_shows_full_on_every_worker_within_two_seconds(database_url, tmp_path,
                                                                       monkeypatch):
    """Four gunicorn workers each keep their own cache: after the last place is taken through the
    API, no worker shows the session open for more than 2 seconds."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(instance))
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        ensure_districts()
    event_id = Factory(app).event(sessions=sessions_at(3, capacity=2), max_party_size=2)
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))
    server = Gunicorn("wsgi:app", app_env(instance, database_url), workers=4).start()
    url = f"{server.url}/events/{event_id}?lang=en"

    def shows_open() -> bool:
        with urllib.request.urlopen(url, timeout=5) as response:
            return "/register" in response.read().decode()

    try:
        assert all(shows_open() for _ in range(40))  # every worker has it stored, open
        status, body = server.post_json(
            f"/api/v1/events/{event_id}/registrations?lang=en",
            {"session_id": session_id, "name": "市民", "phone": "13800138000", "party_size": 2})
        assert status == 201, body
        filled = time.monotonic()
        last_open = None
        while time.monotonic() - filled < 3:
            # When the question was sent: on a loaded machine the answer can queue behind other
            # requests, which is load, not a stale page.
            asked = time.monotonic() - filled
            if shows_open():
                last_open = asked
        assert last_open is None or last_open < 2.0, f"still open {last_open:.2f} s after full"
        assert re.search(r"\bFull\b", urllib.request.urlopen(url).read().decode())
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


# --- shared in Redis ----------------------------------------------------------------------------


needs_redis = pytest.mark.skipif(not RedisServer.available(),
                                 reason="redis-server is not installed (apt-get install redis-server)")


@needs_redis
def test_servers_sharing_redis_share_the_rendered_page(tmp_path, monkeypatch, postgres_url,
                                                        clock):
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "instance"))
    with RedisServer() as redis_server:
        monkeypatch.setenv("REDIS_URL", redis_server.url)
        one = ready_app(postgres_url, PAGE_CACHE_SECONDS=1.0)
        other = create_app({**TEST_CONFIG, "PAGE_CACHE_SECONDS": 1.0, "SQLALCHEMY_DATABASE_URI":
                            one.config["SQLALCHEMY_DATABASE_URI"]})
        try:
            assert one.config["CACHE_TYPE"] == "RedisCache"
            event_id = Factory(one).event(sessions=sessions_at(3, capacity=8))
            url = f"/events/{event_id}?lang=en"
            stored = one.test_client().get(url)
            with one.app_context():  # not fingerprinted: only a render would show it
                db.session.get(Event, event_id).organisation.name = "改名后的市场监督管理局"
                db.session.commit()
            # The other server answers with the page the first one stored...
            shared = other.test_client().get(url)
            assert shared.headers["ETag"] == stored.headers["ETag"]
            assert "改名后的" not in shared.get_data(as_text=True)
            # ...until what it shows changes.
            take_places(one, event_id, 8)
            clock.move(1.0)
            assert "Full" in page(other.test_client(), url)
        finally:
            close_app(one)
            close_app(other)


def test_a_cache_that_does_not_answer_means_rendering_not_an_error(tmp_path, monkeypatch,
                                                                   postgres_url):
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nobody listens
    app = ready_app(postgres_url, PAGE_CACHE_SECONDS=1.0)
    try:
        event_id = Factory(app).event(sessions=sessions_at(3, capacity=8))
        client = app.test_client()
        assert "8 of 8" in page(client, f"/events/{event_id}?lang=en")
        take_places(app, event_id, 8)
        assert "Full" in page(client, f"/events/{event_id}?lang=en")
        assert page(client, "/?lang=en")
    finally:
        close_app(app)


# --- what may be stored, and under which key ------------------------------------------------------


def renders(monkeypatch) -> list[int]:
    """Counts the event page's renders (its one read of the event)."""
    from qmevents.public import views
    calls: list[int] = []
    real = views.listings.public_event

    def counted(event_id, viewer=None):
        calls.append(event_id)
        return real(event_id, viewer=viewer)

    monkeypatch.setattr(views.listings, "public_event", counted)
    return calls


@pytest.mark.parametrize("odd", ["lang=en%26text%3Dlarge", "lang=EN", "text=huge", "lang=en&x=",
                                 "lang=en&lang=zh_CN"])
def test_an_address_in_another_spelling_is_rendered_not_stored(app, client, factory, monkeypatch,
                                                               odd):
    event_id = factory.event()
    counted = renders(monkeypatch)
    for _ in range(2):
        page(client, f"/events/{event_id}?{odd}")
    assert len(counted) == 2  # each one rendered
    for _ in range(2):
        page(client, f"/events/{event_id}?lang=en&text=large")
    assert len(counted) == 3  # the one spelling: rendered once, then stored


@pytest.mark.parametrize("query", ["page=02", "page=51", "date_from=2026-12-10",
                                   "district=%20杨浦区", "kind=fair2"])
def test_list_addresses_outside_the_stored_spellings_are_rendered_each_time(app, client, factory,
                                                                            clock, query):
    factory.event(title="第一场开放日")
    client.get(f"/?{query}")
    factory.event(title="第二场开放日")
    listed = client.get(f"/?{query}")
    assert listed.status_code in (200, 400)
    assert "ETag" not in listed.headers  # not from the cache


def test_with_a_public_url_every_host_shares_one_page(app, client, factory):
    app.config.update(PUBLIC_URL="https://zlyhd.example.gov.cn", LINK_HOSTS=["a.example", "b.example"])
    event_id = factory.event()
    first = client.get(f"/events/{event_id}", headers={"Host": "a.example"})
    second = client.get(f"/events/{event_id}", headers={"Host": "b.example"})
    assert first.status_code == second.status_code == 200
    assert first.headers["ETag"] == second.headers["ETag"]
    assert "https://zlyhd.example.gov.cn/events/" in second.get_data(as_text=True)


def test_a_change_during_the_render_gives_the_page_a_short_life(app, client, factory, clock,
                                                                monkeypatch):
    """Places taken while the page was being rendered (or taken and given back): the page shows
    a state its fingerprints do not name, so it is kept one PAGE_CACHE_SECONDS only."""
    from qmevents.services import catalogue
    event_id = factory.event(sessions=sessions_at(3, capacity=8))
    real = catalogue.fingerprints

    def moved_meanwhile(event_ids=None, now=None):
        found = real(event_ids, now)
        if event_ids is not None:  # the read after the render
            return catalogue.Fingerprints(found.catalogue, {k: "moved" for k in found.events})
        return found

    monkeypatch.setattr(catalogue, "fingerprints", moved_meanwhile)
    counted = renders(monkeypatch)
    page(client, f"/events/{event_id}")
    page(client, f"/events/{event_id}")
    assert len(counted) == 1  # within its short life it is served
    clock.move(pagecache_seconds(app))
    page(client, f"/events/{event_id}")
    assert len(counted) == 2  # then rendered again, though no fingerprint moved since


@pytest.mark.parametrize("target, other", [("/events/{id}?lang=en", "/?lang=en"),
                                           ("/?lang=en", "/events/{id}?lang=en")])
def test_a_place_given_back_and_taken_again_during_the_render_is_not_kept(
        app, client, factory, clock, monkeypatch, target, other):
    """Full; a place given back; the page rendered showing it; the place taken again before the
    read after the render. Places taken are where they were, but the page shows one left: it
    must not be kept as if nothing had moved (places_moves only goes up)."""
    from qmevents.services import catalogue
    from qmevents.services.registrations.places import claim_places, release_places

    event_id = factory.event(sessions=sessions_at(3, capacity=2))
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).filter_by(event_id=event_id))

    def places(move) -> None:
        with app.app_context():
            move(session_id, 1)
            db.session.commit()

    places(claim_places)
    places(claim_places)
    target, other = target.format(id=event_id), other.format(id=event_id)
    assert "Full" in page(client, other)  # this worker's fingerprints read: full
    places(release_places)
    real = catalogue.fingerprints

    def retaken_meanwhile(event_ids=None, now=None):
        if event_ids is not None:  # the read after the render: the place went again before it
            monkeypatch.setattr(catalogue, "fingerprints", real)
            places(claim_places)
        return real(event_ids, now)

    monkeypatch.setattr(catalogue, "fingerprints", retaken_meanwhile)
    one_left = re.compile(r"\b1 (of 2 places|place) left")
    assert one_left.search(page(client, target))  # rendered between the two moves
    clock.move(pagecache_seconds(app))
    shown = page(client, target)
    assert not one_left.search(shown) and "Full" in shown
