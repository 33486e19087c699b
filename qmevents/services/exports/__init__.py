"""Exports: the event report, the dashboard and an event's registrant list as CSV, XLSX or PDF.

`export()` is the one door every export goes through: it checks who may take what, builds the
figures (so a bad filter fails before a byte is sent: never a partial file), writes the audit
entry (who, what, in which format, masked or not, for which purpose, how many rows) and commits
it, and only then hands back a body to stream. Registrant lists are masked (138****1234,
310101********123X) unless the event's organiser or an admin asks otherwise, with a purpose.

The formats live beside it: data.py (what a file holds), csv.py, xlsx.py and
pdf.py (how each format writes it)."""
from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import quote

from flask_babel import gettext as _

from ...extensions import db
from ...models import District, Event, Organisation, User
from ...timeutil import to_local, utcnow
from .. import access, audit
from ..errors import Forbidden, NotFound, ValidationFailed
from ..reporting import dashboards, reports
from .csv import document_csv, table_csv
from .data import Document, dashboard_document, registrants_document, report_document
from .pdf import document_pdf
from .xlsx import stream_file, write_workbook

MIN_PURPOSE, MAX_PURPOSE = 5, 200  # characters of the stated purpose of an unmasked export
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|;]+')


class What(enum.StrEnum):
    REPORT = "report"
    DASHBOARD = "dashboard"
    REGISTRANTS = "registrants"


class Format(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


# Which formats each export comes in: a registrant list of 100,000 rows is no PDF.
FORMATS: dict[What, tuple[Format, ...]] = {
    What.REPORT: (Format.CSV, Format.XLSX, Format.PDF),
    What.DASHBOARD: (Format.CSV, Format.XLSX, Format.PDF),
    What.REGISTRANTS: (Format.CSV, Format.XLSX),
}

MIMETYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.PDF: "application/pdf",
}


@dataclass
class ExportRequest:
    what: What
    format: str
    event_id: int | None = None  # the report and the registrant list
    filter: dashboards.DashboardFilter | None = None  # the dashboard
    unmasked: bool = False  # registrant list: full phone and ID numbers
    purpose: str = ""  # why, required for an unmasked list


@dataclass
class ExportFile:
    filename: str  # for people, may be Chinese
    ascii_filename: str  # for clients that do not read RFC 5987's filename*
    mimetype: str
    chunks: Iterator[bytes]  # read once; rows are fetched from the database as it is read
    rows: int | None  # data rows, when known before streaming

    @property
    def content_disposition(self) -> str:
        return (f'attachment; filename="{self.ascii_filename}"; '
                f"filename*=UTF-8''{quote(self.filename, safe='')}")


def export(actor: User, request: ExportRequest) -> ExportFile:
    """Check, build, audit and commit, then return the file to stream. NotFound for an unknown
    format, another organisation's event or an unknown district; Forbidden for door staff and
    for an unmasked list asked by anyone but the organiser or an admin; ValidationFailed for a
    missing purpose or a date range that ends before it starts."""
    what = What(request.what)
    fmt = _format(what, request.format)
    masked = not (what == What.REGISTRANTS and request.unmasked)
    purpose = " ".join(request.purpose.split())[:MAX_PURPOSE]
    detail: dict[str, object] = {"what": what.value, "format": fmt.value}
    event: Event | None = None
    if what == What.DASHBOARD:
        flt = request.filter or dashboards.DashboardFilter()
        flt = replace(flt, organisation_id=access.dashboard_scope(actor, flt.organisation_id),
                      bureau_district_id=access.oversees_district(actor))
        document, rows, scope = _dashboard(flt)
        detail.update(_filter_detail(flt))
        names = _dashboard_names(flt, scope)
    else:
        event = _exportable_event(actor, request.event_id)
        if what == What.REPORT:
            document = report_document(reports.event_report(event.id))
            rows = len(document.table("sessions").rows)  # type: ignore[arg-type]
        else:
            if not masked and len(purpose) < MIN_PURPOSE:
                raise ValidationFailed({"purpose": _(
                    "Say why you need the full numbers, in at least %(n)d characters.",
                    n=MIN_PURPOSE)})
            document, rows = registrants_document(event, masked=masked)
        names = _event_names(what, event)
    detail.update(masked=masked, purpose=purpose or None, rows=rows)
    audit.record("export", actor_id=actor.id, event_id=event.id if event else None, **detail)
    db.session.commit()
    filename, ascii_filename = names
    return ExportFile(filename=f"{filename}.{fmt.value}",
                      ascii_filename=f"{ascii_filename}.{fmt.value}",
                      mimetype=MIMETYPES[fmt], chunks=_render(what, fmt, document), rows=rows)


def _format(what: What, value: str) -> Format:
    try:
        fmt = Format(str(value).lower())
    except ValueError:
        fmt = None
    if fmt not in FORMATS[what]:
        raise NotFound(_("No such export format."))
    return fmt


def _exportable_event(actor: User, event_id: int | None) -> Event:
    """Exports are the back office's: the event's organiser or an admin. Door staff assigned
    to the event see it but take nothing away (403); anyone else gets the 404."""
    if event_id is None:
        raise NotFound(_("No such event."))
    event = access.visible_event(actor, event_id)
    if not access.may_unmask(actor, event):
        raise Forbidden(_("Only the event's organiser may export its data."))
    return event


def _dashboard(flt: dashboards.DashboardFilter) -> tuple[Document, int, str]:
    """The document, its rows, and whose figures they are (an organisation, a district, or
    the whole city), for the file's name."""
    board = dashboards.dashboard(flt)  # checks the filter first: unknown district, bad range
    district = db.session.get(District, board.filter.district_id) \
        if board.filter.district_id is not None else None
    organisation = db.session.get(Organisation, board.filter.organisation_id) \
        if board.filter.organisation_id is not None else None
    document = dashboard_document(board, district=district.name if district else "",
                                  organisation=organisation.name if organisation else "")
    bureau = db.session.get(District, flt.bureau_district_id) \
        if flt.bureau_district_id is not None else None
    scope = (organisation.name if organisation else district.name if district
             else bureau.name if bureau else _("whole city"))
    return document, len(board.by_district) + len(board.by_organisation), scope


def _filter_detail(flt: dashboards.DashboardFilter) -> dict[str, object]:
    return {
        "from": flt.date_from.isoformat() if flt.date_from else None,
        "to": flt.date_to.isoformat() if flt.date_to else None,
        "kind": str(flt.kind) if flt.kind else None,
        "district_id": flt.district_id,
        "organisation_id": flt.organisation_id,
    }


def _safe(name: str) -> str:
    return _UNSAFE.sub(" ", name).strip()[:100] or "export"


def _event_names(what: What, event: Event) -> tuple[str, str]:
    if what == What.REPORT:
        title = _("%(title)s attendance report", title=event.title)
    else:
        title = _("%(title)s registrants", title=event.title)
    return _safe(title), f"event-{event.id}-{what.value}"


def _dashboard_names(flt: dashboards.DashboardFilter, scope: str) -> tuple[str, str]:
    """质量月数据看板 普陀区 2026-09-01至2026-09-30: whose figures, over which days; without
    dates, the day they were taken (the figures of a running campaign change)."""
    start, end = flt.date_from, flt.date_to
    if start and end:
        span, ascii_span = _("%(start)s to %(end)s", start=start.isoformat(),
                             end=end.isoformat()), f"{start}-{end}"
    elif start:
        span, ascii_span = _("from %(start)s", start=start.isoformat()), f"from-{start}"
    elif end:
        span, ascii_span = _("until %(end)s", end=end.isoformat()), f"until-{end}"
    else:
        today = to_local(utcnow()).date()
        span, ascii_span = _("as of %(day)s", day=today.isoformat()), f"as-of-{today}"
    return (_safe(f"{_('Quality Month dashboard')} {scope} {span}"),
            f"dashboard-{ascii_span}")


def _render(what: What, fmt: Format, document: Document) -> Iterator[bytes]:
    """The body, lazily: CSV rows stream from the database as the response is read; the
    workbook is written to a temporary file first (a zip needs its end), the PDF in memory."""
    if fmt == Format.CSV:
        if what == What.REGISTRANTS:
            return table_csv(document.table("registrants"))
        return document_csv(document)
    if fmt == Format.XLSX:
        return stream_file(write_workbook(document))
    return iter([document_pdf(document)])
