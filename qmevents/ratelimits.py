"""Limits on what strangers can repeat: registering, asking for one-time codes, looking up tickets.

Each decorator puts two Flask-Limiter limits on a view, counted on POST only:
- per phone, keyed on the normalised mobile number, so "138 1234 5678" and "+8613812345678"
  share a count and nobody can flood one citizen's phone with texts;
- per address, generous, because a whole district may reach us through one carrier address.

The limit strings live in config (see the "Rate limits" block of `Config`); they are read at
request time, so a test or instance/config.py changes them without touching code.
`FLASK_RATELIMIT_ENABLED=false` in the environment lifts every limit (load tests).
A breached limit is a 429, which qmevents/errors.py renders in the visitor's language (a page, or
`{"error": "rate_limited", ...}` under /api/).

Use them under the route decorator::

    @bp.route("/events/<int:event_id>/register", methods=["GET", "POST"])
    @limit_registration            # phone from the form field `phone` or the JSON body's `phone`
    def register(event_id): ...

    @bp.route("/events/<int:event_id>/registrations", methods=["POST"])
    @limit_registration
    def create_registration(event_id): ...

    @bp.route("/t/<code>")
    @limit_ticket_lookup           # per address, every method (guessing codes is a GET)
    def ticket(code): ...

The page and the API share the registration counts (one scope), so switching from one to the
other does not double anyone's allowance.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request
from flask_limiter.util import get_remote_address

from .extensions import limiter
from .requestbody import json_field
from .services.identity import normalise_mobile

View = TypeVar("View", bound=Callable)


def configured(name: str) -> Callable[[], str]:
    """A limit string read from the app's config when the request comes, not at import."""
    return lambda: current_app.config[name]


def address_key() -> str:
    """The client's address (behind PROXY_COUNT trusted proxies, the forwarded one)."""
    return "addr:" + (get_remote_address() or "unknown")


def submitted_phone() -> str | None:
    """The phone a request is about: the form field `phone`, or the `phone` of a JSON body read
    as the API reads it (api.views.json_object), whatever the Content-Type says, so sending JSON
    as text/plain does not slip past the per-phone count."""
    raw = request.form.get("phone")
    if raw is None:
        raw = json_field("phone")
    return normalise_mobile(raw) if isinstance(raw, str) else None


def phone_key() -> str:
    """The normalised phone. Without a valid one, the address: a shared "no phone" bucket would
    let a few typos lock everyone out."""
    phone = submitted_phone()
    return "phone:" + phone if phone else "phone?" + address_key()


def _pair(per_phone: str, per_address: str, scope: str) -> Callable[[View], View]:
    """Both limits on one view, on POST; the scope is shared by every view that uses the pair."""

    def decorate(view: View) -> View:
        view = limiter.shared_limit(configured(per_phone), scope=f"{scope}:phone",
                                    key_func=phone_key, methods=["POST"])(view)
        return limiter.shared_limit(configured(per_address), scope=f"{scope}:address",
                                    key_func=address_key, methods=["POST"])(view)

    return decorate


limit_registration = _pair("REGISTRATION_RATE_LIMIT_PER_PHONE",
                           "REGISTRATION_RATE_LIMIT_PER_ADDRESS", "registration")
"""Registering, on the page and in the API (POST only)."""

limit_otp = _pair("OTP_RATE_LIMIT_PER_PHONE", "OTP_RATE_LIMIT_PER_ADDRESS", "otp")
"""Asking for a one-time code (POST only). Counted whether or not the phone has registrations,
so the 429 itself never tells."""


def limit_code_check(view: View) -> View:
    """Typing a one-time code (POST only), per address: the code's own attempt counter
    (OTP_MAX_ATTEMPTS) protects each code; this stops one address trying many phones."""
    return limiter.shared_limit(configured("OTP_RATE_LIMIT_PER_ADDRESS"), scope="otp-check:address",
                                key_func=address_key, methods=["POST"])(view)


def searched_whole_number() -> bool:
    """Whether the request searches registrations by a whole mobile number (the door's and the
    applicants' `q`, the registrants' `search`)."""
    typed = request.args.get("q") or request.args.get("search") or ""
    return len(typed) <= 40 and normalise_mobile(typed) is not None


def searcher_key() -> str:
    """Who searches: the signed-in user, or the user of the bearer token (one budget for all of
    a user's devices)."""
    from flask_login import current_user

    # Here, not at the top: importing qmevents.api runs its package, whose route modules import
    # this module for their limits.
    from .api.auth import bearer_token, token_user

    if bearer_token() is not None:
        user = token_user()
        return f"user:{user.id}" if user is not None else address_key()
    return f"user:{current_user.id}" if current_user.is_authenticated else address_key()


def limit_number_search(view: View) -> View:
    """Searching by a whole mobile number, per user and shared by every search (the door's, the
    registrants', the applicants'): the mask 138****5678 leaves 10,000 numbers, and trying them
    one by one must take longer than the personal data is kept. Searching by name or the last
    four digits is not counted."""
    return limiter.shared_limit(configured("NUMBER_SEARCH_RATE_LIMIT"), scope="number-search",
                                key_func=searcher_key,
                                exempt_when=lambda: not searched_whole_number())(view)


def limit_survey(view: View) -> View:
    """Answering the satisfaction survey (POST only), per address: one answer per ticket is the
    database's rule; this stops one address hammering tickets with answers."""
    return limiter.shared_limit(configured("SURVEY_RATE_LIMIT_PER_ADDRESS"),
                                scope="survey:address", key_func=address_key,
                                methods=["POST"])(view)


def limit_ticket_lookup(view: View) -> View:
    """Opening a ticket by its code, per address and every method: guessing codes is a GET."""
    return limiter.shared_limit(configured("TICKET_RATE_LIMIT_PER_ADDRESS"), scope="ticket:address",
                                key_func=address_key)(view)
