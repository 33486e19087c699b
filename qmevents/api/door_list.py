"""GET /api/v1/events/<id>/door-list[?since=<cursor>]: the ticket list a door device keeps to
answer scans offline (services/door/ticket_list.py says what it holds and why no code is in it).

The same door user auth as the other door calls (401, 403, 404). Never cached; gzip-compressed
(level 6, the standard library's) when the client accepts it and the body is worth it: 5,000
tickets are about a megabyte of JSON, a fifth of it compressed.
"""
from __future__ import annotations

import gzip
import json

from flask import Response, g, request

from ..services.door import ticket_list
from .auth import require_door_user
from .blueprint import bp

GZIP_ABOVE = 1400  # bytes: a smaller body fits one packet as it is
GZIP_LEVEL = 6


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header takes gzip (not with q=0)."""
    for part in header.split(","):
        coding, _sep, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().lower().replace(" ", "")
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


@bp.get("/events/<int:event_id>/door-list")
@require_door_user
def door_list(event_id: int):
    """The event's tickets for offline scanning: the whole list, or with `since` (the cursor of
    an earlier answer) the tickets changed since then (upsert them by ticket_id)."""
    since = request.args.get("since")
    found = ticket_list.ticket_list(event_id, g.door_user, since)
    body = json.dumps(found.as_json(), ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Accept-Encoding")
    if len(body) > GZIP_ABOVE and accepts_gzip(request.headers.get("Accept-Encoding", "")):
        body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        response.headers["Content-Encoding"] = "gzip"
    response.set_data(body)
    return response
