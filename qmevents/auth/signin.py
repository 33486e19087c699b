"""Starting a browser's sign-in: the sign-in page, a one-time link and a door device's pairing
page (door blueprint) all end here."""
from __future__ import annotations

from flask import session
from flask_login import login_user

from ..models import User
from ..requestlog import note_user


def start_session(user: User, token: str) -> None:
    """This browser becomes the sign-in `token` of `user`: a fresh session (nothing planted in it
    before survives: no fixation), holding the token where Flask-Login keeps the user's id."""
    session.clear()
    login_user(user)
    session["_user_id"] = token
    note_user(user.id)
