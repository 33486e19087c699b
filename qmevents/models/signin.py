"""Sign-ins kept on the server: a browser signed in as a user (password), or holding the proof
that it has a citizen's phone (a one-time code, to see "my tickets").

The signed session cookie carries only a random token whose hash is a row here; every request
checks the row. Ending the row ends the sign-in wherever its cookie has been copied: signing out,
"forget this phone", a password change or a deactivated account (services/signins.py).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime


class SignIn(db.Model):
    __tablename__ = "sign_in"
    __table_args__ = (
        # A user's sign-in or a phone's proof: exactly one of the two.
        CheckConstraint("(user_id IS NULL) <> (phone IS NULL)", name="user_or_phone"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the cookie's token
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    phone: Mapped[str | None] = mapped_column(String(11))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
