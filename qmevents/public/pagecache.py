"""The render cache of the public pages citizens refresh at an opening: the event list and an
event's page (Flask-Caching: in each worker's memory by default, Redis when REDIS_URL is set).

What a cached page may hold, and for how long:
- **Only what every anonymous visitor would see.** A signed-in organiser (who sees drafts, their
  own menu and a sign-out form with its CSRF token) or a visitor with a message waiting (a flash)
  gets the page rendered for them, never stored and never served from the cache.
- **Keyed by everything the page depends on**: the host and scheme its share links are built from,
  the language, the text size, the path and the query. A query with a parameter the page does not
  take is rendered, not stored: the page's links repeat the query (the language switch), and a
  made-up parameter must not travel into a page shown to others or fill the cache.
- **Shown only while what it shows still holds.** The view names the events its page shows
  (`shows`); the page is stored with their fingerprints (services/catalogue.py: status, saves,
  each session's places and times and which side of its window "now" is on; for the list, also
  which events it holds). Each worker reads the fingerprints afresh at most every
  PAGE_CACHE_SECONDS (1 s), in one query, and a page whose fingerprints moved is rendered again.
  So places left, "full", a window that opened or closed, an event cancelled, edited or taken
  back to draft show within 1 s, inside the 2 seconds citizens are promised, while a page whose
  events did not change is served for up to PAGE_CACHE_MAX_SECONDS (60 s: what no fingerprint
  covers, such as a lottery's published draw, shows within that). A page of an event with no
  session to come lives PAGE_CACHE_SECONDS. Registering never trusts a page: the conditional
  UPDATE decides.
- Only a 200 that set no cookie and left the session alone is stored (a 404, a 400 with the
  filters' errors are rendered each time).

A cached page is answered with a strong ETag (a phone that has it gets 304 without a render) and
with its gzip and brotli bodies made once when it is stored, not on every answer.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user

from ..extensions import cache
from ..filters import text_large
from ..services import catalogue

try:  # brotli comes with Flask-Compress
    import brotli
except ImportError:  # pragma: no cover
    brotli = None

logger = logging.getLogger(__name__)

# The query parameters the public pages take (the list's filters, paging, language, text size).
PAGE_PARAMETERS = frozenset({"district", "kind", "date_from", "date_to", "page", "lang", "text"})
MIN_COMPRESS = 500  # bytes; smaller bodies go as they are
ENCODINGS = ("br", "gzip") if brotli else ("gzip",)


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve the view's page from the render cache when every anonymous visitor sees the same."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        key = page_key()
        if key is None:
            response = current_app.make_response(view(*args, **kwargs))
            if current_user.is_authenticated:  # their menu, their drafts: for them alone
                response.headers["Cache-Control"] = "private, no-cache"
            return response
        # Read before rendering, so a page is never stored under fingerprints newer than
        # what it shows (it would then outlive a change made in between).
        now = _fingerprints()
        entry = _get(key)
        if entry is not None and not _holds(entry, now):
            entry = None
        if entry is None:
            response = current_app.make_response(view(*args, **kwargs))
            if not _storable(response):
                return response
            entry = _entry(response, _signature(g.get("page_shows"), now))
            _set(key, entry)
        return _answer(entry)

    return wrapper


def shows(event_ids, listing: bool = False) -> None:
    """A view says which events its page shows (and whether it is the list, which also
    depends on which events there are): the page is kept while their fingerprints hold."""
    g.page_shows = (listing, tuple(event_ids))


def _signature(shown: tuple[bool, tuple[int, ...]] | None,
               now: catalogue.Fingerprints) -> tuple | None:
    """The fingerprints a page was rendered under; None when one of its events has no
    session to come (nothing to fingerprint: the page lives PAGE_CACHE_SECONDS)."""
    if shown is None:
        return None
    listing, event_ids = shown
    prints = now.of(event_ids)
    if None in prints:
        return None
    return (now.catalogue if listing else None, event_ids, prints)


def _holds(entry: dict[str, Any], now: catalogue.Fingerprints) -> bool:
    age = time.time() - entry["at"]
    signature = entry["signature"]
    if signature is None:
        return age < _seconds()
    if age >= _max_seconds():
        return False
    listing, event_ids, prints = signature
    return ((listing is None or listing == now.catalogue) and now.of(event_ids) == prints)


def _fingerprints() -> catalogue.Fingerprints:
    """This worker's fingerprints, read again once they are PAGE_CACHE_SECONDS old."""
    state = _state()
    if state.get("read_at") is None or time.monotonic() - state["read_at"] >= _seconds():
        state["fingerprints"] = catalogue.fingerprints()
        state["read_at"] = time.monotonic()
    return state["fingerprints"]


def page_key() -> str | None:
    """What the page depends on, as a key; None when this visitor's page must be rendered."""
    if _seconds() <= 0 or request.method not in ("GET", "HEAD"):
        return None
    if set(request.args) - PAGE_PARAMETERS or any(
            len(values) > 1 for values in request.args.listvalues()):
        return None
    if session.get("_flashes") or current_user.is_authenticated:
        return None
    query = "&".join(f"{k}={request.args[k]}" for k in sorted(request.args))
    return "|".join((
        "page", request.scheme, request.host, str(get_locale()),
        "large" if text_large() else "normal", request.path, query,
    ))


def _storable(response: Response) -> bool:
    return (response.status_code == 200 and not response.is_streamed
            and "Set-Cookie" not in response.headers and not session.modified)


def _entry(response: Response, signature: tuple | None) -> dict[str, Any]:
    body = response.get_data()
    entry = {"at": time.time(), "signature": signature, "type": response.headers["Content-Type"],
             "etag": hashlib.blake2b(body, digest_size=12).hexdigest(), "identity": body}
    if len(body) >= MIN_COMPRESS:
        entry["gzip"] = gzip.compress(body, compresslevel=6, mtime=0)
        if brotli:
            entry["br"] = brotli.compress(body, quality=4)
    return entry


def _answer(entry: dict[str, Any]) -> Response:
    encoding = request.accept_encodings.best_match(ENCODINGS) if "gzip" in entry else None
    response = current_app.response_class(entry[encoding or "identity"],
                                          content_type=entry["type"])
    response.set_etag(entry["etag"] + (f"-{encoding}" if encoding else ""))
    if encoding:
        response.headers["Content-Encoding"] = encoding
    # Revalidate every time (the ETag makes that cheap); the language and text size cookies
    # change the page, and so does what the phone accepts.
    response.headers["Cache-Control"] = "no-cache"
    response.vary.update(("Accept-Encoding", "Cookie"))
    return response.make_conditional(request)


# A cache that does not answer (Redis down) means: render the page, and do not ask it again for
# a while, so that a Redis that hangs costs one timeout per worker every RETRY_SECONDS at most.
RETRY_SECONDS = 10.0


def _get(key: str) -> dict[str, Any] | None:
    """The stored page, if any (whether it still holds is _holds's to say)."""
    if time.monotonic() < _state().get("down_until", 0.0):
        return None
    try:
        entry = cache.get(key)
    except Exception:
        _cache_down()
        return None
    return entry


def _set(key: str, entry: dict[str, Any]) -> None:
    try:
        # Then it is only litter (the caches' own expiry counts in whole seconds).
        lifetime = _seconds() if entry["signature"] is None else _max_seconds()
        cache.set(key, entry, timeout=math.ceil(lifetime) + 1)
    except Exception:
        _cache_down()


def _cache_down() -> None:
    _state()["down_until"] = time.monotonic() + RETRY_SECONDS
    logger.warning("page cache unavailable; pages are rendered for %.0f s", RETRY_SECONDS,
                   exc_info=True)


def _state() -> dict[str, float]:
    """This app's cache state in this process."""
    return current_app.extensions.setdefault("qmevents-pagecache", {})


def _seconds() -> float:
    return float(current_app.config.get("PAGE_CACHE_SECONDS") or 0)


def _max_seconds() -> float:
    return float(current_app.config.get("PAGE_CACHE_MAX_SECONDS") or 60)
