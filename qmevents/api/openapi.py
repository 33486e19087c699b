"""The OpenAPI 3.1 description of /api/v1, written by hand as data.

One function per resource returns its schemas and paths; `document()` merges them. A new
resource (registrations, check-ins) adds a function to RESOURCES. Enum values come from the models
and their descriptions from qmevents.labels, so the document cannot drift from what the code
accepts; tests/test_api.py checks every routed path is here and that answers match the schemas.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import labels
from ..models import SHANGHAI_DISTRICTS, RegistrationMode
from ..services import events as event_rules
from .schemas import PUBLISHABLE_STATUSES

Schema = dict[str, Any]

BEARER = [{"bearerToken": []}]
BEARER_OR_ANONYMOUS: list[dict] = [{}, {"bearerToken": []}]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: Schema, description: str = "") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _choices(label_dict: dict) -> Schema:
    """An enum whose description lists each value with its label in the request's language."""
    return {
        "type": "string",
        "enum": [key.value for key in label_dict],
        "description": "; ".join(f"`{key.value}`: {label}" for key, label in label_dict.items()),
    }


# --- shared pieces ------------------------------------------------------------------------------


def _common() -> dict[str, Any]:
    schemas = {
        "Error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": {"type": "string", "description": "A stable code, e.g. `not_found`."},
                "message": {"type": "string", "description": "For people, in zh_CN or en."},
            },
            "additionalProperties": False,
        },
        "ValidationErrors": {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "object",
                    "description": "A message per field path: `title`, `sessions.0.ends_at`; "
                                   "`body` when the body is not a JSON object.",
                    "additionalProperties": {"type": "string"},
                },
            },
            "additionalProperties": False,
        },
    }
    responses = {
        "Unauthorized": {
            **json_body(ref("Error"), "No bearer token, or one that is unknown, revoked or "
                                      "expired (`invalid_token`)."),
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
        },
        "Forbidden": json_body(ref("Error"), "The token's role may not do this."),
        "NotFound": json_body(ref("Error"), "Unknown, or not visible to you."),
        "ValidationFailed": json_body(ref("ValidationErrors"), "What to fix, per field."),
        "TooManyRequests": json_body(ref("Error"), "Too many attempts; wait and retry."),
    }
    return {"schemas": schemas, "responses": responses, "paths": {}}


# --- tokens -------------------------------------------------------------------------------------


def _tokens() -> dict[str, Any]:
    schemas = {
        "TokenRequest": {
            "type": "object",
            "required": ["email", "password"],
            "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
        },
        "Token": {
            "type": "object",
            "required": ["token", "expires_at"],
            "properties": {
                "token": {"type": "string", "description": "Shown once; send it as "
                                                           "`Authorization: Bearer <token>`."},
                "expires_at": {"type": "string", "format": "date-time"},
            },
            "additionalProperties": False,
        },
    }
    paths = {
        "/token": {
            "post": {
                "tags": ["tokens"],
                "operationId": "issueToken",
                "summary": "Exchange an e-mail and password for a bearer token",
                "security": [],
                "requestBody": {"required": True, **json_body(ref("TokenRequest"))},
                "responses": {
                    "201": json_body(ref("Token"), "The new token."),
                    "401": json_body(ref("Error"), "Wrong e-mail or password "
                                                   "(`invalid_credentials`)."),
                    "422": {"$ref": "#/components/responses/ValidationFailed"},
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
            },
            "delete": {
                "tags": ["tokens"],
                "operationId": "revokeToken",
                "summary": "Revoke the token the request is sent with",
                "security": BEARER,
                "responses": {
                    "204": {"description": "Revoked; the token no longer works."},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                },
            },
        },
    }
    return {"schemas": schemas, "paths": paths}


# --- events -------------------------------------------------------------------------------------

_TIME = {"type": "string", "format": "date-time",
         "description": "ISO 8601; answers use Shanghai time (+08:00). In requests a time "
                        "without an offset is Shanghai wall-clock time."}
_OPTIONAL_TIME = {**_TIME, "type": ["string", "null"]}


def _event_schemas() -> dict[str, Schema]:
    session = {
        "type": "object",
        "required": ["id", "label", "starts_at", "ends_at", "capacity", "places_left",
                     "registration_opens_at", "registration_closes_at"],
        "properties": {
            "id": {"type": "integer"},
            "label": {"type": "string"},
            "starts_at": _TIME,
            "ends_at": _TIME,
            "capacity": {"type": "integer", "minimum": 1},
            "places_left": {"type": "integer", "minimum": 0},
            "registration_opens_at": _OPTIONAL_TIME,
            "registration_closes_at": _OPTIONAL_TIME,
        },
        "additionalProperties": False,
    }
    checkpoint = {
        "type": "object",
        "required": ["id", "name", "position"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                       "position": {"type": "integer", "minimum": 0,
                                    "description": "0 is the entrance."}},
        "additionalProperties": False,
    }
    event = {
        "type": "object",
        "required": ["id", "title", "kind", "district", "venue", "address", "host",
                     "description", "status", "max_party_size", "registration_mode",
                     "organisation", "sessions", "checkpoints"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "kind": ref("EventKind"),
            "district": ref("District"),
            "venue": {"type": "string"},
            "address": {"type": "string"},
            "host": {"type": "string"},
            "description": {"type": "string"},
            "status": ref("EventStatus"),
            "max_party_size": {"type": "integer", "minimum": 1},
            "registration_mode": ref("RegistrationMode"),
            "organisation": {"type": "string", "description": "The organisation's name."},
            "sessions": {"type": "array", "items": ref("Session")},
            "checkpoints": {"type": "array", "items": ref("Checkpoint")},
        },
        "additionalProperties": False,
    }
    session_input = {
        "type": "object",
        "required": ["starts_at", "ends_at", "capacity"],
        "properties": {
            "label": {"type": "string", "maxLength": 60},
            "starts_at": _TIME,
            "ends_at": _TIME,
            "capacity": {"type": "integer", "minimum": 1, "maximum": event_rules.MAX_CAPACITY},
            "registration_opens_at": _OPTIONAL_TIME,
            "registration_closes_at": _OPTIONAL_TIME,
        },
    }
    event_input = {
        "type": "object",
        "required": ["title", "kind", "district", "venue", "sessions"],
        "properties": {
            "title": {"type": "string", "maxLength": event_rules.MAX_TITLE},
            "kind": ref("EventKind"),
            "district": ref("District"),
            "venue": {"type": "string", "maxLength": event_rules.MAX_VENUE},
            "address": {"type": "string", "maxLength": event_rules.MAX_ADDRESS},
            "host": {"type": "string", "maxLength": event_rules.MAX_HOST},
            "description": {"type": "string", "maxLength": event_rules.MAX_DESCRIPTION},
            "max_party_size": {"type": "integer", "minimum": 1,
                               "maximum": event_rules.MAX_PARTY, "default": 4},
            "registration_mode": {**ref("RegistrationMode"),
                                  "default": RegistrationMode.FCFS.value},
            "status": {"type": "string", "enum": list(PUBLISHABLE_STATUSES), "default": "draft"},
            "organisation": {"type": "string", "description": "Required for admins: the "
                             "organisation's name. Organisers may omit it (their own)."},
            "sessions": {"type": "array", "minItems": 1, "maxItems": event_rules.MAX_SESSIONS,
                         "items": ref("SessionInput")},
            "checkpoints": {
                "type": "array", "maxItems": event_rules.MAX_CHECKPOINTS,
                "description": "Stations in order; the first is the entrance. Empty: one "
                               "entrance is created.",
                "items": {"type": "object", "required": ["name"],
                          "properties": {"name": {"type": "string", "maxLength":
                                                  event_rules.MAX_CHECKPOINT_NAME}}},
            },
        },
    }
    event_list = {
        "type": "object",
        "required": ["events", "page", "per_page", "total"],
        "properties": {
            "events": {"type": "array", "items": ref("Event")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
        },
        "additionalProperties": False,
    }
    return {
        "EventKind": _choices(labels.KIND),
        "EventStatus": _choices(labels.STATUS),
        "RegistrationMode": _choices(labels.MODE),
        "District": {"type": "string", "enum": [zh for zh, _en in SHANGHAI_DISTRICTS],
                     "description": "One of Shanghai's 16 districts, by its Chinese name."},
        "Session": session, "Checkpoint": checkpoint, "Event": event, "EventList": event_list,
        "SessionInput": session_input, "EventInput": event_input,
    }


def _query(name: str, schema: Schema, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _events() -> dict[str, Any]:
    event_found = json_body(ref("Event"), "The event.")
    paths = {
        "/events": {
            "get": {
                "tags": ["events"],
                "operationId": "listEvents",
                "summary": "Published events with a session still to come, soonest first",
                "description": "Cancelled events are not listed. With a token, an organiser "
                               "also sees their organisation's drafts, an admin all drafts.",
                "security": BEARER_OR_ANONYMOUS,
                "parameters": [
                    _query("district", ref("District"), "Only this district."),
                    _query("kind", ref("EventKind"), "Only this kind."),
                    _query("date_from", {"type": "string", "format": "date"},
                           "With a session ending on or after this Shanghai day."),
                    _query("date_to", {"type": "string", "format": "date"},
                           "With a session starting on or before this Shanghai day."),
                    _query("page", {"type": "integer", "minimum": 1, "default": 1}, "From 1."),
                    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100},
                           "Events per page (default 20)."),
                ],
                "responses": {
                    "200": json_body(ref("EventList"), "One page of events."),
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "422": {"$ref": "#/components/responses/ValidationFailed"},
                },
            },
            "post": {
                "tags": ["events"],
                "operationId": "createEvent",
                "summary": "Create an event (organisers and admins)",
                "security": BEARER,
                "requestBody": {"required": True, **json_body(ref("EventInput"))},
                "responses": {
                    "201": {**json_body(ref("Event"), "Created."),
                            "headers": {"Location": {"schema": {"type": "string"},
                                                     "description": "The event's address."}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "422": {"$ref": "#/components/responses/ValidationFailed"},
                },
            },
        },
        "/events/{event_id}": {
            "get": {
                "tags": ["events"],
                "operationId": "getEvent",
                "summary": "One event",
                "description": "Published and cancelled events for anyone; a draft only with "
                               "a token of its organisation (or an admin's).",
                "security": BEARER_OR_ANONYMOUS,
                "parameters": [{"name": "event_id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "responses": {
                    "200": event_found,
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            },
        },
    }
    return {"schemas": _event_schemas(), "paths": paths}


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


RESOURCES: list[Callable[[], dict[str, Any]]] = [_common, _tokens, _events, _meta]


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
    return doc
