"""One JSON line per request on the `qmevents.request` logger, and a request id to quote.

The id comes from the proxy's X-Request-ID when it looks like one (nginx: `$request_id`), else
it is made here; it is echoed in the X-Request-ID response header, shown on error pages so a
citizen can read it out to the hotline, and put on other log records by `RequestIdFilter`.

Nothing personal is logged: query values (phones, names typed into a search, one-time codes) are
left out, only their names are kept, and a ticket's code in the path is replaced by `<code>`:
the code opens the ticket.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import time

from flask import Flask, Response, current_app, g, has_request_context, request, session

logger = logging.getLogger("qmevents.request")

REQUEST_ID_HEADER = "X-Request-ID"
# Hex, UUIDs and the like; anything else (too long, spaces, quotes, newlines) is replaced.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")
# Path segments that open something by themselves: never written to a log.
SECRET_VIEW_ARGS = ("code", "token")


def request_id() -> str:
    """This request's id: the proxy's if sane, else a new one; the same all through the request."""
    if "request_id" not in g:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = (incoming if SANE_REQUEST_ID.fullmatch(incoming)
                        else secrets.token_hex(8))
    return g.request_id


def logged_path() -> str:
    """The path with secret segments replaced by their name."""
    path = request.path
    for name in SECRET_VIEW_ARGS:
        value = (request.view_args or {}).get(name)
        if isinstance(value, str) and value:
            path = path.replace(value, f"<{name}>")
    return path


def signed_in_user_id() -> int | None:
    """The user id the signed session carries (no database query: logging must stay cheap)."""
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return None  # not touching the session keeps `Vary: Cookie` off cookieless answers
    raw = session.get("_user_id")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


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


def register(app: Flask) -> None:
    """Registered before the extensions' hooks: the clock starts first and the line is last."""
    app.before_request(_start)
    app.after_request(_log)
    app.context_processor(lambda: {"request_id": request_id() if has_request_context() else None})
