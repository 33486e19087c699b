"""flask waitlist expire | promote: the waiting list from a terminal (cron runs `expire` every few
minutes when WAITLIST_OFFER_HOURS gives promotions a deadline)."""
from __future__ import annotations

import sys
from datetime import datetime

import click
from flask import Flask

from ..services.errors import NotFound, ValidationFailed
from ..services.registrations import waitlist
from ..timeutil import from_local


def register(app: Flask) -> None:
    @app.cli.group("waitlist")
    def waitlist_group():
        """The waiting list: pass on offers not confirmed in time, promote by hand."""

    @waitlist_group.command("expire")
    def expire():
        """Cancel offers past their deadline and give their places to the next in line."""
        click.echo(f"{waitlist.expire_offers()} offers expired")

    @waitlist_group.command("promote")
    @click.argument("session_id", type=int)
    @click.option("--offer-until", type=click.DateTime(["%Y-%m-%d %H:%M"]),
                  help="Shanghai time by which the promoted must confirm, e.g. '2025-09-20 18:00'.")
    def promote(session_id: int, offer_until: datetime | None):
        """Give a session's free places to its waiting list now."""
        try:
            promoted = waitlist.promote(
                session_id, from_local(offer_until) if offer_until else None)
        except ValidationFailed as refused:
            click.echo("\n".join(refused.errors.values()), err=True)
            sys.exit(2)
        except NotFound as refused:
            click.echo(refused.message, err=True)
            sys.exit(2)
        people = sum(r.party_size for r in promoted)
        click.echo(f"{len(promoted)} parties promoted ({people} people)")
