"""Every text message we send, as a template: one key, a subject, a text with {named} places.

Chinese SMS providers (Alibaba Cloud, Tencent Cloud) send only templates an operator registered
with them beforehand, filled with parameters; our own outbox and a plain HTTP provider send the
whole text. So each message is composed once, here, as (template, parameters): the stored body is
the text filled in, and the provider adapters (providers.py) send the key's provider template
code (SMS_TEMPLATE_CODES) with the same parameters. The README's list of templates to register
is checked against REGISTRY by a test, and `flask notify templates` prints it: one source, so
neither can drift from what is sent.

A module that sends a message declares its template at import time with `sms_template(...)`
and composes with `draft(...)`, which returns a Draft (what outbox.stage and queue store).
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from ...models import NotificationChannel
from ...timeutil import to_local
from ..identity import normalise_name


@dataclass(frozen=True)
class SmsTemplate:
    key: str  # the provider template's name in SMS_TEMPLATE_CODES (and in the README)
    kind: str  # the NotificationKind it is stored as
    subject: str
    text: str  # "{name}，您已报名「{title}」…": str.format places, ${name} at the provider
    when: str  # when it is sent, in a sentence, for the organisers' page (Chinese)

    @property
    def params(self) -> tuple[str, ...]:
        """The parameters' names in the order they first appear in the text."""
        return tuple(dict.fromkeys(
            name for _, name, _, _ in string.Formatter().parse(self.text) if name))

    @property
    def provider_text(self) -> str:
        """The text to register with Alibaba Cloud: {name} written ${name}."""
        return self.text.replace("{", "${")

    @property
    def numbered_text(self) -> str:
        """The text to register with Tencent Cloud, whose variables are numbered {1}, {2}… in
        the order of `params` (the order of its TemplateParamSet)."""
        numbers = {name: str(n) for n, name in enumerate(self.params, start=1)}
        return "".join(literal + (f"{{{numbers[name]}}}" if name else "")
                       for literal, name, _, _ in string.Formatter().parse(self.text))

    def fill(self, **params: object) -> str:
        return self.text.format(**{name: params[name] for name in self.params})


@dataclass(frozen=True)
class Draft:
    """A composed message, not stored yet."""

    channel: NotificationChannel
    recipient: str
    kind: str
    subject: str
    body: str
    # The provider template (services.messaging.templates) and its parameters, when the text
    # was composed from one: Alibaba Cloud and Tencent Cloud send only registered templates.
    template: str | None = None
    params: dict | None = None

    def fields(self) -> tuple:
        return (self.channel, self.recipient, self.kind, self.subject, self.body)

    def provider_fields(self) -> dict:
        """The keyword arguments of stage/queue/queue_and_deliver that carry the template."""
        return {"template": self.template, "params": self.params}


REGISTRY: dict[str, SmsTemplate] = {}


def sms_template(key: str, kind: str, subject: str, text: str, when: str) -> SmsTemplate:
    """Declare a message (at import time). A key is declared once."""
    if key in REGISTRY:
        raise ValueError(f"SMS template {key!r} is declared twice")
    template = SmsTemplate(key=key, kind=str(kind), subject=subject, text=text, when=when)
    REGISTRY[key] = template
    return template


def draft(template: SmsTemplate, recipient: str, **params: object) -> Draft:
    """The message to `recipient`: the body for our outbox and plain providers, the key and the
    parameters for template providers. Every parameter the text names must be given."""
    missing = [name for name in template.params if name not in params]
    if missing:
        raise KeyError(f"template {template.key} needs {', '.join(missing)}")
    values = {name: str(params[name]) for name in template.params}
    return Draft(NotificationChannel.SMS, recipient, template.kind, template.subject,
                 signature() + template.fill(**values), template=template.key, params=values)


MAX_TITLE = 40  # characters of an event title in a text message


def short_title(title: str) -> str:
    """An event's title as a text message quotes it: at most MAX_TITLE characters."""
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def addressee(registration) -> str:
    """How a message names its citizen: the name when it is a name by identity.normalise_name
    (every name taken since that rule is), else a plain greeting: an older or purged row never
    puts free text into a message from the official sender."""
    return normalise_name(registration.name) or "您好"


def local_time(moment: datetime) -> str:
    """A moment as every text message writes it: 9月20日 14:00 (Shanghai time)."""
    local = to_local(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def signature() -> str:
    """【签名】: the sign name every Chinese text message starts with (SMS_SENDER)."""
    sender = current_app.config.get("SMS_SENDER")
    return f"【{sender}】" if sender else ""
