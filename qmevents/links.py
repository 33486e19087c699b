"""Addresses we hand out to be opened later, outside this request: in an SMS, inside a QR code,
in an API answer. They must be absolute and must not depend on who happened to ask.

PUBLIC_URL (config) is the site as citizens reach it; without it the request's own address is
used, which is right behind a correctly configured proxy (PROXY_COUNT) and in development.
"""
from __future__ import annotations

import logging

from flask import current_app, has_request_context, url_for

log = logging.getLogger(__name__)


def ticket_url(code: str) -> str:
    """The ticket page of `code`, as printed in its QR code and sent by SMS.

    Uses `url_for`, so a service may call it inside a request or an app context; outside a
    request and without PUBLIC_URL or SERVER_NAME (a CLI command, a test) the best we can give
    is the path, and a warning says why the link in a message is relative."""
    base = (current_app.config.get("PUBLIC_URL") or "").strip().rstrip("/")
    if base:
        return base + _ticket_path(code)
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("public.ticket", code=code, _external=True)
    log.warning("PUBLIC_URL is not set: a ticket link made outside a request has no host")
    return _ticket_path(code)


def _ticket_path(code: str) -> str:
    """/t/<code>, from the route itself so the two cannot drift apart."""
    return current_app.url_map.bind("", url_scheme="https").build(
        "public.ticket", {"code": code}
    )
