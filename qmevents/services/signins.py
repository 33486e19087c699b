"""Sign-ins kept on the server (models/signin.py): a browser signed in as a user, or holding the
proof that it has a citizen's phone ("my tickets").

The browser's signed cookie carries only a random token; the row keeps its SHA-256. A sign-in
counts while its row is live: not ended and not expired (and, for a user, while the account is
active). Ending the row ends the sign-in wherever the cookie has been copied to.

How long one lasts: SIGN_IN_HOURS for a user (a long day at the door), FIND_SESSION_MINUTES for a
phone's proof. Rows that are over are deleted whenever a new sign-in starts, so the table holds
only what is live, and a proven phone number is not kept after its proof ends.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from ..extensions import db
from ..models import SignIn, User
from ..timeutil import utcnow

# Longer than any token we hand out (token_urlsafe(32) is 43 characters): anything longer is not
# ours and is not hashed.
MAX_TOKEN_LENGTH = 100


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _readable(token: object) -> bool:
    return isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_LENGTH


def _start(lasts: timedelta, *, user_id: int | None = None, phone: str | None = None) -> str:
    now = utcnow()
    db.session.execute(delete(SignIn).where(or_(SignIn.ended_at.is_not(None),
                                                SignIn.expires_at <= now)))
    token = secrets.token_urlsafe(32)
    db.session.add(SignIn(token_hash=_digest(token), user_id=user_id, phone=phone,
                          created_at=now, expires_at=now + lasts))
    return token


def start_for_user(user: User, *, commit: bool = True) -> str:
    """A new sign-in of the user for SIGN_IN_HOURS; the plain token is returned this once."""
    token = _start(timedelta(hours=float(current_app.config["SIGN_IN_HOURS"])), user_id=user.id)
    if commit:
        db.session.commit()
    return token


def start_for_phone(phone: str) -> str:
    """A browser's proof that it holds this (normalised) phone, for FIND_SESSION_MINUTES."""
    token = _start(timedelta(minutes=float(current_app.config["FIND_SESSION_MINUTES"])),
                   phone=phone)
    db.session.commit()
    return token


def _live(token: str):
    return (SignIn.token_hash == _digest(token), SignIn.ended_at.is_(None),
            SignIn.expires_at > utcnow())


def user_for(token: object) -> User | None:
    """The active user whose live sign-in this token is; None otherwise. One query."""
    if not _readable(token):
        return None
    return db.session.scalar(
        select(User).join(SignIn, SignIn.user_id == User.id)
        .where(*_live(token), User.active.is_(True))
    )


def phone_for(token: object) -> str | None:
    """The phone a live proof is about; None when there is none, or it ended or expired."""
    if not _readable(token):
        return None
    return db.session.scalar(select(SignIn.phone).where(*_live(token), SignIn.phone.is_not(None)))


def end(token: object) -> bool:
    """End this one sign-in (signing out, forgetting a phone); True when it was live."""
    if not _readable(token):
        return False
    ended = db.session.execute(
        update(SignIn).where(SignIn.token_hash == _digest(token), SignIn.ended_at.is_(None))
        .values(ended_at=utcnow())
    ).rowcount
    db.session.commit()
    return bool(ended)


def end_all_for_user(user_id: int, *, commit: bool = True) -> int:
    """End every sign-in of the user, on every device (a new password, a deactivated account);
    the number that were still open."""
    ended = db.session.execute(
        update(SignIn).where(SignIn.user_id == user_id, SignIn.ended_at.is_(None))
        .values(ended_at=utcnow())
    ).rowcount
    if commit:
        db.session.commit()
    return ended
