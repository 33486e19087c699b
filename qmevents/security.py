"""Security headers on every response, Secure cookies over HTTPS, no debug in production, and
no production server whose workers would each count rate limits alone.

The Content-Security-Policy allows nothing inline: every script and style is a file under
/static/. The door scanner compiles its QR decoder (zxing-cpp in WebAssembly, static/vendor/) in
the page, which needs 'wasm-unsafe-eval' — that allows compiling WebAssembly, not JavaScript
`eval`. A photo of a ticket is read through a `blob:` image, hence `img-src blob:`.
"""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

# Referrer: "same-origin" keeps the full address for our own pages (Flask-WTF checks the Referer
# of forms posted over HTTPS) and sends nothing to other sites, so a ticket's code in /t/<code>
# never leaves with a click on a map or a host's website.
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=(), usb=()",
}


class UnsafeProductionConfig(RuntimeError):
    """A production server asked to run with the debugger or the test settings."""


def check_production(config: MutableMapping[str, Any]) -> None:
    """Refuse to start a production app with DEBUG (the Werkzeug debugger runs code typed in a
    browser) or TESTING (exceptions propagate and CSRF may be off), or without PUBLIC_URL (links
    in messages would otherwise come from whatever Host a request claimed: qmevents/links.py)."""
    if config.get("ENVIRONMENT") != "production":
        return
    switched_on = [name for name in ("DEBUG", "TESTING") if config.get(name)]
    if switched_on:
        raise UnsafeProductionConfig(
            f"QMEVENTS_ENV=production refuses {' and '.join(switched_on)}: unset "
            "FLASK_DEBUG/FLASK_TESTING (or the same names in instance/config.py)."
        )
    public_url = str(config.get("PUBLIC_URL") or "").strip()
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeProductionConfig(
            "QMEVENTS_ENV=production needs FLASK_PUBLIC_URL, the address citizens reach, e.g. "
            "https://zlj.example.gov.cn: every link in a text message, QR code and API answer "
            "is built from it, never from a request's Host header."
        )
    if str(config.get("NOTIFY_BACKEND", "outbox")) == "outbox":
        raise UnsafeProductionConfig(
            "QMEVENTS_ENV=production needs a real message provider (FLASK_NOTIFY_BACKEND=sms "
            "with FLASK_SMS_API_URL and FLASK_SMS_API_KEY): the outbox sends nothing, so no "
            "citizen could prove a phone, and the codes would wait there for admins to read."
        )


def check_shared_limits(config: MutableMapping[str, Any], workers: int) -> None:
    """Refuse a production server of several worker processes that counts rate limits in each
    process's own memory: every worker would keep its own count, so 10 sign-in attempts a minute
    would become 10 per worker. Called by gunicorn (qmevents/gunicorn_conf.py), which knows how
    many workers it runs."""
    if (config.get("ENVIRONMENT") != "production" or workers <= 1
            or not config.get("RATELIMIT_ENABLED", True)):
        return
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory://"):
        raise UnsafeProductionConfig(
            f"QMEVENTS_ENV=production refuses to run {workers} gunicorn workers with rate limits "
            "counted in memory (RATELIMIT_STORAGE_URI=memory://): each worker would count alone, "
            f"so a limit of 10 sign-in attempts would become {10 * workers} and a phone's limit "
            f"of text messages {workers} times what is set. Set REDIS_URL (or "
            "FLASK_RATELIMIT_STORAGE_URI) to a Redis that every worker and server shares, or run "
            "one worker (WEB_CONCURRENCY=1)."
        )


def serves_https(config: MutableMapping[str, Any]) -> bool:
    return str(config.get("PREFERRED_URL_SCHEME", "http")).lower() == "https"


def secure_cookies(config: MutableMapping[str, Any]) -> None:
    """Over HTTPS, the session and remember-me cookies are Secure; on plain http (`make run`)
    they cannot be, or the browser would drop them and nobody could sign in."""
    if serves_https(config):
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True


# The back office, the door, sign-in and the API answer about people (masked phones, names, who
# came in) and about what an organiser has not published: no browser, proxy or WeChat cache keeps
# any of it (a shared phone at the gate, a volunteer's phone lent on). The OpenAPI document and
# the door app's service worker and manifest are the answers of theirs that are the same for
# everybody. (The door's service worker keeps the scanner page for offline use: a page of the
# event's title and figures, never an answer about a ticket.)
PRIVATE_BLUEPRINTS = frozenset({"organiser", "door", "auth", "api"})
SHARED_ENDPOINTS = frozenset({"api.openapi_document", "door.service_worker", "door.manifest"})


def add_headers(response: Response) -> Response:
    """Set the headers a view has not set itself (one may tighten its own policy)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if (request.blueprint in PRIVATE_BLUEPRINTS and request.endpoint not in SHARED_ENDPOINTS
            and "no-store" not in response.headers.get("Cache-Control", "")):
        response.headers["Cache-Control"] = "no-store"
    max_age = int(current_app.config.get("HSTS_MAX_AGE") or 0)
    if request.is_secure and max_age > 0:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    if serves_https(current_app.config):
        _secure_every_cookie(response)
    return response


def _secure_every_cookie(response: Response) -> None:
    """Any cookie set by a hook or view (the `lang` cookie of filters.py) gets `Secure` too.
    The session cookie is written after the hooks and takes SESSION_COOKIE_SECURE itself."""
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies or all("; secure" in c.lower() for c in cookies):
        return
    response.headers.remove("Set-Cookie")
    for cookie in cookies:
        response.headers.add("Set-Cookie", cookie if "; secure" in cookie.lower()
                             else cookie + "; Secure")


def register(app: Flask) -> None:
    """Registered before every other after-request hook, so it runs after them all."""
    app.after_request(add_headers)
