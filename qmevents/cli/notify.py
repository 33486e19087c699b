"""flask notify retry | list | reminders | thanks: the outbox from a terminal (cron runs `retry`
every minute, `reminders` and `thanks` every few minutes)."""
from __future__ import annotations

import click
from flask import Flask

from ..services.messaging import outbox, reminders, thanks
from ..timeutil import to_local


def register(app: Flask) -> None:
    @app.cli.group("notify")
    def notify_group():
        """Messages to citizens: retry the due ones, list the latest."""

    @notify_group.command("retry")
    @click.option("--limit", default=100, show_default=True, help="At most this many messages.")
    def retry(limit: int):
        """Send again the messages whose next try has come."""
        counts = outbox.deliver_due(limit=limit)
        click.echo(f"sent {counts.sent}, retrying later {counts.retrying}, failed {counts.failed}")

    @notify_group.command("reminders")
    def send_reminders():
        """Text each confirmed party the day before its session, from 18:00 Shanghai time. Run
        it every few minutes; each party is reminded once, however many runs overlap."""
        click.echo(f"reminders sent {reminders.send_due().sent}")

    @notify_group.command("thanks")
    def send_thanks():
        """Thank each party that came, with the satisfaction survey's link, once its session has
        ended (within 3 days, 09:00 to 21:00 Shanghai time). Run it every few minutes; each party
        is thanked once, however many runs overlap; no-shows never."""
        click.echo(f"thanks sent {thanks.send_due().sent}")

    @notify_group.command("list")
    @click.option("--limit", default=20, show_default=True)
    def list_recent(limit: int):
        """The latest messages, newest first; recipients masked."""
        for entry in outbox.recent(limit=limit):
            when = to_local(entry.created_at).strftime("%Y-%m-%d %H:%M")
            error = entry.last_error or ""
            click.echo(f"{when}  {entry.channel:5}  {entry.recipient:16}  {entry.kind:24}  "
                       f"{entry.status:7}  {entry.attempts}  {error}".rstrip())
