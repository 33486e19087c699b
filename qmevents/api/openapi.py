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
from ..models import SHANGHAI_DISTRICTS, RegistrationMode, RegistrationStatus
from ..services import approval as approval_rules
from ..services import events as event_rules
from .schemas import PUBLISHABLE_STATUSES

Schema = dict[str, Any]

BEARER = [{"bearerToken": []}]
BEARER_OR_ANONYMOUS: list[dict] = [{}, {"bearerToken": []}]
# What a new registration can be: confirmed (first come), waitlisted, or applied (approval, lottery).
CREATED_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED,
                    RegistrationStatus.APPLIED)


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
                     "organisation", "sessions", "checkpoints", "allow_reentry", "tallies"],
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
            "allow_reentry": {"type": "boolean", "description": "Whether a ticket already let "
                              "in may pass the entrance again (recorded, not counted twice)."},
            "tallies": {"type": "array", "items": ref("Tally"),
                        "description": "Services counted at the door, e.g. 血压测量."},
        },
        "additionalProperties": False,
    }
    tally = {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
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
            "allow_reentry": {"type": "boolean", "default": False,
                              "description": "Let a ticket already in pass the entrance again."},
            "tallies": {
                "type": "array", "maxItems": event_rules.MAX_TALLIES,
                "description": "Services counted at the door (e.g. 血压测量, 资料发放), each "
                               "name once.",
                "items": {"type": "object", "required": ["name"],
                          "properties": {"name": {"type": "string", "maxLength":
                                                  event_rules.MAX_TALLY_NAME}}},
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
        "Session": session, "Checkpoint": checkpoint, "Tally": tally, "Event": event,
        "EventList": event_list,
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


# --- registrations ------------------------------------------------------------------------------


def _registration_schemas() -> dict[str, Schema]:
    request = {
        "type": "object",
        "required": ["session_id", "name", "phone", "party_size"],
        "properties": {
            "session_id": {"type": "integer", "description": "One of the event's sessions."},
            "name": {"type": "string", "maxLength": 50,
                     "description": "The person registering, for the ticket and the door."},
            "phone": {"type": "string", "description": "A mainland mobile number (11 digits); "
                      "one active registration per number and session. The ticket link is "
                      "sent to it by SMS."},
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
            "status": {**_choices({s: labels.REGISTRATION_STATUS[s] for s in CREATED_STATUSES}),
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
    return {"RegistrationInput": request, "RegistrationCreated": created,
            "RegistrationRefused": refused}


def _registrations() -> dict[str, Any]:
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
    return {"schemas": _registration_schemas(), "paths": paths}


# --- the door: check-ins, undo, figures, walk-ins, tallies, search ------------------------------

DOOR: list[dict] = [{"bearerToken": []}, {"doorSession": []}]
_NULLABLE_ID = {"type": ["integer", "null"]}
RESULTS = {
    "admitted": "let in: `admitted_people` now (a re-entry when `reentry` is true, a visit at a "
                "station when the device stands at one)",
    "already_admitted": "nobody let in: the ticket is in already; `previous` says when, where "
                        "and by whom",
    "unknown": "no ticket has this code, or what was scanned is not a ticket",
    "cancelled": "the registration, or the whole event, was cancelled",
    "not_confirmed": "waiting list, offered, applied, declined or not selected: see "
                     "`ticket.status`",
    "wrong_event": "a ticket of another event (its title, nothing about its holder)",
    "wrong_session": "a ticket of another session, or of another day when the device is set to "
                     "no session",
}


def _door_schemas() -> dict[str, Schema]:
    ticket = {
        "type": "object",
        "required": ["code", "name", "phone_masked", "party_size", "status", "event_id",
                     "event_title", "session_id", "session_starts_at", "admitted_people"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string", "description": "Empty for another event's ticket."},
            "phone_masked": {"type": "string", "description": "e.g. 138****5678."},
            "party_size": {"type": "integer", "minimum": 1},
            "status": _choices(labels.REGISTRATION_STATUS),
            "event_id": {"type": "integer"},
            "event_title": {"type": "string"},
            "session_id": {"type": "integer"},
            "session_starts_at": _TIME,
            "admitted_people": {"type": "integer", "minimum": 0,
                                "description": "Let in at the entrance so far."},
        },
        "additionalProperties": False,
    }
    checkin = {
        "type": "object",
        "required": ["code", "event_id"],
        "properties": {
            "code": {"type": "string", "description": "What the scanner read: the ticket's URL "
                                                      "(…/t/<code>) or its code, grouped or not."},
            "event_id": {"type": "integer", "description": "The event the device stands at."},
            "session_id": {**_NULLABLE_ID, "description": "The session the device admits; "
                           "omitted or null: any session of the event running today (Shanghai)."},
            "checkpoint_id": {**_NULLABLE_ID, "description": "Omitted or null: the entrance. "
                              "Another checkpoint records one visit per ticket."},
            "people": {"type": ["integer", "null"], "minimum": 1, "maximum": 20,
                       "description": "How many of the party to let in; omitted: all still "
                                      "outside. The rest may come later."},
        },
    }
    answer = {
        "type": "object",
        "required": ["result", "ticket", "admitted_people", "remaining_people", "reentry",
                     "previous", "message", "admission_id"],
        "properties": {
            "result": {"type": "string", "enum": list(RESULTS), "description": "; ".join(
                f"`{key}`: {text}" for key, text in RESULTS.items())},
            "ticket": {"anyOf": [ref("DoorTicket"), {"type": "null"}],
                       "description": "null for an unknown code and for walk-ins."},
            "admitted_people": {"type": "integer", "minimum": 0,
                                "description": "Let in by this request."},
            "remaining_people": {"type": "integer", "minimum": 0,
                                 "description": "Of the party, still to come in at the "
                                                "entrance."},
            "reentry": {"type": "boolean"},
            "previous": {"anyOf": [ref("PreviousAdmission"), {"type": "null"}]},
            "message": {"type": "string", "description": "For the staff, in zh_CN or en."},
            "admission_id": {**_NULLABLE_ID, "description": "What to undo, when people were "
                                                            "let in."},
        },
        "additionalProperties": False,
    }
    previous = {
        "type": "object",
        "required": ["at", "checkpoint", "by"],
        "properties": {"at": _TIME, "checkpoint": {"type": "string"},
                       "by": {"type": "string", "description": "The staff member's e-mail."}},
        "additionalProperties": False,
    }
    count = {"type": "integer", "minimum": 0}
    named_count = {
        "type": "object",
        "required": ["id", "name", "count"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "count": count},
        "additionalProperties": False,
    }
    figures = {
        "type": "object",
        "required": ["event_id", "session_id", "registered_people", "registered_parties",
                     "admitted_people", "admitted_parties", "walk_in_people", "tallies",
                     "checkpoints"],
        "properties": {
            "event_id": {"type": "integer"},
            "session_id": _NULLABLE_ID,
            "registered_people": {**count, "description": "In confirmed registrations."},
            "registered_parties": count,
            "admitted_people": {**count, "description": "Of those, let in at the entrance."},
            "admitted_parties": {**count, "description": "Parties with anyone let in."},
            "walk_in_people": count,
            "tallies": {"type": "array", "items": ref("TallyCount")},
            "checkpoints": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "name", "people"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                               "people": {**count, "description": "At the entrance: tickets "
                                          "and walk-ins let in (re-entries not again); at a "
                                          "station: people of the visits."}},
                "additionalProperties": False,
            }},
        },
        "additionalProperties": False,
    }
    walk_in = {
        "type": "object",
        "required": ["people"],
        "properties": {
            "session_id": {**_NULLABLE_ID, "description": "Omitted: the session running today "
                                                          "nearest to now."},
            "people": {"type": "integer", "minimum": 1, "maximum": 500},
            "name": {"type": ["string", "null"], "maxLength": 50},
            "phone": {"type": ["string", "null"], "description": "A mainland mobile number."},
        },
    }
    bump = {
        "type": "object",
        "properties": {"by": {"type": "integer", "minimum": -1000, "maximum": 1000,
                              "default": 1, "description": "Not 0; negative corrects a "
                                                           "mistake, never below 0."}},
    }
    tickets = {
        "type": "object",
        "required": ["tickets"],
        "properties": {"tickets": {"type": "array", "items": ref("DoorTicket")}},
        "additionalProperties": False,
    }
    undone = {
        "type": "object",
        "required": ["undone"],
        "properties": {"undone": {"type": "boolean"}},
        "additionalProperties": False,
    }
    return {"DoorTicket": ticket, "CheckinInput": checkin, "CheckinAnswer": answer,
            "PreviousAdmission": previous, "TallyCount": named_count, "Attendance": figures,
            "WalkInInput": walk_in, "TallyBump": bump, "TicketList": tickets, "Undone": undone}


def _door_operation(operation_id: str, summary: str, responses: dict[str, Any], *,
                    description: str = "", body: str | None = None,
                    parameters: list | None = None) -> dict[str, Any]:
    """An operation of the door: its credentials and the statuses every one of them shares."""
    operation: dict[str, Any] = {
        "tags": ["door"], "operationId": operation_id, "summary": summary,
        "description": description, "security": DOOR, "parameters": parameters or [],
        "responses": {
            **responses,
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "403": json_body(ref("Error"), "Not on this event's door staff: neither an admin, an "
                                           "organiser of its organisation nor staff assigned."),
        },
    }
    if body:
        operation["requestBody"] = {"required": True, **json_body(ref(body))}
    return operation


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _checkins() -> dict[str, Any]:
    not_found = {"$ref": "#/components/responses/NotFound"}
    invalid = {"$ref": "#/components/responses/ValidationFailed"}
    event = _path_id("event_id")
    session = _query("session_id", {"type": "integer"}, "Only this session.")
    paths = {
        "/checkins": {"post": _door_operation(
            "checkIn", "Scan a ticket at the door",
            {"200": json_body(ref("CheckinAnswer"), "Every answer of a scan, an unknown code "
                                                    "too."),
             "404": json_body(ref("Error"), "No such event."), "422": invalid},
            description="One transaction per scan; two devices scanning one ticket at the same "
                        "instant let it in once. Messages follow `?lang=`.",
            body="CheckinInput")},
        "/checkins/{admission_id}/undo": {"post": _door_operation(
            "undoCheckIn", "Take back a mistaken admission",
            {"200": json_body(ref("Undone"), "Undone, and written in the audit log."),
             "404": not_found,
             "409": json_body(ref("Error"), "`undo_refused`: too late (DOOR_UNDO_MINUTES, 5 by "
                                            "default), not the ticket's last admission, or "
                                            "undone already.")},
            parameters=[_path_id("admission_id")])},
        "/events/{event_id}/attendance": {"get": _door_operation(
            "attendance", "Live figures of the door",
            {"200": json_body(ref("Attendance"), "People and parties registered and let in, "
                                                 "walk-ins, tallies, people per checkpoint."),
             "404": not_found, "422": invalid},
            parameters=[event, session])},
        "/events/{event_id}/walk-ins": {"post": _door_operation(
            "walkIn", "Let in people without a ticket",
            {"201": json_body(ref("CheckinAnswer"), "Let in; `admission_id` undoes it."),
             "404": not_found, "422": invalid},
            body="WalkInInput", parameters=[event])},
        "/events/{event_id}/tallies/{tally_id}/bump": {"post": _door_operation(
            "bumpTally", "Count a service (血压测量, 资料发放…)",
            {"200": json_body(ref("TallyCount"), "The tally's new count."),
             "404": not_found, "422": invalid},
            description="Bumps from many devices at once add up exactly.",
            body="TallyBump", parameters=[event, _path_id("tally_id")])},
        "/events/{event_id}/search": {"get": _door_operation(
            "searchTickets", "Find a ticket by name or phone",
            {"200": json_body(ref("TicketList"), "At most 20, confirmed first."),
             "404": not_found, "422": invalid},
            parameters=[event, session,
                        _query("q", {"type": "string", "maxLength": 50},
                               "Part of the name, or the phone's last 4 digits or more.")])},
    }
    schemes = {"doorSession": {
        "type": "apiKey", "in": "header", "name": "X-CSRFToken",
        "description": "The door page in a signed-in browser: its session cookie, and the "
                       "page's CSRF token in this header."}}
    return {"schemas": _door_schemas(), "paths": paths, "securitySchemes": schemes}


# --- the organiser's decisions: applicants, admit, decline, invitations -------------------------


def _applicant_schemas() -> dict[str, Schema]:
    ids = {"type": "array", "items": {"type": "integer"}}
    applicant = {
        "type": "object",
        "required": ["registration_id", "session_id", "name", "phone_masked", "party_size",
                     "status", "applied_at", "answers"],
        "properties": {
            "registration_id": {"type": "integer"},
            "session_id": {"type": "integer"},
            "name": {"type": "string"},
            "phone_masked": {"type": "string", "description": "e.g. 138****5678."},
            "party_size": {"type": "integer", "minimum": 1},
            "status": {"type": "string", "enum": [RegistrationStatus.APPLIED.value]},
            "applied_at": _TIME,
            "answers": {"type": "array", "items": {
                "type": "object", "required": ["question", "value"],
                "properties": {"question": {"type": "string"},
                               "value": {"type": "string", "description": "ID numbers masked."}},
                "additionalProperties": False}},
        },
        "additionalProperties": False,
    }
    demand = {
        "type": "object",
        "required": ["id", "places_left", "applied_parties", "applied_people"],
        "properties": {"id": {"type": "integer"},
                       "places_left": {"type": "integer", "minimum": 0},
                       "applied_parties": {"type": "integer", "minimum": 0},
                       "applied_people": {"type": "integer", "minimum": 0}},
        "additionalProperties": False,
    }
    applicant_list = {
        "type": "object",
        "required": ["applicants", "page", "per_page", "total", "sessions"],
        "properties": {
            "applicants": {"type": "array", "items": ref("Applicant")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "sessions": {"type": "array", "items": ref("SessionDemand"),
                         "description": "Every session: places left, and the applications "
                                        "still waiting (all of them, whatever the filters)."},
        },
        "additionalProperties": False,
    }
    decision = {
        "type": "object",
        "required": ["registration_ids"],
        "properties": {
            "registration_ids": {**ids, "minItems": 1, "maxItems": approval_rules.MAX_BATCH},
            "message": {"type": ["string", "null"], "maxLength": approval_rules.MAX_MESSAGE,
                        "description": "Sent to each applicant with the decision by SMS."},
        },
    }
    unchanged = {**ids, "description": "Listed, but no longer applications (decided already, "
                                       "or cancelled): left as they are, never counted twice."}
    admitted = {
        "type": "object",
        "required": ["admitted", "people", "unchanged"],
        "properties": {"admitted": {**ids, "description": "Now confirmed; tickets sent."},
                       "people": {"type": "integer", "minimum": 0,
                                  "description": "Places they took."},
                       "unchanged": unchanged},
        "additionalProperties": False,
    }
    declined = {
        "type": "object",
        "required": ["declined", "unchanged"],
        "properties": {"declined": ids, "unchanged": unchanged},
        "additionalProperties": False,
    }
    full = {
        "type": "object",
        "required": ["error", "message", "places_left"],
        "properties": {
            "error": {"type": "string", "enum": ["full"]},
            "message": {"type": "string", "description": "For people, in zh_CN or en."},
            "places_left": {"type": "integer", "minimum": 0},
            "session_id": {"type": "integer", "description": "Admitting: the session that has "
                                                             "too few places."},
            "needed": {"type": "integer", "description": "Admitting: people the batch needs "
                                                         "there."},
        },
        "additionalProperties": False,
    }
    invitation = {
        "type": "object",
        "required": ["session_id", "name", "phone", "party_size"],
        "properties": {
            "session_id": {"type": "integer", "description": "One of the event's sessions."},
            "name": {"type": "string", "maxLength": 50},
            "phone": {"type": "string", "description": "A mainland mobile number; the ticket "
                                                       "link is sent to it by SMS."},
            "party_size": {"type": "integer", "minimum": 1, "maximum": event_rules.MAX_PARTY,
                           "description": "At most the event's `max_party_size`."},
        },
    }
    return {"Applicant": applicant, "SessionDemand": demand, "ApplicantList": applicant_list,
            "Decision": decision, "Admitted": admitted, "Declined": declined,
            "NotEnoughPlaces": full, "InvitationInput": invitation}


def _organiser_operation(operation_id: str, summary: str, responses: dict[str, Any], *,
                         description: str = "", body: str | None = None,
                         parameters: list | None = None) -> dict[str, Any]:
    """An operation of the event's organisers (and admins): credentials and shared statuses."""
    operation: dict[str, Any] = {
        "tags": ["applicants"], "operationId": operation_id, "summary": summary,
        "description": description, "security": BEARER,
        "parameters": [_path_id("event_id"), *(parameters or [])],
        "responses": {
            **responses,
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "403": json_body(ref("Error"), "Door staff, or a role that may not decide."),
            "404": {"$ref": "#/components/responses/NotFound"},
            "422": {"$ref": "#/components/responses/ValidationFailed"},
        },
    }
    if body:
        operation["requestBody"] = {"required": True, **json_body(ref(body))}
    return operation


def _applicants() -> dict[str, Any]:
    refused = json_body(ref("Error"), "`closed`: the event is cancelled (or, inviting, a draft "
                                      "or a session already started); `invalid_transition`: "
                                      "the event is not by application and approval; "
                                      "`duplicate`: the phone already holds a registration.")
    full = json_body({"anyOf": [ref("NotEnoughPlaces"), ref("Error")]},
                     "Not enough places left (`full`, with `places_left`): nobody was "
                     "admitted; or refused as described under `error`.")
    paths = {
        "/events/{event_id}/applicants": {"get": _organiser_operation(
            "listApplicants", "Applications waiting for a decision",
            {"200": json_body(ref("ApplicantList"), "One page, by session then by when they "
                                                    "applied; phones masked.")},
            parameters=[_query("session_id", {"type": "integer"}, "Only this session."),
                        _query("q", {"type": "string", "maxLength": 50},
                               "Part of the name, or the phone's last 4 digits or more."),
                        _query("page", {"type": "integer", "minimum": 1, "default": 1},
                               "From 1."),
                        _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100},
                               "Applications per page (default 50).")])},
        "/events/{event_id}/applicants/admit": {"post": _organiser_operation(
            "admitApplicants", "Admit applications, all or none",
            {"200": json_body(ref("Admitted"), "Admitted; tickets sent by SMS."), "409": full},
            description="Places are taken per session in the same transaction as the status "
                        "change. If the parties of any session do not fit, nothing changes and "
                        "the answer says how many places are left. Safe to retry: applications "
                        "already decided come back under `unchanged`.",
            body="Decision")},
        "/events/{event_id}/applicants/decline": {"post": _organiser_operation(
            "declineApplicants", "Decline applications",
            {"200": json_body(ref("Declined"), "Declined; each applicant is told politely."),
             "409": refused},
            body="Decision")},
        "/events/{event_id}/invitations": {"post": _organiser_operation(
            "invite", "Invite someone by phone number",
            {"201": {**json_body(ref("RegistrationCreated"), "A confirmed ticket, sent by SMS."),
                     "headers": {"Location": {"schema": {"type": "string"},
                                              "description": "The ticket's address."}}},
             "409": full},
            description="Counts against capacity like any registration; no application, no "
                        "draw. Name, phone and party size are checked as for registering.",
            body="InvitationInput")},
    }
    return {"schemas": _applicant_schemas(), "paths": paths}


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


RESOURCES: list[Callable[[], dict[str, Any]]] = [_common, _tokens, _events, _registrations,
                                                  _checkins, _applicants, _meta]


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
