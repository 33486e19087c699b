"""flask staff add | remove | list: an event's door staff from a terminal."""
from __future__ import annotations

import sys

import click
from flask import Flask

from ..services import staffing
from ..services.errors import NotFound, ValidationFailed


def _refuse(exc: ValidationFailed | NotFound) -> None:
    messages = exc.errors.values() if isinstance(exc, ValidationFailed) else [exc.message]
    for message in messages:
        click.echo(message, err=True)
    sys.exit(2)


def register(app: Flask) -> None:
    @app.cli.group("staff")
    def staff_group():
        """Door staff of an event: who may scan at its door."""

    @staff_group.command("add")
    @click.argument("email")
    @click.option("--event", "event_id", type=int, required=True, help="The event's id.")
    def add(email: str, event_id: int):
        """Let an existing door staff account scan at the event (create it with create-user
        --role staff)."""
        try:
            user = staffing.assign(event_id, email)
        except (ValidationFailed, NotFound) as exc:
            _refuse(exc)
        click.echo(f"{user.email} scans at event {event_id}")

    @staff_group.command("remove")
    @click.argument("email")
    @click.option("--event", "event_id", type=int, required=True, help="The event's id.")
    def remove(email: str, event_id: int):
        """Stop the account scanning at the event, from its next scan on."""
        try:
            removed = staffing.unassign(event_id, email)
        except NotFound as exc:
            _refuse(exc)
        click.echo(f"{email} removed from event {event_id}" if removed
                   else f"{email} was not staff of event {event_id}")

    @staff_group.command("list")
    @click.option("--event", "event_id", type=int, required=True, help="The event's id.")
    def list_staff(event_id: int):
        """The event's door staff."""
        try:
            people = staffing.staff_of(event_id)
        except NotFound as exc:
            _refuse(exc)
        for user in people:
            click.echo(f"{user.email}{'' if user.active else '  (switched off)'}")
