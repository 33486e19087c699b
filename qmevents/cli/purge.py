"""flask purge: remove or anonymise personal data PERSONAL_DATA_DAYS after an event (cron, daily).

    flask --app wsgi purge [--days N] [--dry-run]
"""
from __future__ import annotations

import click
from flask import Flask

from ..services import purge as purging
from ..timeutil import to_local


def register(app: Flask) -> None:
    @app.cli.command("purge")
    @click.option("--days", type=click.IntRange(min=0), default=None,
                  help="Days after an event's last session (default: PERSONAL_DATA_DAYS).")
    @click.option("--dry-run", is_flag=True, help="Print what would go; change nothing.")
    def purge_command(days: int | None, dry_run: bool):
        """Anonymise the registrants, walk-ins, answers, survey comments and messages of events
        that ended more than N days ago. Figures for reports (people, admissions, tallies) are kept."""
        summary = purging.purge(days, dry_run=dry_run)
        for line in lines(summary):
            click.echo(line)


def lines(summary: purging.Summary) -> list[str]:
    """The summary as a terminal shows it: one line per event, then the totals."""
    verb = "would purge" if summary.dry_run else "purged"
    cutoff = to_local(summary.cutoff).strftime("%Y-%m-%d %H:%M")
    out = [f"events whose last session ended before {cutoff} (Shanghai), "
           f"{summary.days} days ago:"]
    for p in summary.events:
        ended = to_local(p.ended_at).strftime("%Y-%m-%d")
        out.append(f"  event {p.event_id} {p.title} (ended {ended}): {p.registrations} "
                   f"registrations, {p.answers} answers, {p.admissions} walk-ins, "
                   f"{p.messages} messages, {p.comments} survey comments, "
                   f"{p.audit_entries} audit entries")
    total = summary.total
    out.append(f"{verb} {len(summary.events)} events: {total('registrations')} registrations, "
               f"{total('answers')} answers, {total('admissions')} admissions, "
               f"{total('messages')} messages, {total('comments')} survey comments, "
               f"{total('audit_entries')} audit entries; "
               f"{summary.codes} old one-time codes")
    return out
