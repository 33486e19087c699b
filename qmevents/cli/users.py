"""flask create-user | set-password | deactivate-user | activate-user: accounts from a terminal.
A password is read from a prompt or stdin, never from the command line (it would stay in the
shell's history and in `ps`)."""
from __future__ import annotations

import sys

import click
from flask import Flask

from ..services import accounts
from ..services.errors import NotFound, ValidationFailed


def _read_password() -> str:
    """From a prompt on a terminal, else the first line of stdin; never from argv."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def _refuse(exc: ValidationFailed | NotFound) -> None:
    """Say what is wrong, field by field, on stderr, and exit with 2 (bad input)."""
    errors = exc.errors if isinstance(exc, ValidationFailed) else {"email": exc.message}
    for fieldname, message in errors.items():
        click.echo(f"{fieldname}: {message}", err=True)
    sys.exit(2)


def register(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", required=True, type=click.Choice(["admin", "organiser", "staff"]))
    @click.option("--org", "org_name", help="Organisation name; created when new.")
    @click.option("--district", "district_name", help="District of a new organisation, e.g. 杨浦区.")
    @click.option("--org-kind", type=click.Choice(["bureau", "enterprise"]),
                  help="Of a new organisation: a district bureau sees every published event of "
                       "its district; an enterprise only its own. Default: bureau when the name "
                       "ends in 局.")
    def create_user(email: str, role: str, org_name: str | None, district_name: str | None,
                    org_kind: str | None):
        """Create a user. The password is read from a prompt or from stdin."""
        password = _read_password()
        try:
            user = accounts.create_user(email, password, role, org_name, district_name, org_kind)
        except ValidationFailed as exc:
            _refuse(exc)
        org = f" ({user.organisation.name})" if user.organisation else ""
        click.echo(f"Created {user.role.value} {user.email}{org}")

    @app.cli.command("set-password")
    @click.argument("email")
    def set_password(email: str):
        """Give a user a new password, read from a prompt or from stdin. Every sign-in of the
        user ends on every device."""
        try:
            user = accounts.user_by_email(email)
            accounts.set_password(user, _read_password())
        except (ValidationFailed, NotFound) as exc:
            _refuse(exc)
        click.echo(f"New password set for {user.email}; their sign-ins have ended.")

    @app.cli.command("deactivate-user")
    @click.argument("email")
    def deactivate_user(email: str):
        """Switch an account off: it can no longer sign in, every sign-in ends at once and its
        API tokens are revoked."""
        try:
            user = accounts.set_active(email, False)
        except NotFound as exc:
            _refuse(exc)
        click.echo(f"Deactivated {user.email}: signed out everywhere, API tokens revoked.")

    @app.cli.command("activate-user")
    @click.argument("email")
    def activate_user(email: str):
        """Switch an account on again: it signs in with its password (and asks for new API
        tokens)."""
        try:
            user = accounts.set_active(email, True)
        except NotFound as exc:
            _refuse(exc)
        click.echo(f"Activated {user.email}.")
