"""The door: check-ins, undo, live figures, walk-ins, tallies, search."""
from __future__ import annotations

from typing import Any

from ... import labels
from .common import (
    TIME,
    Schema,
    choices,
    json_body,
    path_id,
    query_param,
    ref,
)

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
    "wrong_session": "a ticket of another session than the one the device is set to",
    "wrong_day": "不是今天的场次: a good ticket of a session on another day (Shanghai); nobody let "
                 "in unless sent again with `override: true`",
    "not_yet_open": "该场次尚未开始入场: today's session, before its admission window (the "
                    "event's `admission_opens_minutes` before the start); nobody let in unless "
                    "sent again with `override: true`",
    "exited": "a ticket's party left through an exit (a checkpoint whose direction is `out`, or "
              "`both` with `direction: out`): `exited_people` of those inside; admitted people "
              "unchanged",
    "over_capacity": "已达最大承载量: letting them in would pass the safety cap (the session's, "
                     "else the event's); nobody let in unless sent again with `override: true` "
                     "(audited as cap_override)",
}
CAP_STATES = ["ok", "warn", "full"]
CONFLICTS = {
    "duplicate": "the party was in already through another device: counted once, the earliest "
                 "`scanned_at` stands (when this scan is the earlier, the standing admission "
                 "takes its time and device); `previous` names the other device",
    "after_cancellation": "let in offline after the ticket or the event was cancelled: an "
                          "offline admission is recorded, the ticket's admitted people unchanged",
    "refused": "let in offline, but the server refuses the ticket (unknown, another session, "
               "not confirmed…): nothing recorded",
}
SCAN_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "The device's "
           "own id for this scan (e.g. crypto.randomUUID() without dashes): made once per "
           "account, a repeat gets the stored answer."}


def _door_schemas() -> dict[str, Schema]:
    ticket = {
        "type": "object",
        "required": ["ticket_id", "name", "phone_masked", "party_size", "status", "event_id",
                     "event_title", "session_id", "session_starts_at", "admitted_people"],
        "properties": {
            "ticket_id": {**_NULLABLE_ID, "description": "Names the ticket to the door (to admit "
                          "it by search, or the rest of its party): never its code, which is the "
                          "citizen's secret. null for another event's ticket."},
            "name": {"type": "string", "description": "Empty for another event's ticket."},
            "phone_masked": {"type": "string", "description": "e.g. 138****5678."},
            "party_size": {"type": "integer", "minimum": 1},
            "status": choices(labels.REGISTRATION_STATUS),
            "event_id": {"type": "integer"},
            "event_title": {"type": "string"},
            "session_id": {"type": "integer"},
            "session_starts_at": TIME,
            "admitted_people": {"type": "integer", "minimum": 0,
                                "description": "Let in at the entrance so far."},
            "door_answers": {"type": "array", "items": ref("DoorAnswer"),
                             "description": "In a scan's answer: the ticket's answers to the "
                                            "questions shown at the door (a whole ID number as "
                                            "“…” and its last four)."},
        },
        "additionalProperties": False,
    }
    checkin = {
        "type": "object",
        "required": ["event_id"],
        "properties": {
            "code": {"type": "string", "description": "What the scanner read: the ticket's URL "
                                                      "(…/t/<code>) or its code, grouped or not. "
                                                      "Send this or `ticket_id`."},
            "ticket_id": {"type": "integer", "description": "A ticket of this event, as a search "
                          "or an earlier answer named it. Send this or `code`."},
            "event_id": {"type": "integer", "description": "The event the device stands at."},
            "session_id": {**_NULLABLE_ID, "description": "The session the device admits; "
                           "omitted or null: any session of the event."},
            "checkpoint_id": {**_NULLABLE_ID, "description": "Omitted or null: the entrance. "
                              "Another checkpoint records one visit per ticket."},
            "people": {"type": ["integer", "null"], "minimum": 1, "maximum": 20,
                       "description": "How many of the party to let in; omitted: all still "
                                      "outside. The rest may come later."},
            "override": {"type": "boolean", "default": False, "description": "Staff deliberately "
                         "admit a ticket answered `wrong_day`, `not_yet_open` or "
                         "`over_capacity`; recorded in the audit log."},
            "direction": {"type": "string", "enum": ["in", "out"], "default": "in",
                          "description": "At a checkpoint counting both ways: `out` scans the "
                                         "party out (an exit). At an exit every scan is one; at "
                                         "a checkpoint that only admits, `out` is refused."},
            "scan_id": {**SCAN_ID, "description": SCAN_ID["description"] + " Optional here."},
        },
    }
    answer = {
        "type": "object",
        "required": ["result", "ticket", "admitted_people", "remaining_people", "reentry",
                     "previous", "message", "admission_id", "exited_people"],
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
                                                            "let in (or left)."},
            "exited_people": {"type": "integer", "minimum": 0,
                              "description": "Left through an exit by this request."},
            "conflict": {"type": ["string", "null"], "enum": [*CONFLICTS, None],
                         "description": "Only with a `scan_id`: " + "; ".join(
                             f"`{key}`: {text}" for key, text in CONFLICTS.items())},
            "repeated": {"type": "boolean", "description": "Only with a `scan_id`: true when "
                         "this scan_id was made before; the stored answer, nothing admitted."},
        },
        "additionalProperties": False,
    }
    batch_item = {
        "type": "object",
        "required": ["scan_id", "event_id", "scanned_at"],
        "properties": {
            "scan_id": SCAN_ID,
            "kind": {"type": "string", "enum": ["scan", "walk_in", "walk_out"],
                     "default": "scan", "description": "`walk_in`: people without a ticket "
                     "let in (`people`); `walk_out`: people leaving without a ticket scanned."},
            "code": checkin["properties"]["code"],
            "ticket_id": checkin["properties"]["ticket_id"],
            "event_id": {"type": "integer"},
            "session_id": _NULLABLE_ID,
            "checkpoint_id": _NULLABLE_ID,
            "people": {"type": ["integer", "null"], "minimum": 1},
            "scanned_at": {**TIME, "description": "When the device scanned, by its clock: ISO "
                                                  "8601 with an offset or Z."},
            "offline": {"type": "boolean", "default": True, "description": "The device "
                        "decided without the network (and let the people in): admitted at "
                        "`scanned_at`, never refused for the safety cap; what the server finds "
                        "different is a `conflict`. false: an ordinary scan sent late."},
            "override": {"type": "boolean", "default": False},
            "direction": {"type": "string", "enum": ["in", "out"], "default": "in"},
        },
    }
    batch_result = {
        "type": "object",
        "required": ["scan_id", "status", "result", "conflict", "message"],
        "properties": {
            "scan_id": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": ["recorded", "repeated", "invalid"],
                       "description": "`recorded` now; `repeated`: this scan_id was recorded "
                       "before (its stored answer, nothing done again); `invalid`: see `errors`, "
                       "nothing recorded (fix and send again)."},
            "result": {"type": ["string", "null"], "enum": [*RESULTS, None]},
            "conflict": {"type": ["string", "null"], "enum": [*CONFLICTS, None]},
            "message": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "string"}},
            "answer": ref("CheckinAnswer"),
        },
        "additionalProperties": False,
    }
    batch = {
        "type": "object",
        "required": ["scans"],
        "properties": {"scans": {"type": "array", "maxItems": 100,
                                 "items": ref("CheckinBatchItem")}},
    }
    batch_answer = {
        "type": "object",
        "required": ["results"],
        "properties": {"results": {"type": "array", "items": ref("CheckinBatchResult"),
                                   "description": "One per scan, in the order sent."}},
        "additionalProperties": False,
    }
    previous = {
        "type": "object",
        "required": ["at", "checkpoint", "by"],
        "properties": {"at": TIME, "checkpoint": {"type": "string"},
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
                     "checkpoints", "inside_now", "safety_cap", "cap_state"],
        "properties": {
            "event_id": {"type": "integer"},
            "session_id": _NULLABLE_ID,
            "registered_people": {**count, "description": "In confirmed registrations."},
            "registered_parties": count,
            "admitted_people": {**count, "description": "Of those, let in at the entrance."},
            "admitted_parties": {**count, "description": "Parties with anyone let in."},
            "walk_in_people": count,
            "inside_now": {**count, "description": "场内人数: entries + re-entries + walk-ins − "
                                                   "exits."},
            "safety_cap": {"type": ["integer", "null"], "minimum": 1, "description":
                           "最大承载量: the session's, else the event's; null: none."},
            "cap_state": {"type": "string", "enum": CAP_STATES, "description": "`warn` from 90% "
                          "of the cap, `full` from 100% (counted over the cap's own scope)."},
            "tallies": {"type": "array", "items": ref("TallyCount")},
            "checkpoints": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "name", "people", "inside_now"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                               "inside_now": {**count, "description": "People in through it "
                                              "minus people out through it."},
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
            "override": {"type": "boolean", "default": False, "description": "Admit past the "
                         "safety cap (audited)."},
        },
    }
    walk_out = {
        "type": "object",
        "properties": {
            "session_id": {**_NULLABLE_ID, "description": "Omitted: the session running today "
                                                          "nearest to now."},
            "people": {"type": "integer", "minimum": 1, "maximum": 500, "default": 1},
            "checkpoint_id": {**_NULLABLE_ID, "description": "Omitted: the event's first exit, "
                                                             "else the entrance."},
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
            "CheckinBatch": batch, "CheckinBatchItem": batch_item,
            "CheckinBatchResult": batch_result, "CheckinBatchAnswer": batch_answer,
            "WalkInInput": walk_in, "WalkOutInput": walk_out, "TallyBump": bump, "TicketList": tickets, "Undone": undone}


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


def part() -> dict[str, Any]:
    not_found = {"$ref": "#/components/responses/NotFound"}
    invalid = {"$ref": "#/components/responses/ValidationFailed"}
    event = path_id("event_id")
    session = query_param("session_id", {"type": "integer"}, "Only this session.")
    paths = {
        "/checkins": {"post": _door_operation(
            "checkIn", "Scan a ticket at the door",
            {"200": json_body(ref("CheckinAnswer"), "Every answer of a scan, an unknown code "
                                                    "too."),
             "404": json_body(ref("Error"), "No such event."), "422": invalid,
             "409": json_body(ref("Error"), "`scan_in_flight`: the same scan_id is being made "
                                            "by another request; send it again shortly.")},
            description="One transaction per scan; two devices scanning one ticket at the same "
                        "instant let it in once. Messages follow `?lang=`.",
            body="CheckinInput")},
        "/checkins/batch": {"post": _door_operation(
            "checkInBatch", "Send queued scans (after being offline)",
            {"200": json_body(ref("CheckinBatchAnswer"), "Each scan answered in the order sent; "
                              "a bad one is `invalid` and never fails the others."),
             "422": json_body(ref("ValidationErrors"), "The body is not {\"scans\": [...]}, "
                              "or holds more than 100 scans.")},
            description="Each scan is made once per (account, scan_id), however often it is "
                        "sent: a batch sent again after a lost answer records nothing twice. "
                        "Offline scans are admitted at their `scanned_at`; conflicts with what "
                        "the server knows are answered per scan (`conflict`).",
            body="CheckinBatch")},
        "/checkins/{admission_id}/undo": {"post": _door_operation(
            "undoCheckIn", "Take back a mistaken admission",
            {"200": json_body(ref("Undone"), "Undone, and written in the audit log."),
             "404": not_found,
             "409": json_body(ref("Error"), "`undo_refused`: too late (DOOR_UNDO_MINUTES, 5 by "
                                            "default), not the ticket's last admission, or "
                                            "undone already.")},
            parameters=[path_id("admission_id")])},
        "/events/{event_id}/attendance": {"get": _door_operation(
            "attendance", "Live figures of the door",
            {"200": json_body(ref("Attendance"), "People and parties registered and let in, "
                                                 "walk-ins, tallies, people per checkpoint."),
             "404": not_found, "422": invalid},
            parameters=[event, session])},
        "/events/{event_id}/walk-ins": {"post": _door_operation(
            "walkIn", "Let in people without a ticket",
            {"201": json_body(ref("CheckinAnswer"), "Let in; `admission_id` undoes it."),
             "200": json_body(ref("CheckinAnswer"), "`over_capacity`: nobody let in (send "
                                                    "again with `override`)."),
             "404": not_found, "422": invalid},
            body="WalkInInput", parameters=[event])},
        "/events/{event_id}/walk-outs": {"post": _door_operation(
            "walkOut", "People leaving without a ticket scanned (1 人离场)",
            {"201": json_body(ref("CheckinAnswer"), "`exited`; `admission_id` undoes it."),
             "404": not_found,
             "422": json_body(ref("ValidationErrors"), "Invalid, or fewer people inside than "
                                                       "leaving (`people`): inside now never "
                                                       "goes below zero.")},
            body="WalkOutInput", parameters=[event])},
        "/events/{event_id}/tallies/{tally_id}/bump": {"post": _door_operation(
            "bumpTally", "Count a service (血压测量, 资料发放…)",
            {"200": json_body(ref("TallyCount"), "The tally's new count."),
             "404": not_found, "422": invalid},
            description="Bumps from many devices at once add up exactly.",
            body="TallyBump", parameters=[event, path_id("tally_id")])},
        "/events/{event_id}/search": {"get": _door_operation(
            "searchTickets", "Find a ticket by name or phone",
            {"200": json_body(ref("TicketList"), "At most 20, confirmed first."),
             "404": not_found, "422": invalid},
            parameters=[event, session,
                        query_param("q", {"type": "string", "maxLength": 50},
                               "Part of the name, the phone's last 4 digits, or the whole number.")])},
    }
    schemes = {"doorSession": {
        "type": "apiKey", "in": "header", "name": "X-CSRFToken",
        "description": "The door page in a signed-in browser: its session cookie, and the "
                       "page's CSRF token in this header."}}
    return {"schemas": _door_schemas(), "paths": paths, "securitySchemes": schemes}


