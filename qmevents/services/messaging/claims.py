"""Messages sent once per registration by cron (the reminder, the thank-you), however many runs
overlap: each registration is claimed by a conditional UPDATE (… SET <stamp> WHERE <still due>)
in the transaction that stores its message, so of two runs at once the second finds nothing left
to claim (on PostgreSQL it waits for the first's row lock, then sees the row already claimed).
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select, select, update

from ...extensions import db
from ...models import Registration
from . import outbox, templates

BATCH = 50  # registrations claimed per transaction


def send_all(claim_batch: Callable[[], list[outbox.Staged]]) -> int:
    """Claim and store batches until none is left, sending each batch after its commit. How
    many were sent."""
    sent = 0
    while True:
        claimed = claim_batch()
        if not claimed:
            return sent
        sent += len(claimed)
        for staged in claimed:
            outbox.dispatch(staged)


def claim_batch(sessions: Select | list[int], due: list, stamp: dict,
                compose: Callable[[Registration], templates.Draft]) -> list[outbox.Staged]:
    """One transaction: up to BATCH registrations of `sessions` that meet `due` claimed (the
    UPDATE sets `stamp` only where `due` still holds) and their messages stored."""
    candidates = list(db.session.scalars(
        select(Registration).where(Registration.session_id.in_(sessions), *due)
        .order_by(Registration.id).limit(BATCH)))
    staged = []
    for registration in candidates:
        won = db.session.execute(
            update(Registration).where(Registration.id == registration.id, *due)
            .values(**stamp).execution_options(synchronize_session=False)).rowcount == 1
        if won:
            draft = compose(registration)
            staged.append(outbox.stage(*draft.fields(), registration.id,
                                       **draft.provider_fields()))
    db.session.commit()
    if candidates and not staged:
        # Every candidate was claimed by another run meanwhile: it will find them taken too.
        return claim_batch(sessions, due, stamp, compose)
    return staged
