"""flask demo: load the demo Quality Month programme and its accounts (demo/loader.py), and print
the accounts with their passwords."""
from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import inspect

from ..demo.loader import LOGIN_URL, BrokenProgramme, Report, account_table, load_demo
from ..extensions import db
from ..models import Event


def _echo_report(report: Report) -> None:
    click.echo(f"Organisations: {report.organisations}")
    click.echo(f"Events: {report.events} ({report.published} of them published)")
    click.echo(f"Users: {report.users}")
    click.echo(f"Staff assignments: {report.assignments}")
    if report.history is not None:
        click.echo(f"Last year's edition (September {report.history.year}, past events with "
                   f"their figures): {report.history}")
    click.echo("")
    click.echo("DEMO ACCOUNTS - for trying qmevents out only, never for a real campaign.")
    click.echo("Passwords are derived from this instance's secret key: the same on every run.")
    click.echo("")
    for line in account_table(report.accounts):
        click.echo(line)
    click.echo("")
    click.echo(f"Sign in at {LOGIN_URL}")


def _schema_missing() -> bool:
    return not inspect(db.engine).has_table(Event.__tablename__)


def register(app: Flask) -> None:
    @app.cli.command("demo")
    def demo():
        """Load the demo Quality Month programme and demo accounts (safe to run again)."""
        if _schema_missing():
            raise click.ClickException(
                "The database has no tables yet: run `flask --app wsgi db upgrade` first."
            )
        try:
            report = load_demo()
        except BrokenProgramme as exc:
            raise click.ClickException(str(exc)) from exc
        _echo_report(report)
