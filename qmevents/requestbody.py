"""The request's body as JSON, read the one way every reader reads it (the API's views, the
guards before them, the per-phone and per-account limits): whatever the Content-Type says, from
the cached body. Not JSON (invalid, empty, or nested too deep to parse: `[` × 200,000 raises
RecursionError, not ValueError) is NOT_JSON, never an exception."""
from __future__ import annotations

import json
from typing import Any

from flask import request

NOT_JSON = object()


def json_body() -> Any:
    """The body parsed as JSON, or NOT_JSON."""
    try:
        return json.loads(request.get_data(cache=True) or b"")
    except (ValueError, RecursionError):
        return NOT_JSON


def json_field(name: str) -> Any:
    """`name` of a JSON object body; None when the body is no object or has no such field."""
    body = json_body()
    return body.get(name) if isinstance(body, dict) else None
