"""The dashboard's filter read from a query string, scoped to what the signed-in user may see:
the dashboard, its downloads and the campaign summary read it the same way, so a download holds
what the page shows."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..services import access
from ..services.errors import Forbidden
from ..services.reporting import dashboards

FILTER_ARGS = ("from", "to", "kind", "district", "organisation")

ARG_OF = {"date_from": "from", "date_to": "to", "district_id": "district",
           "organisation_id": "organisation"}


def allowed_args(is_admin: bool) -> tuple[str, ...]:
    """The arguments a download link carries: the organisation only for the city."""
    return FILTER_ARGS if is_admin else FILTER_ARGS[:-1]


def scoped_filter(typed: MultiDict) -> tuple[dashboards.DashboardFilter, dict[str, str]]:
    """The query's filter, scoped to what the signed-in user may see (403 for door staff), and
    what is wrong with it, per argument. The dashboard, its downloads and the campaign summary
    read their query strings with it, so a download holds what the page shows."""
    errors: dict[str, str] = {}
    flt = dashboards.DashboardFilter(kind=typed["kind"] or None)
    for arg, attr in (("from", "date_from"), ("to", "date_to")):
        if typed[arg]:
            try:
                setattr(flt, attr, date.fromisoformat(typed[arg]))
            except ValueError:
                errors[arg] = _("Enter a date as YYYY-MM-DD, e.g. 2026-09-01.")
    flt.district_id = _id_arg(typed, "district", errors)
    if access.may_choose_organisation(current_user):
        flt.organisation_id = _id_arg(typed, "organisation", errors)
    try:
        scope = access.dashboard_scope(current_user, flt.organisation_id)
        return replace(flt, organisation_id=scope,
                       bureau_district_id=access.oversees_district(current_user)), errors
    except Forbidden:
        abort(403)


def _id_arg(typed: MultiDict, arg: str, errors: dict[str, str]) -> int | None:
    value = typed[arg]
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        errors[arg] = _("Choose one from the list.")
        return None
    return int(value)
