"""flask commands: create-user, demo (and later lottery, purge)."""
from __future__ import annotations

import sys

import click
from flask import Flask

from .services import accounts
from .services.errors import ValidationFailed


def _read_password() -> str:
    """From a prompt on a terminal, else the first line of stdin; never from argv."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def register(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", required=True, type=click.Choice(["admin", "organiser", "staff"]))
    @click.option("--org", "org_name", help="Organisation name; created when new.")
    @click.option("--district", "district_name", help="District of a new organisation, e.g. 杨浦区.")
    def create_user(email: str, role: str, org_name: str | None, district_name: str | None):
        """Create a user. The password is read from a prompt or from stdin."""
        password = _read_password()
        try:
            user = accounts.create_user(email, password, role, org_name, district_name)
        except ValidationFailed as exc:
            for fieldname, message in exc.errors.items():
                click.echo(f"{fieldname}: {message}", err=True)
            sys.exit(2)
        org = f" ({user.organisation.name})" if user.organisation else ""
        click.echo(f"Created {user.role.value} {user.email}{org}")

    from . import lottery_cli, notify_cli, purge_cli, waitlist_cli
    from .demo.loader import register_demo

    register_demo(app)
    notify_cli.register(app)
    lottery_cli.register(app)
    waitlist_cli.register(app)
    purge_cli.register(app)
