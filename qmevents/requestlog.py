"""One JSON line per request on the `qmevents.request` logger, and a request id to quote.

The id comes from the proxy's X-Request-ID when there is a proxy to trust (PROXY_COUNT > 0, as
for X-Forwarded-For) and it looks like one (nginx: `$request_id`); else it is made here, so a
visitor cannot choose the id their requests are logged under. It is echoed in the X-Request-ID
response header, shown on error pages so a citizen can read it out to the hotline, and put on
other log records by `RequestIdFilter`.

Nothing personal is logged: query values (phones, names typed into a search, one-time codes) are
left out, only their names are kept, and anything shaped like a ticket's code in the path is
replaced by `<code>`, whether or not the path matched a route (a 404): the code opens the ticket.
Werkzeug's development server (`make run`) logs its own request lines on the `werkzeug` logger;
`RequestLineFilter`, added to that logger by `register`, rewrites them by the same rules, and
`RedactingFilter` takes codes out of the app logger's records (Flask's "Exception on <path>").
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import time

from flask import Flask, Response, current_app, g, has_request_context, request

from .services.registrations.codes import CODE_ALPHABET, CODE_LENGTH

logger = logging.getLogger("qmevents.request")

REQUEST_ID_HEADER = "X-Request-ID"
# Hex, UUIDs and the like; anything else (too long, spaces, quotes, newlines) is replaced.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")
# Path segments that open something by themselves: never written to a log.
SECRET_VIEW_ARGS = ("code", "token", "secret")  # a ticket, a sign-in link, a pairing QR
# A ticket's code as services.registrations.codes.normalise_code accepts it: CODE_LENGTH
# characters of its alphabet in any case, O, I and L read as 0 and 1, with spaces or dashes
# anywhere between (here also + and %20, how a space travels in a URL, and %2D). A longer run is
# redacted whole.
_CODE_CHARACTER = "[" + "".join(sorted(set(CODE_ALPHABET + "OIL"))) + "]"
_CODE_SEPARATORS = r"(?:[\s+\-]|%20|%2[dD])*"
CODE_SHAPED = re.compile(
    rf"{_CODE_CHARACTER}(?:{_CODE_SEPARATORS}{_CODE_CHARACTER}){{{CODE_LENGTH - 1},}}",
    re.IGNORECASE)


def request_id() -> str:
    """This request's id: the proxy's if sane, else a new one; the same all through the request."""
    if "request_id" not in g:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        trusted = int(current_app.config.get("PROXY_COUNT") or 0) > 0
        g.request_id = (incoming if trusted and SANE_REQUEST_ID.fullmatch(incoming)
                        else secrets.token_hex(8))
    return g.request_id


# In free text (a log message, a traceback) a code travels in a path: no spaces in it, so the
# spaces of ordinary words ("Booting worker with pid") do not make a code of them.
CODE_IN_TEXT = re.compile(
    rf"(?<![0-9A-Za-z]){_CODE_CHARACTER}(?:-?{_CODE_CHARACTER}){{{CODE_LENGTH - 1},}}"
    r"(?![0-9A-Za-z])", re.IGNORECASE)


def redact_codes(text: str) -> str:
    """Anything shaped like a ticket's code replaced by `<code>` (in a path)."""
    return CODE_SHAPED.sub("<code>", text)


# One-time sign-in links and door pairing addresses, wherever they appear in free text.
LINK_SECRETS = re.compile(r"(/(?:signin|door/pair)/)[A-Za-z0-9_-]+")


def redact_text(text: str) -> str:
    """A ticket's code replaced by `<code>`, a sign-in link's or pairing QR's secret by
    `<secret>`, in free text: a message, a traceback."""
    return CODE_IN_TEXT.sub("<code>", LINK_SECRETS.sub(r"\1<secret>", text))


def logged_path() -> str:
    """The path with secret segments replaced by their name, and anything shaped like a ticket's
    code by `<code>`, matched route or not."""
    path = request.path
    for name in SECRET_VIEW_ARGS:
        value = (request.view_args or {}).get(name)
        if isinstance(value, str) and value:
            path = path.replace(value, f"<{name}>")
    return redact_codes(path)


def note_user(user_id: int | None) -> None:
    """Who this request is signed in as, told by whoever loaded them (the sign-in's user loader,
    an API token): the log line names them without a query of its own."""
    g.logged_user_id = user_id


def signed_in_user_id() -> int | None:
    """The user loaded for this request, if any was (no database query: logging stays cheap; a
    copied cookie whose sign-in has ended names nobody)."""
    return g.get("logged_user_id")


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _log(response: Response) -> Response:
    rid = request_id()
    response.headers[REQUEST_ID_HEADER] = rid
    started = g.get("request_started")
    line = {
        "request_id": rid,
        "method": request.method,
        "path": logged_path(),
        "query": sorted(request.args.keys()),
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "remote_addr": request.remote_addr,
        "user_id": signed_in_user_id(),
    }
    logger.info(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
    return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (e.g. the stack trace of a 500), "-" outside requests;
    used by the logging set-up in qmevents/gunicorn_conf.py."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id() if has_request_context() else "-"
        return True


def redact_request_target(target: str) -> str:
    """A request line's target as the app's own line would show it: codes redacted, and of the
    query only the names (`/t/<code>?lang=&q=`)."""
    path, mark, query = target.partition("?")
    names = [pair.partition("=")[0] for pair in query.split("&") if pair]
    return redact_codes(path) + mark + "&".join(f"{name}=" for name in names)


class RedactingFilter(logging.Filter):
    """Anything shaped like a ticket's code out of a record's message, arguments and traceback:
    on the app's logger, whose records quote paths (Flask's own "Exception on /t/… [GET]",
    errors.py), and in production on the handler every error line goes through (gunicorn_conf),
    which sees the records of every logger (gunicorn's "Error handling request /t/…" too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self.redact(arg) for arg in record.args)
        if record.exc_info and not record.exc_text:  # the formatter then prints this text
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True

    @staticmethod
    def redact(value: object) -> object:
        return redact_text(value) if isinstance(value, str) else value


class RequestLineFilter(RedactingFilter):
    """On the `werkzeug` logger: its request lines (`"GET /t/… HTTP/1.1" 404 -`) and errors
    quote the request target; each space-separated word is rewritten by
    `redact_request_target`, as the app's own line would show it."""

    @staticmethod
    def redact(value: object) -> object:
        if not isinstance(value, str):
            return value
        return " ".join(redact_request_target(word) for word in value.split(" "))


def _add_filter(log: logging.Logger, kind: type[logging.Filter]) -> None:
    """Once per logger, however many apps are built."""
    if not any(type(f) is kind for f in log.filters):
        log.addFilter(kind())


def register(app: Flask) -> None:
    """Registered before the extensions' hooks: the clock starts first and the line is last."""
    _add_filter(logging.getLogger("werkzeug"), RequestLineFilter)
    _add_filter(app.logger, RedactingFilter)
    app.before_request(_start)
    app.after_request(_log)
    app.context_processor(lambda: {"request_id": request_id() if has_request_context() else None})
