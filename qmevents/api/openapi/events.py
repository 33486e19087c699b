"""Events, their sessions and checkpoints: list, read, create, change, publish."""
from __future__ import annotations

from typing import Any

from ... import labels
from ...models import SHANGHAI_DISTRICTS, RegistrationMode
from ...services import events as event_rules
from ..schemas import PUBLISHABLE_STATUSES
from .common import (
    BEARER,
    BEARER_OR_ANONYMOUS,
    OPTIONAL_TIME,
    TIME,
    Schema,
    choices,
    json_body,
    query_param,
    ref,
)

# --- events -------------------------------------------------------------------------------------

VERIFY_PHONE = {"type": "boolean", "default": True, "description": "A place is final only for "
                "a phone that proved, with the code of POST /phone-codes sent in `phone_code`, "
                "that the registrant holds it. false: registering takes the number as typed."}
SEND_REMINDERS = {"type": "boolean", "default": True, "description": "Text each confirmed party "
                  "with a mobile number the day before its session, at 18:00 Shanghai time, "
                  "with its ticket and a link to give the places back."}
ADMISSION_OPENS = {"type": "integer", "minimum": 0,
                   "maximum": event_rules.MAX_ADMISSION_OPENS_MINUTES,
                   "default": event_rules.DEFAULT_ADMISSION_OPENS_MINUTES,
                   "description": "Minutes before a session starts from which the door admits "
                                  "its tickets; earlier, or on another day, only with `override`."}

SAFETY_CAP = {"type": ["integer", "null"], "minimum": 1, "maximum": event_rules.MAX_SAFETY_CAP,
              "description": "最大承载量: people inside at once. The door warns from 90% and "
                             "refuses at 100% unless staff override. A session's wins over the "
                             "event's; null: none."}
ADDRESS = {"type": "string", "maxLength": 255,
           "description": "Where this session meets; empty: the event's address."}
LOCATION = {"type": "string", "maxLength": 40, "pattern": "^$|^-?[0-9.]+ *[,，] *-?[0-9.]+$",
            "description": "Optional \"lat,lng\" for the map link (GCJ-02, as Chinese maps); "
                           "empty: the link searches the address."}
STATION_ADDRESS = {"type": "string", "maxLength": 255, "description": "A station's address."}
STATION_HOURS = {"type": "string", "maxLength": 60,
                 "description": "A station's opening hours, e.g. 09:00-16:00."}
SERIES_PASS = {"type": "boolean", "description": "系列通票: citizens may register once for "
               "several sessions, with one ticket valid at each (first come, first served)."}
DIRECTION = {"type": "string", "enum": ["in", "out", "both"], "default": "in",
             "description": "入口 in: admits; 出口 out: every scan there is an exit; 双向 both: "
                            "the door switches between in and out. The entrance (first) cannot "
                            "be out."}


def _event_schemas() -> dict[str, Schema]:
    session = {
        "type": "object",
        "required": ["id", "label", "starts_at", "ends_at", "capacity", "places_left",
                     "registration_opens_at", "registration_closes_at", "safety_cap",
                     "address", "location"],
        "properties": {
            "id": {"type": "integer"},
            "label": {"type": "string"},
            "starts_at": TIME,
            "ends_at": TIME,
            "capacity": {"type": "integer", "minimum": 1},
            "places_left": {"type": "integer", "minimum": 0},
            "registration_opens_at": OPTIONAL_TIME,
            "registration_closes_at": OPTIONAL_TIME,
            "safety_cap": SAFETY_CAP,
            "address": ADDRESS,
            "location": LOCATION,
        },
        "additionalProperties": False,
    }
    checkpoint = {
        "type": "object",
        "required": ["id", "name", "position", "direction", "address", "hours"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                       "position": {"type": "integer", "minimum": 0,
                                    "description": "0 is the entrance."},
                       "direction": DIRECTION, "address": STATION_ADDRESS,
                       "hours": STATION_HOURS},
        "additionalProperties": False,
    }
    event = {
        "type": "object",
        "required": ["id", "title", "kind", "district", "venue", "address", "host",
                     "description", "status", "max_party_size", "registration_mode",
                     "organisation", "sessions", "checkpoints", "allow_reentry", "tallies",
                     "verify_phone", "send_reminders", "admission_opens_minutes", "safety_cap",
                     "series_pass"],
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
            "series_pass": SERIES_PASS,
            "allow_reentry": {"type": "boolean", "description": "Whether a ticket already let "
                              "in may pass the entrance again (recorded, not counted twice)."},
            "tallies": {"type": "array", "items": ref("Tally"),
                        "description": "Services counted at the door, e.g. 血压测量."},
            "verify_phone": VERIFY_PHONE,
            "send_reminders": SEND_REMINDERS,
            "admission_opens_minutes": ADMISSION_OPENS,
            "safety_cap": SAFETY_CAP,
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
            "starts_at": TIME,
            "ends_at": TIME,
            "capacity": {"type": "integer", "minimum": 1, "maximum": event_rules.MAX_CAPACITY},
            "registration_opens_at": OPTIONAL_TIME,
            "registration_closes_at": OPTIONAL_TIME,
            "safety_cap": SAFETY_CAP,
            "address": ADDRESS,
            "location": LOCATION,
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
                                                  event_rules.MAX_CHECKPOINT_NAME},
                                         "direction": DIRECTION,
                                         "address": STATION_ADDRESS,
                                         "hours": STATION_HOURS}},
            },
            "series_pass": {**SERIES_PASS, "default": False},
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
            "verify_phone": VERIFY_PHONE,
            "send_reminders": SEND_REMINDERS,
            "admission_opens_minutes": ADMISSION_OPENS,
            "safety_cap": SAFETY_CAP,
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
        "EventKind": choices(labels.KIND),
        "EventStatus": choices(labels.STATUS),
        "RegistrationMode": choices(labels.MODE),
        "District": {"type": "string", "enum": [zh for zh, _en in SHANGHAI_DISTRICTS],
                     "description": "One of Shanghai's 16 districts, by its Chinese name."},
        "Session": session, "Checkpoint": checkpoint, "Tally": tally, "Event": event,
        "EventList": event_list,
        "SessionInput": session_input, "EventInput": event_input,
    }


def part() -> dict[str, Any]:
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
                    query_param("district", ref("District"), "Only this district."),
                    query_param("kind", ref("EventKind"), "Only this kind."),
                    query_param("date_from", {"type": "string", "format": "date"},
                           "With a session ending on or after this Shanghai day."),
                    query_param("date_to", {"type": "string", "format": "date"},
                           "With a session starting on or before this Shanghai day."),
                    query_param("page", {"type": "integer", "minimum": 1, "default": 1}, "From 1."),
                    query_param("per_page", {"type": "integer", "minimum": 1, "maximum": 100},
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


