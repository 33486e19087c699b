"""Downloads of the back office: an event's report, the dashboard, and an event's registrant list
(a small form: format, full numbers or not, and why). Every one goes through
services.exports.export, which checks who may take what and writes the audit entry before a byte
is sent; these views only parse the request and stream the answer. Problems with the request
(another organisation's event, an unknown district, a range that ends before it starts) are
plain error pages, never a partial file."""
from __future__ import annotations

from flask import Response, abort, render_template, request, stream_with_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, RadioField, StringField
from wtforms.fields.choices import SelectChoice

from ..errors import render_error
from ..models import Event
from ..services import access, exports
from ..services.errors import Forbidden, NotFound, ValidationFailed
from .blueprint import bp, editable_event
from .filters import FILTER_ARGS, scoped_filter


class RegistrantExportForm(FlaskForm):
    format = RadioField(_l("Format"), default="csv", choices=[
        SelectChoice("csv", _l("CSV (opens in Excel)")),
        SelectChoice("xlsx", _l("Excel workbook (XLSX)"))])
    unmasked = BooleanField(_l("Show full phone and ID numbers"))
    purpose = StringField(_l("Purpose (required for full numbers)"))

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            target = self._fields.get(name, self.purpose)
            target.errors = [*target.errors, message]


@bp.context_processor
def _export_rights() -> dict:
    """`may_export(event)` for templates/organiser/_export_links.html and the registrant list."""

    def may_export(event: Event) -> bool:
        return current_user.is_authenticated and access.may_unmask(current_user, event)

    return {"may_export": may_export, "export_formats": exports.FORMATS}


@bp.route("/events/<int:event_id>/report.<fmt>", endpoint="report_export")
@login_required
def report_export(event_id: int, fmt: str):
    return _send(exports.ExportRequest(exports.What.REPORT, fmt, event_id=event_id))


@bp.route("/dashboard.<fmt>", endpoint="dashboard_export")
@login_required
def dashboard_export(fmt: str):
    # The dashboard page's own reading of its query string, so a download holds what the page
    # shows; services.exports scopes it again (access.dashboard_scope) whoever calls it.
    typed = MultiDict({k: request.args.get(k, "").strip() for k in FILTER_ARGS})
    flt, errors = scoped_filter(typed)
    if errors:
        return _invalid(ValidationFailed(errors))
    return _send(exports.ExportRequest(exports.What.DASHBOARD, fmt, filter=flt))


@bp.route("/events/<int:event_id>/registrants/export", methods=["GET", "POST"],
          endpoint="registrants_export")
@login_required
def registrants_export(event_id: int):
    event = editable_event(event_id)  # door staff look at the list but take nothing away
    form = RegistrantExportForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("organiser/registrants_export.html", event=event, form=form), status
    asked = exports.ExportRequest(exports.What.REGISTRANTS, form.format.data, event_id=event.id,
                                  unmasked=form.unmasked.data, purpose=form.purpose.data or "")
    try:
        return _send(asked, raise_invalid=True)
    except ValidationFailed as exc:
        form.add_errors(exc.errors)
        return render_template("organiser/registrants_export.html", event=event, form=form), 400


def _invalid(exc: ValidationFailed):
    return render_error(400, " ".join(str(m) for m in exc.errors.values()))


def _send(asked: exports.ExportRequest, raise_invalid: bool = False):
    """The export streamed as a download. The audit entry is committed before the first byte."""
    try:
        file = exports.export(current_user._get_current_object(), asked)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except ValidationFailed as exc:
        if raise_invalid:
            raise
        return _invalid(exc)
    response = Response(stream_with_context(file.chunks), content_type=file.mimetype)
    response.headers["Content-Disposition"] = file.content_disposition
    response.headers["Cache-Control"] = "private, no-store"  # personal data: never kept on the way
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
