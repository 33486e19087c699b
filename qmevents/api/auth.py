"""Bearer tokens for the API: `Authorization: Bearer <token>`, checked against the stored hash.

A request that sends no token is anonymous; one that sends a bad token (unknown, revoked,
expired, or a user switched off) gets a 401 even where anonymous access is allowed, so a client
never silently sees less than it expects.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_babel import gettext as _

from ..errors import render_error
from ..models import Role, User
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
