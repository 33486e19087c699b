"""The organiser's decisions: applicants, admit, decline, invitations."""
from __future__ import annotations

from typing import Any

from ...models import RegistrationStatus
from ...services import events as event_rules
from ...services.registrations import approval as approval_rules
from .common import (
    BEARER,
    TIME,
    Schema,
    json_body,
    path_id,
    query_param,
    ref,
)

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
            "applied_at": TIME,
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
        "parameters": [path_id("event_id"), *(parameters or [])],
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


def part() -> dict[str, Any]:
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
            parameters=[query_param("session_id", {"type": "integer"}, "Only this session."),
                        query_param("q", {"type": "string", "maxLength": 50},
                               "Part of the name, the phone's last 4 digits, or the whole number."),
                        query_param("page", {"type": "integer", "minimum": 1, "default": 1},
                               "From 1."),
                        query_param("per_page", {"type": "integer", "minimum": 1, "maximum": 100},
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


