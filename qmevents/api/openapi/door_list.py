"""The door's ticket list for offline scanning (GET /events/{event_id}/door-list)."""
from __future__ import annotations

from typing import Any

from ... import labels
from .common import TIME, choices, json_body, path_id, query_param, ref
from .door import DOOR


def part() -> dict[str, Any]:
    answer = {
        "type": "object",
        "required": ["label", "value"],
        "properties": {"label": {"type": "string", "description": "The question."},
                       "value": {"type": "string", "description": "The answer; a whole "
                                 "resident ID number only as “…” and its last four."}},
        "additionalProperties": False,
    }
    ticket = {
        "type": "object",
        "required": ["ticket_id", "v", "session_id", "status", "party_size", "admitted_people",
                     "name", "phone_tail", "door_answers"],
        "properties": {
            "ticket_id": {"type": "integer"},
            "v": {"type": "string", "pattern": "^[0-9a-f]{16}$",
                  "description": "The ticket's verifier: HMAC-SHA256(key, normalised code), hex, "
                                 "first 16 characters. Never the code itself."},
            "session_id": {"type": "integer"},
            "status": {**choices(labels.REGISTRATION_STATUS),
                       "description": "`cancelled` for every ticket of a cancelled event."},
            "party_size": {"type": "integer", "minimum": 1},
            "admitted_people": {"type": "integer", "minimum": 0},
            "name": {"type": "string", "description": "Masked: 张*明, 张*."},
            "phone_tail": {"type": "string", "description": "The phone's last 4 digits, or "
                                                            "empty."},
            "door_answers": {"type": "array", "items": ref("DoorAnswer")},
            "sv": {"type": "string", "pattern": "^[0-9a-f]{16}$",
                   "description": "Only for a ticket registered by phone (代报名): the verifier "
                                  "of its short door code, HMAC-SHA256(key, normalised short "
                                  "code such as `482913K`), hex, first 16 characters."},
        },
        "additionalProperties": False,
    }
    door_list = {
        "type": "object",
        "required": ["event_id", "key", "cursor", "full", "server_time", "tickets"],
        "properties": {
            "event_id": {"type": "integer"},
            "key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$",
                    "description": "32 bytes, base64url without padding: this account's key for "
                                   "this event, to compute `v` of a scanned code."},
            "cursor": {"type": "string", "description": "Opaque: send it back as `since` for "
                                                        "the changes."},
            "full": {"type": "boolean", "description": "false for the changes since a cursor "
                                                       "(upsert them by ticket_id)."},
            "server_time": TIME,
            "tickets": {"type": "array", "items": ref("DoorListTicket")},
        },
        "additionalProperties": False,
    }
    since = query_param("since", {"type": "string", "maxLength": 80},
                        "The `cursor` of an earlier answer: only the tickets changed since then "
                        "(with a minute's overlap).")
    paths = {
        "/events/{event_id}/door-list": {"get": {
            "tags": ["door"], "operationId": "doorList",
            "summary": "The ticket list for scanning offline",
            "description": "Every ticket of the event with a verifier of its code (never the "
                           "code), masked name, phone tail and the answers shown at the door; a "
                           "forged or foreign `since` is 422.",
            "security": DOOR, "parameters": [path_id("event_id"), since],
            "responses": {
                "200": json_body(ref("DoorList"), "gzip-compressed when the client accepts "
                                                  "it. Never cached (no-store)."),
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": json_body(ref("Error"), "Not on this event's door staff."),
                "404": {"$ref": "#/components/responses/NotFound"},
                "422": {"$ref": "#/components/responses/ValidationFailed"},
            }}},
    }
    return {"schemas": {"DoorAnswer": answer, "DoorListTicket": ticket, "DoorList": door_list},
            "paths": paths}
