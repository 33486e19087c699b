"""Addresses we hand out to be opened later, outside this request: in an SMS, inside a QR code,
in an API answer. They must be absolute and must not depend on who happened to ask.

A ticket link in a text message from the government sender is only as good as its host: if it
came from the request's Host header, anyone could cancel their own ticket with `Host: evil.example`
and make the official sender text the next family on the waiting list a link to evil.example.

- PUBLIC_URL (config) is the site as citizens reach it, and the only base of links when set.
  Production refuses to start without it (security.check_production).
- Without it (development), a request's own address is used only when its host is one of
  LINK_HOSTS (localhost by default); any other Host is refused (`UntrustedHost`, a 400): no link
  is built from it, and `refuse_untrusted_host` refuses the request before any write, so nothing
  it changes can make a message to somebody else.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import quote, urlsplit

from flask import current_app, has_request_context, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UntrustedHost(BadRequest):
    """The request's Host is not one we build links from (PUBLIC_URL unset, host not in
    LINK_HOSTS)."""

    def __init__(self) -> None:
        super().__init__(_("This address is not one of this site's. Open the site at its own "
                           "address (set PUBLIC_URL or LINK_HOSTS on the server)."))


def ticket_url(code: str) -> str:
    """The ticket page of `code`, as printed in its QR code and sent by SMS."""
    return external_url("public.ticket", code=code)


def external_url(endpoint: str, **values: object) -> str:
    """The absolute address of a page to be opened later (a ticket, a one-time sign-in link, a
    door device's pairing QR).

    PUBLIC_URL when set; else, in a request, the request's address if its host is trusted
    (UntrustedHost otherwise); outside a request and without PUBLIC_URL or SERVER_NAME (a CLI
    command in development) the best we can give is the path, and a warning says why."""
    base = public_base()
    if base:
        return base + _path(endpoint, values)
    if has_request_context():
        if not host_trusted(request.host):
            raise UntrustedHost()
        return url_for(endpoint, **values, _external=True)
    if current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, **values, _external=True)
    log.warning("PUBLIC_URL is not set: a link made outside a request has no host")
    return _path(endpoint, values)


# A map link is built here from what the organiser typed (an address, "lat,lng"), never taken as
# typed: an organiser's URL could be javascript: or a look-alike site. AMap's URI pages open a
# map or the phone's map app without any script of theirs on our pages.
MAP_SEARCH = "https://uri.amap.com/search?keyword={keyword}&city=310000&src=qmevents&callnative=1"
MAP_MARKER = ("https://uri.amap.com/marker?position={lng},{lat}&name={name}&src=qmevents"
              "&coordinate=gaode&callnative=1")
_LOCATION = re.compile(r"^\s*(-?\d{1,3}(?:\.\d{1,8})?)\s*[,，]\s*(-?\d{1,3}(?:\.\d{1,8})?)\s*$",
                       re.ASCII)
# Where a location may be: mainland China and around, with room to spare.
LATITUDES, LONGITUDES = (3.0, 54.0), (73.0, 136.0)


def parse_location(text: str) -> tuple[float, float] | None:
    """(lat, lng) from "31.2304,121.4737" (a Chinese comma too); None when it is not one, or
    lies outside China (a swapped pair is refused, not guessed)."""
    found = _LOCATION.match(text or "")
    if not found:
        return None
    lat, lng = float(found.group(1)), float(found.group(2))
    if not (LATITUDES[0] <= lat <= LATITUDES[1] and LONGITUDES[0] <= lng <= LONGITUDES[1]):
        return None
    return lat, lng


def map_url(address: str, location: str = "", name: str = "") -> str | None:
    """A link to the place on a map: its marker when a location is given, else a search for
    its address in Shanghai; None with neither. Every part we put in is percent-encoded."""
    point = parse_location(location)
    if point is not None:
        return MAP_MARKER.format(lat=f"{point[0]:.6f}", lng=f"{point[1]:.6f}",
                                 name=quote(" ".join((name or address or "").split())[:80], safe=""))
    keyword = " ".join((address or "").split())
    if not keyword:
        return None
    return MAP_SEARCH.format(keyword=quote(keyword[:120], safe=""))


def share_url(endpoint: str, **values: object) -> str | None:
    """The absolute address a shared link's card names (og:url, og:image), or None when this
    request's host is not one we trust: a forged Host never reaches a page's share card."""
    try:
        url = external_url(endpoint, **values)
    except UntrustedHost:
        return None
    return url if url.startswith(("https://", "http://")) else None


def public_base() -> str:
    """PUBLIC_URL without its trailing slash, or "" when it is not set."""
    return (current_app.config.get("PUBLIC_URL") or "").strip().rstrip("/")


def host_trusted(host: str) -> bool:
    """Whether `host` (a Host header, with or without its port) is one of LINK_HOSTS; an entry
    starting with a dot trusts the domain's subdomains as well."""
    try:
        name = (urlsplit("//" + host).hostname or "").rstrip(".")
    except ValueError:  # an unreadable Host header, e.g. "[::1"
        return False
    for trusted in current_app.config["LINK_HOSTS"]:
        trusted = trusted.lower().strip("[]")
        if name == trusted or (trusted.startswith(".") and name.endswith(trusted)):
            return True
    return False


def refuse_untrusted_host() -> None:
    """Before any view: without PUBLIC_URL, a request that may change something (and so send a
    message: a cancellation promotes the next family) must come to a trusted host."""
    if request.method in SAFE_METHODS or public_base() or host_trusted(request.host):
        return
    raise UntrustedHost()


def _path(endpoint: str, values: dict) -> str:
    """The route's own path, so a link and its page cannot drift apart."""
    return current_app.url_map.bind("", url_scheme="https").build(endpoint, values)
