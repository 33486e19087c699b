"""The back office's blueprint, and the thin wrappers over services.access that its pages share.

An event a user may not see is a 404 here, exactly like an unknown id (its existence is not
confirmed); an event they may see but not change (door staff assigned to it) is a 403.
"""
from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from ..extensions import db
from ..models import Event, Organisation
from ..services import access
from ..services.errors import Forbidden, NotFound

bp = Blueprint("organiser", __name__)


def visible_event(event_id: int) -> Event:
    """The event if the signed-in user may see it (access.visible_event). Aborts with 404
    otherwise: never its data, nor whether it exists."""
    try:
        return access.visible_event(current_user, event_id)
    except NotFound:
        abort(404)


def editable_event(event_id: int) -> Event:
    """The event if the signed-in user may change it (access.editable_event). Aborts with 404
    when they may not see it, 403 when they may only look (door staff assigned to it)."""
    try:
        return access.editable_event(current_user, event_id)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)


def organisation_choices() -> list[Organisation] | None:
    """The organisations an event, a dashboard or a summary may be for, by name: for the city
    only (access.may_choose_organisation); None for everyone else, who act for their own."""
    if not access.may_choose_organisation(current_user):
        return None
    return list(db.session.scalars(db.select(Organisation).order_by(Organisation.name)))
