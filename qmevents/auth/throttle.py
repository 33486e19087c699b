"""One budget of failed password attempts per account and one per address, whichever door they
knock on: the sign-in page, POST /api/v1/token, and the current password on the change-password
page all spend the same two budgets (Flask-Limiter shared limits, one scope each), counted in
Redis when there is one, so every worker and server counts together.

Only failed attempts are counted (an answer of 400–499 other than the 429 itself): a venue's
staff signing in one after another through the venue's one address spend nothing, while guesses
are stopped at LOGIN_RATE_LIMIT. Once a budget is spent even the right password gets the 429,
so it cannot be found by guessing on. Counting after the answer means attempts already under way
when the budget runs out still finish: at most one per worker process more.

The account is the normalised e-mail, hashed, so no e-mail address is written to Redis.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from flask import Response, g, request
from flask_login import current_user

from ..extensions import limiter
from ..ratelimits import address_key, configured
from ..requestbody import json_field
from ..services.accounts import normalise_email

View = TypeVar("View", bound=Callable)


def submitted_email() -> str:
    """The account an attempt is about: the form's `email`, the JSON body's `email`, or the
    signed-in user's (changing one's own password); normalised, "" when there is none."""
    email = request.form.get("email")
    if email is None:
        email = json_field("email")
    if email is None and current_user.is_authenticated:
        email = current_user.email
    return normalise_email(email) if isinstance(email, str) else ""


def account_key() -> str:
    """Per account; without an e-mail, per address (a shared "no e-mail" budget would let a few
    empty forms lock everyone out)."""
    email = submitted_email()
    if not email:
        return "account?" + address_key()
    return "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def failed(response: Response) -> bool:
    """A failed attempt: a 4xx but the 429 itself, unless the view said the password it checked
    was right (g.no_guess: the change-password page refusing a weak new password)."""
    return (400 <= response.status_code < 500 and response.status_code != 429
            and not g.get("no_guess"))


def limit_sign_in(view: View) -> View:
    """Both budgets on a view that checks a password (POST only)."""
    for scope, key in (("sign-in:account", account_key), ("sign-in:address", address_key)):
        view = limiter.shared_limit(configured("LOGIN_RATE_LIMIT"), scope=scope, key_func=key,
                                    methods=["POST"], deduct_when=failed)(view)
    return view
