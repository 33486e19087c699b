"""The render cache of the public pages citizens refresh at an opening: the event list and an
event's page (Flask-Caching: in each worker's memory by default, Redis when REDIS_URL is set).

What a cached page may hold, and for how long:
- **Only what every anonymous visitor would see.** A signed-in organiser (who sees drafts, their
  own menu and a sign-out form with its CSRF token) or a visitor with a message waiting (a flash)
  gets the page rendered for them, never stored and never served from the cache.
- **Keyed by everything the page depends on**: the release (templates, translations), the host
  and scheme its share links are built from (none with PUBLIC_URL), the language, the text size,
  the path and the query. Only a query of parameters the page takes, each in its one spelling
  (`page=2`, not `page=02`; no date filters), is stored: the page's links repeat the query (the
  language switch), so a made-up parameter must not travel into a page shown to others, and a
  flood of spellings must not fill the cache or push the pages phones want out of it.
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
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user

from ..extensions import cache
from ..filters import TEXT_SIZES, text_large
from ..models import EventKind
from ..services import catalogue

try:  # brotli comes with Flask-Compress
    import brotli
except ImportError:  # pragma: no cover
    brotli = None

logger = logging.getLogger(__name__)

EVENT_KINDS = frozenset(kind.value for kind in EventKind)
MIN_COMPRESS = 500  # bytes; smaller bodies go as they are
ENCODINGS = ("br", "gzip") if brotli else ("gzip",)


def cached_page(*parameters: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serve the view's page from the render cache when every anonymous visitor sees the same.
    `parameters`: the query parameters the page takes and a stored page may carry."""
    taken = frozenset(parameters)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            key = page_key(taken)
            if key is None:
                response = current_app.make_response(view(*args, **kwargs))
                if current_user.is_authenticated:  # their menu, their drafts: for them alone
                    response.headers["Cache-Control"] = "private, no-cache"
                return response
            # Read before rendering, so a page is never stored under fingerprints newer than
            # what it shows (it would then outlive a change made in between).
            before = _fingerprints()
            entry = _get(key)
            if entry is not None and not _holds(entry, before) and entry["at"] > _read_at():
                # Stored by a worker that read the fingerprints after this one (a shared
                # Redis): read them afresh before rendering it again.
                before = _fingerprints(fresh=True)
            if entry is None or not _holds(entry, before):
                response = current_app.make_response(view(*args, **kwargs))
                if not _storable(response):
                    return response
                entry = _entry(response, _settled(g.get("page_shows"), before))
                _set(key, entry)
            return _answer(entry)

        return wrapper

    return decorator


def shows(event_ids, listing: bool = False) -> None:
    """A view says which events its page shows (and whether it is the list, which also
    depends on which events there are): the page is kept while their fingerprints hold."""
    g.page_shows = (listing, tuple(event_ids))


def _settled(shown: tuple[bool, tuple[int, ...]] | None,
             before: catalogue.Fingerprints) -> tuple | None:
    """The fingerprints to store a just-rendered page under: those read before rendering, if
    they still hold afterwards. Had they moved in between (a place taken during the render, or
    given back and taken again: 50, 49, 50, which `places_moves` tells from no move), the page
    may show a state no fingerprint names, so it gets the short life instead. Only the shown
    events' are read again, for the list too: which events there are only moves forward (a save,
    a new event, a session past), so the catalogue's fingerprint read before the render cannot
    come back to name an older list, and reading it again would cost a render of the list the
    whole catalogue's fingerprints."""
    signature = _signature(shown, before)
    if signature is None:
        return None
    _listing, event_ids, prints = signature
    return signature if catalogue.fingerprints(event_ids).of(event_ids) == prints else None


def _signature(shown: tuple[bool, tuple[int, ...]] | None,
               now: catalogue.Fingerprints) -> tuple | None:
    """The fingerprints a page shows; None when one of its events has no session to come
    (nothing to fingerprint: the page lives PAGE_CACHE_SECONDS)."""
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


def _fingerprints(fresh: bool = False) -> catalogue.Fingerprints:
    """This worker's fingerprints, read again once they are PAGE_CACHE_SECONDS old."""
    state = _state()
    if (fresh or state.get("read_at") is None
            or time.monotonic() - state["read_at"] >= _seconds()):
        state["fingerprints"] = catalogue.fingerprints()
        state["read_at"], state["read_wall"] = time.monotonic(), time.time()
    return state["fingerprints"]


def _read_at() -> float:
    """When (wall clock) this worker last read the fingerprints."""
    return _state().get("read_wall", 0.0)


# Values a stored page may carry, each in one spelling only, so that no two addresses share a
# key and a flood of spellings cannot fill the cache (any other is rendered, not stored). The list's
# date filters are never stored: a million days is a million keys.
MAX_STORED_PAGE = 50


def _canonical(name: str, value: str) -> bool:
    if name == "lang":
        return value in current_app.config["LANGUAGES"]
    if name == "text":
        return value in TEXT_SIZES
    if name == "page":
        return value.isdigit() and value[0] != "0" and int(value) <= MAX_STORED_PAGE
    if name == "kind":
        return value in EVENT_KINDS
    if name == "district":  # an unknown one is a 400, never stored
        return 0 < len(value) <= 20 and value == value.strip()
    return False


def page_key(taken: frozenset[str] = frozenset()) -> str | None:
    """What the page depends on, as a key; None when this visitor's page must be rendered."""
    if _seconds() <= 0 or request.method not in ("GET", "HEAD"):
        return None
    args = request.args
    if any(name not in taken or len(values) > 1 or not _canonical(name, values[0])
           for name, values in args.lists()):
        return None
    if session.get("_flashes") or current_user.is_authenticated:
        return None
    # With PUBLIC_URL the page's links do not depend on the address it was asked for.
    origin = "" if current_app.config.get("PUBLIC_URL") else request.host_url
    return "|".join((
        "page", _release(), origin, str(get_locale()), "large" if text_large() else "normal",
        request.path, urlencode(sorted(args.items())),
    ))


def _release() -> str:
    """This release's templates and translations, so that pages a shared Redis holds from
    another release (during a rolling deploy) are never served by this one."""
    state = _state()
    if "release" not in state:
        digest = hashlib.blake2b(digest_size=6)
        for folder, pattern in ((current_app.template_folder, "**/*.html"),
                                (current_app.root_path + "/translations", "**/*.mo")):
            for path in sorted(Path(folder).glob(pattern)):
                digest.update(path.read_bytes())
        state["release"] = digest.hexdigest()
    return state["release"]


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


def _state() -> dict[str, Any]:
    """This app's cache state in this process."""
    return current_app.extensions.setdefault("qmevents-pagecache", {})


def _seconds() -> float:
    return float(current_app.config.get("PAGE_CACHE_SECONDS") or 0)


def _max_seconds() -> float:
    return float(current_app.config.get("PAGE_CACHE_MAX_SECONDS") or 60)
