"""Registrations: register for a session, read and cancel a ticket."""
from __future__ import annotations

from typing import Any

from ... import labels
from ...services import events as event_rules
from ...services.identity import MAX_NAME
from .common import (
    CREATED_STATUSES,
    Schema,
    choices,
    json_body,
    ref,
)

# --- registrations ------------------------------------------------------------------------------


def _registration_schemas() -> dict[str, Schema]:
    request = {
        "type": "object",
        "required": ["name", "phone", "party_size"],
        "properties": {
            "session_id": {"type": "integer", "description": "One of the event's sessions. "
                           "Required, unless `session_ids` is given (then ignored)."},
            "session_ids": {"type": "array", "items": {"type": "integer"}, "minItems": 2,
                            "uniqueItems": True,
                            "description": "A series pass (系列通票), where the event's "
                            "`series_pass` is true: one registration and one ticket code for "
                            "these sessions of the event (at least two), admitted at each. "
                            "Places are taken in every one of them or in none: 409 `full` names "
                            "the session without room for the party. 404 when the event offers "
                            "no series pass."},
            "name": {"type": "string", "maxLength": MAX_NAME,
                     "description": "The person registering, for the ticket and the door: "
                                    "letters of any script, spaces, a middle dot (·), hyphens "
                                    "or apostrophes; no digits, links or other signs."},
            "phone": {"type": "string", "description": "A mainland mobile number (11 digits); "
                      "one active registration per number and session. The ticket link is "
                      "sent to it by SMS."},
            "phone_code": {"type": "string", "pattern": "^[0-9]{6}$",
                           "description": "Required when the event's `verify_phone` is true: "
                           "the 6-digit code POST /phone-codes sent to `phone`. Checked in the "
                           "same transaction that takes the places; wrong, expired or used: "
                           "422 on `phone_code`, nothing held. Works once."},
            "party_size": {"type": "integer", "minimum": 1, "maximum": event_rules.MAX_PARTY,
                           "description": "People coming together, counted against capacity; "
                                          "at most the event's `max_party_size`."},
            "answers": {"type": "object", "description": "Answers to the event's questions, "
                        "keyed by question id: a string or number, a list of options for "
                        "multiple choice.",
                        "additionalProperties": {"type": ["string", "number", "array"]}},
            "consent": {"type": "boolean", "default": True, "description": "By calling, the "
                        "integration states that the citizen has read and agreed to the "
                        "privacy notice (/privacy). Omitted means true; false is refused (422)."},
        },
    }
    created = {
        "type": "object",
        "required": ["code", "status", "ticket_url"],
        "properties": {
            "code": {"type": "string", "description": "The ticket code: whoever holds it may "
                                                      "show or cancel the ticket."},
            "status": {**choices({s: labels.REGISTRATION_STATUS[s] for s in CREATED_STATUSES}),
                       "description": "`confirmed`: places are held; `waitlisted` (waiting-list "
                                      "events, when full); `applied` (approval and lottery "
                                      "events: places are decided later)."},
            "ticket_url": {"type": "string", "description": "The ticket page, with its QR code."},
        },
        "additionalProperties": False,
    }
    refused = {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "enum": ["full", "closed", "duplicate"],
                      "description": "`full`: fewer places left than the party; `closed`: the "
                                     "event is cancelled or the session's registration window is "
                                     "not open; `duplicate`: this phone already holds a "
                                     "registration for the session."},
            "message": {"type": "string", "description": "For people, in zh_CN or en."},
        },
        "additionalProperties": False,
    }
    phone_code = {
        "type": "object",
        "required": ["phone"],
        "properties": {"phone": {"type": "string", "description": "A mainland mobile number."}},
    }
    phone_code_sent = {
        "type": "object",
        "required": ["expires_in", "message"],
        "properties": {
            "expires_in": {"type": "integer", "description": "Seconds the code stays valid."},
            "message": {"type": "string", "description": "For people, in zh_CN or en."},
        },
        "additionalProperties": False,
    }
    return {"RegistrationInput": request, "RegistrationCreated": created,
            "RegistrationRefused": refused, "PhoneCodeInput": phone_code,
            "PhoneCodeSent": phone_code_sent}


def part() -> dict[str, Any]:
    paths = {
        "/events/{event_id}/registrations": {
            "post": {
                "tags": ["registrations"],
                "operationId": "register",
                "summary": "Register a party for one of the event's sessions",
                "description": "For citizens' apps: no token; rate-limited per client address. "
                               "Capacity is counted in people and never oversold, however many "
                               "requests race. Retrying after a timeout is safe: a second "
                               "attempt with the same phone answers 409 `duplicate`.",
                "security": [],
                "parameters": [{"name": "event_id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "requestBody": {"required": True, **json_body(ref("RegistrationInput"))},
                "responses": {
                    "201": {**json_body(ref("RegistrationCreated"), "Registered."),
                            "headers": {"Location": {"schema": {"type": "string"},
                                                     "description": "The ticket's address."}}},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": json_body(ref("RegistrationRefused"), "Not registered, and why."),
                    "422": {"$ref": "#/components/responses/ValidationFailed"},
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
            },
        },
    }
    paths["/phone-codes"] = {
        "post": {
            "tags": ["registrations"],
            "operationId": "sendPhoneCode",
            "summary": "Text a 6-digit code to a phone, to register with it",
            "description": "The answer is the same whether or not the number is known. The code "
                           "lives a few minutes, works once, and dies after a few wrong tries; "
                           "asking again makes the earlier code worthless. Rate-limited per "
                           "phone and per client address (429).",
            "security": [],
            "requestBody": {"required": True, **json_body(ref("PhoneCodeInput"))},
            "responses": {
                "202": json_body(ref("PhoneCodeSent"), "The code is on its way."),
                "422": {"$ref": "#/components/responses/ValidationFailed"},
                "429": {"$ref": "#/components/responses/TooManyRequests"},
            },
        },
    }
    return {"schemas": _registration_schemas(), "paths": paths}


