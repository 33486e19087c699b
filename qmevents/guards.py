"""Guards that run before any view: what no row can hold is refused once, here, rather than in
every field of every form (found by fuzzing the API and the forms, issue 7)."""
from __future__ import annotations

import re
from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from .errors import render_error, wants_json
from .ids import MAX_ID
from .requestbody import json_body

# --- characters no column can hold ---------------------------------------------------------------
# No keyboard types U+0000 and PostgreSQL cannot store it in text ("A string literal cannot
# contain NUL"). A lone UTF-16 surrogate (JSON's "\ud800" without its pair) is no character at
# all: it cannot be encoded as UTF-8 for either database. A request that carries either anywhere
# is refused here, once, before any view or query sees it, instead of every field of every form
# guarding against it. (Forms and query strings arrive as UTF-8 bytes, which cannot hold a lone
# surrogate; JSON's escapes can.)

NUL = "\x00"
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_path(value: Any, path: str) -> tuple[str, str] | None:
    """The path ("name", "sessions.0.label") of the first string holding a character no column
    can store, keys included, and that character."""
    if isinstance(value, str):
        found = UNSTORABLE.search(value)
        return (path or "body", found.group()) if found else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        name = UNSTORABLE.sub("", str(key))
        inner = f"{path}.{name}" if path else name
        found = UNSTORABLE.search(str(key))
        if found:
            return inner or "body", found.group()
        inside = _unstorable_path(item, inner)
        if inside:
            return inside
    return None


# A scanner sends whatever a QR code holds, binary too: services.door.checkin.read_code reduces it
# to a ticket code's alphabet before any query, and the door answers "unknown ticket" on screen.
SCANNED = {"door.scan": "code", "api.create_checkin": "code"}


def unstorable_in_request() -> tuple[str, str] | None:
    """Where the request carries a NUL character or a lone surrogate, and which: (`path`, a
    parameter's or field's name, or the path of a JSON value such as `sessions.0.label`;
    the character)."""
    found = UNSTORABLE.search(request.path)
    if found:
        return "path", found.group()
    scanned = SCANNED.get(request.endpoint or "")
    fields = request.args.items(multi=True)
    if not wants_json() and request.method in ("POST", "PUT", "PATCH", "DELETE"):
        fields = [*fields, *request.form.items(multi=True)]
    for name, value in fields:
        found = UNSTORABLE.search(name) or (name != scanned and UNSTORABLE.search(value))
        if found:
            return UNSTORABLE.sub("", name) or "query", found.group()
    if not wants_json():
        return None
    body = json_body()  # not JSON: the view answers that with its own message
    if scanned and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != scanned}
    return _unstorable_path(body, "")


def refuse_unstorable():
    """Before any view: a URL id beyond what a row can have (ids.MAX_ID) is a 404; a NUL
    character or a lone surrogate anywhere a 400 page or, in the API, a 422 naming the field."""
    if any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in (request.view_args or {}).values()):
        return render_error(404)
    found = unstorable_in_request()
    if found is None:
        return None
    where, character = found
    if character == NUL:
        message = _("Remove the invisible NUL character (\\0) and send again: it cannot be "
                    "stored.")
        code = "nul_character"
    else:
        message = _("The text holds a broken character (half of a UTF-16 pair) that cannot be "
                    "stored. Type it again and send.")
        code = "broken_character"
    if wants_json():
        return jsonify(errors={where: message}), 422
    return render_error(400, message, code)
