"""One writer at a time for a check-then-write that no single statement can express (a count
that must not be passed: broadcasts a day, the last organiser of an organisation)."""
from __future__ import annotations

from sqlalchemy import update

from ..extensions import db


def lock_row(model, row_id: int) -> None:
    """Hold the row's write lock until the transaction ends, on both databases: a no-op UPDATE
    locks the row on PostgreSQL (a second transaction waits, then reads what the first wrote)
    and takes SQLite's single writer lock at once, where a SELECT … FOR UPDATE would be
    ignored and the transaction would read before it may write."""
    db.session.execute(update(model).where(model.id == row_id).values(id=model.id))
