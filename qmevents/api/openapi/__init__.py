"""The OpenAPI 3.1 description of /api/v1, written by hand as data.

One module per resource (tokens, events, registrations, door, door_list, applicants, team;
common holds the shared pieces) has a `part()` returning its schemas and paths; `document()` merges them. A new resource
adds its module's part to RESOURCES. Enum values come from the models
and their descriptions from qmevents.labels, so the document cannot drift from what the code
accepts; tests/test_api.py checks every routed path is here and that answers match the schemas.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import applicants, common, door, door_list, events, registrations, team, tokens
from .common import json_body

# --- this document ------------------------------------------------------------------------------


def _meta() -> dict[str, Any]:
    paths = {
        "/openapi.json": {
            "get": {
                "tags": ["meta"],
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {"200": json_body({"type": "object"}, "OpenAPI 3.1.")},
            },
        },
    }
    return {"schemas": {}, "paths": paths}


RESOURCES: list[Callable[[], dict[str, Any]]] = [
    common.part, tokens.part, events.part, registrations.part, door.part, door_list.part,
    applicants.part, team.part, _meta]


def document() -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "qmevents API",
            "version": "1",
            "description": "Quality Month (质量月) events. Messages follow `?lang=en` or the "
                           "`lang` cookie; Chinese (zh_CN) otherwise. Errors: "
                           '`{"errors": {field: message}}` for 422, `{"error", "message"}` '
                           "otherwise.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {},
        "components": {
            "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer",
                                                "description": "From POST /token."}},
            "schemas": {},
            "responses": {},
        },
    }
    for resource in RESOURCES:
        part = resource()
        doc["paths"].update(part["paths"])
        doc["components"]["schemas"].update(part["schemas"])
        doc["components"]["responses"].update(part.get("responses", {}))
        doc["components"]["securitySchemes"].update(part.get("securitySchemes", {}))
    return doc
