"""The API's blueprint and what every resource module shares: domain errors become statuses here,
in one place (ValidationFailed → 422 `{"errors": {path: message}}`, NotFound → 404, Forbidden →
403, InvalidTransition → 409, all others `{"error", "message"}`, see qmevents/errors.py), and the
request body is read as a JSON object one way."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_babel import gettext as _

from ..errors import render_error
from ..requestbody import NOT_JSON, json_body
from ..services.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed

bp = Blueprint("api", __name__)

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000


# --- errors -------------------------------------------------------------------------------------


@bp.errorhandler(ValidationFailed)
def validation_failed(err: ValidationFailed):
    return jsonify(errors=err.errors), 422


@bp.errorhandler(NotFound)
def not_found(err: NotFound):
    return render_error(404, err.message, err.code)


@bp.errorhandler(Forbidden)
def forbidden(err: Forbidden):
    return render_error(403, err.message, err.code)


@bp.errorhandler(InvalidTransition)
def invalid_transition(err: InvalidTransition):
    return render_error(409, err.message, err.code)


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, whatever the Content-Type says; 422 under `body`."""
    data = json_body()
    if data is NOT_JSON:
        raise ValidationFailed({"body": _("The body is not valid JSON.")})
    if not isinstance(data, dict):
        raise ValidationFailed({"body": _("The body must be a JSON object.")})
    return data


def text_field(data: dict[str, Any], key: str, errors: dict[str, str], *,
               required: bool = False) -> str | None:
    """A string field of a JSON body; None when absent or null. A wrong type, or a required
    field missing or blank, is put in `errors` under its key."""
    value = data.get(key)
    if value is None or (required and isinstance(value, str) and not value.strip()):
        if required:
            errors[key] = _("This field is required.")
        return None
    if not isinstance(value, str):
        errors[key] = _("Must be a string.")
        return None
    return value
