"""An event's door staff, and pairing a scanner app as a door device."""
from __future__ import annotations

from typing import Any

from .common import BEARER, TIME, json_body, path_id, ref

ERRORS = {"401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}}


def part() -> dict[str, Any]:
    schemas = {
        "StaffMember": {
            "type": "object",
            "required": ["id", "email", "active"],
            "properties": {
                "id": {"type": "integer"},
                "email": {"type": "string"},
                "active": {"type": "boolean"},
                "sign_in_url": {"type": "string", "description": "With `invite`, for an account "
                                "that has no password yet: the one-time sign-in link (shown "
                                "once; also sent by e-mail and SMS). An account in use gets its "
                                "link at its own e-mail only."},
                "sign_in_url_expires_at": TIME,
            },
            "additionalProperties": False,
        },
        "StaffList": {
            "type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref("StaffMember")}},
            "additionalProperties": False,
        },
        "StaffInput": {
            "type": "object", "required": ["email"],
            "properties": {
                "email": {"type": "string", "description": "An existing door staff account; "
                          "with `invite`, any address (a new account is made)."},
                "invite": {"type": "boolean", "default": False,
                           "description": "Send a one-time sign-in link (needed for a new "
                                          "account)."},
                "phone": {"type": "string", "description": "Also text the link to this "
                                                           "mainland mobile number."},
            },
        },
        "PairingInput": {
            "type": "object", "required": ["secret"],
            "properties": {"secret": {"type": "string", "description":
                                      "The last part of the pairing QR's /door/pair/ address."}},
        },
        "DeviceToken": {
            "type": "object",
            "required": ["token", "expires_at", "device", "event_id"],
            "properties": {
                "token": {"type": "string", "description": "Shown once: the device's bearer "
                          "token, for scanning and figures at its one event."},
                "expires_at": TIME,
                "device": {"type": "string", "description": "Its name, e.g. 东门 2 号机."},
                "event_id": {"type": "integer"},
            },
            "additionalProperties": False,
        },
    }
    event = path_id("event_id")
    invalid = {"$ref": "#/components/responses/ValidationFailed"}
    paths = {
        "/events/{event_id}/staff": {
            "get": {"tags": ["door team"], "operationId": "listStaff",
                    "summary": "The event's door staff (people; paired devices are not listed)",
                    "security": BEARER, "parameters": [event],
                    "responses": {"200": json_body(ref("StaffList"), "By e-mail."), **ERRORS}},
            "post": {"tags": ["door team"], "operationId": "addStaff",
                     "summary": "Add door staff, or invite a new one by a one-time sign-in link",
                     "security": BEARER, "parameters": [event],
                     "requestBody": {"required": True, **json_body(ref("StaffInput"))},
                     "responses": {"201": json_body(ref("StaffMember"), "On the door staff."),
                                   **ERRORS, "422": invalid}},
        },
        "/events/{event_id}/staff/{user_id}": {
            "delete": {"tags": ["door team"], "operationId": "removeStaff",
                       "summary": "Remove from the door staff: their next request is refused",
                       "security": BEARER, "parameters": [event, path_id("user_id")],
                       "responses": {"204": {"description": "Removed."}, **ERRORS}},
        },
        "/devices/pair": {
            "post": {"tags": ["door team"], "operationId": "pairDevice",
                     "summary": "Trade a pairing QR's secret, once, for a door device's token",
                     "security": [],
                     "requestBody": {"required": True, **json_body(ref("PairingInput"))},
                     "responses": {
                         "201": json_body(ref("DeviceToken"), "Paired."),
                         "410": json_body(ref("Error"), "Unknown, used or expired "
                                                        "(`pairing_expired`)."),
                         "422": invalid}},
        },
    }
    return {"schemas": schemas, "paths": paths}
