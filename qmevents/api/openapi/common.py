"""The pieces every part of the OpenAPI document uses: references, bodies, enums with their
labels, and the shared schemas (errors, pages)."""
from __future__ import annotations

from typing import Any

from ...models import RegistrationStatus

Schema = dict[str, Any]

BEARER = [{"bearerToken": []}]
BEARER_OR_ANONYMOUS: list[dict] = [{}, {"bearerToken": []}]
# What a new registration can be: confirmed (first come), waitlisted, or applied (approval,
# lottery).
CREATED_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED,
                    RegistrationStatus.APPLIED)


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: Schema, description: str = "") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def choices(label_dict: dict) -> Schema:
    """An enum whose description lists each value with its label in the request's language."""
    return {
        "type": "string",
        "enum": [key.value for key in label_dict],
        "description": "; ".join(f"`{key.value}`: {label}" for key, label in label_dict.items()),
    }


TIME = {"type": "string", "format": "date-time",
         "description": "ISO 8601; answers use Shanghai time (+08:00). In requests a time "
                        "without an offset is Shanghai wall-clock time."}
OPTIONAL_TIME = {**TIME, "type": ["string", "null"]}


def query_param(name: str, schema: Schema, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


# --- shared pieces ------------------------------------------------------------------------------


def part() -> dict[str, Any]:
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


