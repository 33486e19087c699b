"""Guards that run before any view: what no row can hold is refused once, here, rather than in
every field of every form (found by fuzzing the API and the forms, issue 7)."""
from __future__ import annotations

import json
from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from .errors import render_error, wants_json

# --- NUL characters -----------------------------------------------------------------------------
# No keyboard types U+0000 and PostgreSQL cannot store it in text ("A string literal cannot
# contain NUL"): a request that carries one anywhere is refused here, once, before any view or
# query sees it, instead of every field of every form guarding against it.

NUL = "\x00"


def _nul_path(value: Any, path: str) -> str | None:
    """The path ("name", "sessions.0.label") of the first string holding a NUL, keys included."""
    if isinstance(value, str):
        return (path or "body") if NUL in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        name = str(key).replace(NUL, "")
        inner = f"{path}.{name}" if path else name
        if NUL in str(key):
            return inner or "body"
        found = _nul_path(item, inner)
        if found:
            return found
    return None


def _json_body() -> Any:
    """The API's body as its views read it (whatever the Content-Type); None when not JSON."""
    try:
        return json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        return None  # the view answers that with its own message


# A scanner sends whatever a QR code holds, binary too: services.checkin.read_code reduces it to
# a ticket code's alphabet before any query, and the door answers "unknown ticket" on screen.
SCANNED = {"door.scan": "code", "api.create_checkin": "code"}


def nul_in_request() -> str | None:
    """Where the request carries a NUL character: `path`, a parameter's or field's name, or the
    path of a JSON value (`sessions.0.label`)."""
    if NUL in request.path:
        return "path"
    scanned = SCANNED.get(request.endpoint or "")
    fields = request.args.items(multi=True)
    if not wants_json() and request.method in ("POST", "PUT", "PATCH", "DELETE"):
        fields = [*fields, *request.form.items(multi=True)]
    for name, value in fields:
        if NUL in name or (NUL in value and name != scanned):
            return name.replace(NUL, "") or "query"
    if not wants_json():
        return None
    body = _json_body()
    if scanned and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != scanned}
    return _nul_path(body, "")


# Ids are 32-bit integers in the database: PostgreSQL refuses a larger one in a query ("integer
# out of range") where SQLite quietly finds nothing. An id in a URL beyond that is no object's.
MAX_ID = 2**31 - 1


def refuse_unstorable():
    """Before any view: a URL id no row can have is a 404; a NUL character anywhere a 400 page
    or, in the API, a 422 naming the field."""
    if any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in (request.view_args or {}).values()):
        return render_error(404)
    where = nul_in_request()
    if where is None:
        return None
    message = _("Remove the invisible NUL character (\\0) and send again: it cannot be stored.")
    if wants_json():
        return jsonify(errors={where: message}), 422
    return render_error(400, message, "nul_character")
