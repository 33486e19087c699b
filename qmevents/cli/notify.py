"""flask notify retry | list | reminders | thanks | templates: the outbox from a terminal (cron
runs `retry` every minute, `reminders` and `thanks` every few minutes); `templates` lists what to
register with a text message provider and which templates SMS_TEMPLATE_CODES gives a code."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask_babel import gettext as _

from ..services.messaging import (
    broadcasts,
    changes,
    messages,
    outbox,
    providers,
    reminders,
    templates,
    thanks,
)
from ..services.messaging.backends import SendFailed
from ..timeutil import to_local

# The modules that declare templates (at import time): every one of them is in REGISTRY.
DECLARING = (messages, reminders, changes, thanks, broadcasts)


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

    @notify_group.command("templates")
    def list_templates():
        """Every text message template: key, subject, when it is sent, the text to register
        with Alibaba Cloud (${name}) and Tencent Cloud ({1}, {2}…), and its code if
        SMS_TEMPLATE_CODES has one."""
        try:
            codes = providers.template_codes(current_app.config.get("SMS_TEMPLATE_CODES"))
        except SendFailed as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)
        for key, template in sorted(templates.REGISTRY.items()):
            code = codes.get(key)
            status = (_("code %(code)s", code=code) if code
                      else _("no code in SMS_TEMPLATE_CODES"))
            click.echo(f"{key}  {template.subject}  [{status}]")
            click.echo("  " + _("Sent: %(when)s", when=template.when))
            click.echo("  " + _("Alibaba Cloud: %(text)s", text=template.provider_text))
            click.echo("  " + _("Tencent Cloud: %(text)s", text=template.numbered_text))
        known = sum(1 for key in templates.REGISTRY if key in codes)
        click.echo(_("%(known)d of %(count)d templates have a code.", known=known,
                     count=len(templates.REGISTRY)))
        unknown = sorted(set(codes) - set(templates.REGISTRY))
        if unknown:
            click.echo(_("SMS_TEMPLATE_CODES names no such template: %(keys)s",
                         keys=", ".join(unknown)))
