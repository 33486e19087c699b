"""Bearer tokens for the API: `Authorization: Bearer <token>`, checked against the stored hash.

A request that sends no token is anonymous; one that sends a bad token (unknown, revoked,
expired, or a user switched off) gets a 401 even where anonymous access is allowed, so a client
never silently sees less than it expects.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from ..errors import render_error
from ..models import Role, User
from ..requestlog import note_user
from ..services import accounts

F = TypeVar("F", bound=Callable[..., Any])

REALM = "qmevents"
_MISSING = object()


def bearer_token() -> str | None:
    """The token of the Authorization header, or None when there is no bearer credential."""
    scheme, _sep, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def token_user() -> User | None:
    """The user the request's bearer token belongs to; None without a (valid) token."""
    cached = g.get("api_user", _MISSING)
    if cached is _MISSING:
        token = bearer_token()
        cached = accounts.user_for_token(token) if token else None
        g.api_user = cached
        if cached is not None:
            note_user(cached.id)
    return cached


def unauthorised(message: str | None = None, code: str | None = None):
    """A 401 in the API's error shape with the challenge RFC 6750 asks for."""
    invalid = bearer_token() is not None
    code = code or ("invalid_token" if invalid else "unauthorized")
    if message is None:
        message = (_("The token is unknown, revoked or expired. Request a new one.") if invalid
                   else _("Send a bearer token in the Authorization header."))
    challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if invalid else "")
    response, status = render_error(401, message, code)
    response.status_code = status
    response.headers["WWW-Authenticate"] = challenge
    return response


def forbidden():
    return render_error(403, _("Your role does not allow this."), "forbidden")


def require_token(*roles: Role) -> Callable[[F], F]:
    """A valid token is required (401 otherwise); with roles, the user must have one (403)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = token_user()
            if user is None:
                return unauthorised()
            if roles and user.role not in roles:
                return forbidden()
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def optional_token(view: F) -> F:
    """Anonymous is fine; a token that was sent must be valid."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if bearer_token() is not None and token_user() is None:
            return unauthorised()
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


# --- the door: devices with a token, or the door page in a signed-in browser --------------------


def door_user() -> User | None:
    """Who works the door: the bearer token's user (scanning devices), or else the signed-in user
    of the door page, when the request carries the page's CSRF token in an `X-CSRFToken` header.
    The API blueprint is exempt from CSRF, so that header is what keeps another site from using
    the staff's cookie. None when neither holds; a bearer token that was sent must be valid."""
    if bearer_token() is not None:
        return _device_user(bearer_token())
    token = next((request.headers[h] for h in current_app.config["WTF_CSRF_HEADERS"]
                  if request.headers.get(h)), None)
    if token is None or not current_user.is_authenticated or not current_user.is_active:
        return None
    try:
        validate_csrf(token)
    except ValidationError:
        return None
    return current_user._get_current_object()


# A scanning device sends its token with every scan, hundreds a second at a busy gate: whom a
# token belongs to is remembered per worker for DOOR_TOKEN_CACHE_SECONDS. accounts.user_for_token
# stays the one rule; a revoked token or a switched-off account stops working at the door within
# that time. What is kept is a detached copy of the user's columns, never an object of a session.
_DEVICES: dict[str, tuple[float, User]] = {}
_DEVICES_KEPT = 10_000
_USER_COLUMNS = ("id", "email", "role", "organisation_id", "active")
_clock = time.monotonic


def _device_user(token: str) -> User | None:
    seconds = current_app.config["DOOR_TOKEN_CACHE_SECONDS"]
    key = hashlib.sha256(token.encode()).hexdigest()
    now = _clock()
    known = _DEVICES.get(key) if seconds > 0 else None
    if known is not None and known[0] > now:
        note_user(known[1].id)
        return known[1]
    user = token_user()
    if user is not None and seconds > 0:
        if len(_DEVICES) >= _DEVICES_KEPT:
            _DEVICES.clear()
        # A transient copy: read by the services, never added to a session.
        _DEVICES[key] = (now + seconds, User(**{c: getattr(user, c) for c in _USER_COLUMNS}))
    return user


def require_door_user(view: F) -> F:
    """401 without a valid token or a signed-in session with its CSRF header; the view then finds
    the user in `g.door_user`. Whether they may work this event's door is the service's rule."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = door_user()
        if user is None:
            if bearer_token() is None:
                return unauthorised(_("Sign in on the door page, or send a bearer token in the "
                                      "Authorization header."))
            return unauthorised()
        g.door_user = user
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
