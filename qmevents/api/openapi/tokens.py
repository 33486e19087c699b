"""Tokens: sign in for a bearer token, revoke it."""
from __future__ import annotations

from typing import Any

from .common import (
    BEARER,
    json_body,
    ref,
)

# --- tokens -------------------------------------------------------------------------------------


def part() -> dict[str, Any]:
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


