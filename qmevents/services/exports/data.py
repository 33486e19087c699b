"""What an export holds, whatever its format: a Document of key figures, tables and charts, built
from services.reporting.reports' dataclasses or streamed from the registrations. Each format
(csv.py, xlsx.py, pdf.py) renders a Document; none of them knows the domain.

Headers and labels are translated here, once, while building; the rows of the registrant list
come from one Core SELECT read in batches (never 100,000 ORM objects), answers merged in order.
"""
from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import DateTime, String, func, select, type_coerce

from ... import labels
from ...extensions import db
from ...models import Answer, Event, EventSession, Question, QuestionKind, Registration
from ...timeutil import SHANGHAI, to_local
from ..identity import mask_id_number, mask_mobile
from ..registrations import registrants as registrant_rules
from ..registrations import series
from ..reporting import offline
from ..reporting.dashboards import Dashboard, DashboardLine
from ..reporting.days import arrival_days
from ..reporting.reports import Attendance, EventReport

SHANGHAI_OFFSET = timedelta(hours=8)
STREAM_BATCH = 5000  # rows fetched per round trip while streaming registrants (about 2 MB)


class Kind(enum.StrEnum):
    """How a column's values are written: text, a whole number, a share, an instant or a day."""

    TEXT = "text"
    INT = "int"
    SHARE = "share"  # 0.125 shown as 12.5%; None when there is nothing to divide by
    DATETIME = "datetime"  # aware UTC, shown in Shanghai time
    # Already Shanghai wall-clock time, naive: what a 100,000-row stream gives, converted by a
    # fixed +8 hours (no daylight saving in China since 1991) instead of a zone lookup per row.
    WALL_TIME = "wall_time"
    DATE = "date"


@dataclass
class Column:
    label: str
    kind: Kind = Kind.TEXT


@dataclass
class Table:
    """One block of rows: a section of the CSV, a sheet of the workbook, a table of the PDF.
    `rows` may be a generator that is read once."""

    name: str  # short: a sheet's name
    title: str
    columns: list[Column]
    rows: Iterable[Sequence]
    in_pdf: bool = True  # long lists (every quarter hour, every registrant) stay out of the PDF


@dataclass
class Chart:
    """A bar chart of one column of a table against its first column."""

    title: str
    table: str  # Table.name
    value_column: int
    horizontal: bool = False  # long category names (districts, organisations) read better across
    rows: tuple[int, int] | None = None  # a stretch of the table's rows [start, stop); None: all


@dataclass
class Document:
    title: str
    summary: list[tuple[str, object]]  # key figures: (label, value); value typed like a cell
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


# --- figures shared by the report and the dashboard -------------------------------------------


@dataclass(frozen=True)
class Share:
    """A share in a summary (a plain float would read as a number)."""

    value: float | None


def _attendance_summary(figures: Attendance) -> list[tuple[str, object]]:
    return [
        (_("Registered parties"), figures.registered_parties),
        (_("Registered people"), figures.registered_people),
        (_("Admitted parties"), figures.admitted_parties),
        (_("Admitted people"), figures.admitted_people),
        (_("No-show people"), figures.no_show_people),
        (_("No-show rate"), Share(figures.no_show_rate)),
        (_("Walk-in groups"), figures.walk_in_groups),
        (_("Walk-in people"), figures.walk_in_people),
        (_("Families"), figures.families),
        (_("People who came"), figures.people),
    ]


def _attendance_columns() -> list[Column]:
    return [Column(_("Registered parties"), Kind.INT), Column(_("Registered people"), Kind.INT),
            Column(_("Admitted parties"), Kind.INT), Column(_("Admitted people"), Kind.INT),
            Column(_("No-show people"), Kind.INT), Column(_("No-show rate"), Kind.SHARE),
            Column(_("Walk-in groups"), Kind.INT), Column(_("Walk-in people"), Kind.INT),
            Column(_("Families"), Kind.INT), Column(_("People who came"), Kind.INT)]


def _attendance_cells(f: Attendance) -> tuple:
    return (f.registered_parties, f.registered_people, f.admitted_parties, f.admitted_people,
            f.no_show_people, f.no_show_rate, f.walk_in_groups, f.walk_in_people, f.families,
            f.people)


PEOPLE_CELL = 9  # "People who came" in _attendance_cells


# --- the event report -------------------------------------------------------------------------


def report_document(report: EventReport) -> Document:
    summary: list[tuple[str, object]] = [
        (_("Event"), report.title),
        (_("Kind"), str(labels.KIND[report.kind])),
        (_("District"), report.district),
        (_("Organiser"), report.organisation),
        (_("Host"), report.host),
        (_("Venue"), report.venue),
        (_("Starts"), report.starts_at),
        (_("Ends"), report.ends_at),
        (_("Figures"), _figures_state(report)),
        (_("Generated at"), report.generated_at),
        *_attendance_summary(report.totals),
        (_("Survey answers"), report.satisfaction.answers),
        (_("Average stars (out of 5)"), report.satisfaction.average),
        (_("Would come again"), Share(report.satisfaction.come_again_share)),
        *_offline_summary(report.event_id),
    ]
    sessions = Table("sessions", _("Sessions"), [
        Column(_("Starts"), Kind.DATETIME), Column(_("Ends"), Kind.DATETIME),
        Column(_("Session")), Column(_("Capacity"), Kind.INT), *_attendance_columns(),
    ], [(s.starts_at, s.ends_at, s.label, s.capacity, *_attendance_cells(s.figures))
        for s in report.sessions])
    checkpoints = Table("checkpoints", _("Checkpoints"), [
        Column(_("Position"), Kind.INT), Column(_("Checkpoint")),
        Column(_("Parties"), Kind.INT), Column(_("People"), Kind.INT),
    ], [(c.position + 1, c.name, c.parties, c.people) for c in report.checkpoints])  # from 1
    tallies = Table("tallies", _("Services counted"), [
        Column(_("Service")), Column(_("Count"), Kind.INT),
    ], [(t.name, t.count) for t in report.tallies])
    # Each day from its first arrival to its last: no night of empty quarters, one chart a day.
    days = arrival_days(report.arrivals)
    arrivals = Table("arrivals", _("Arrivals per 15 minutes"), [
        Column(_("Quarter hour from"), Kind.DATETIME), Column(_("People"), Kind.INT),
        Column(_("People inside"), Kind.INT),
    ], [(a.starts_at, a.people, a.inside) for day in days for a in day.bins], in_pdf=False)
    charts, start = [], 0
    for day in days:
        title = _("Arrivals per 15 minutes")
        if len(days) > 1:
            title = f"{title} · {TEXT_OF[Kind.DATE](day.day)}"
        charts.append(Chart(title, "arrivals", 1, rows=(start, start + len(day.bins))))
        start += len(day.bins)
    return Document(
        title=_("Attendance report: %(title)s", title=report.title),
        summary=summary,
        tables=[sessions, checkpoints, tallies, arrivals],
        charts=charts,
    )


def _offline_summary(event_id: int) -> list[tuple[str, object]]:
    """Scans door devices decided offline, and the conflicts of their sync, once there are any
    (services/reporting/offline.py; the report page lists each conflict)."""
    scans = offline.offline_scans(event_id)
    if not scans.offline:
        return []
    return [(_("Offline scans"), scans.offline), (_("Offline scan conflicts"), scans.conflicts)]


def _figures_state(report: EventReport) -> str:
    if report.cancelled:
        return _("the event was cancelled: what happened before")
    if report.final:
        return _("final")
    return _("live: the event is not over yet")


# --- the dashboard ----------------------------------------------------------------------------


def dashboard_document(board: Dashboard, *, district: str = "", organisation: str = "") -> Document:
    flt = board.filter
    everything = _("all")
    summary: list[tuple[str, object]] = [
        (_("First day"), flt.date_from or everything),
        (_("Last day"), flt.date_to or everything),
        (_("Kind"), str(labels.KIND[flt.kind]) if flt.kind else everything),
        (_("District"), district or everything),
        (_("Organisation"), organisation or everything),
        (_("Events"), board.totals.events),
        (_("Sessions"), board.totals.sessions),
        *_attendance_summary(board.totals.figures),
        (_("Services counted"), board.totals.tallies),
    ]

    def lines(name: str, title: str, head: str, rows: list[DashboardLine]) -> Table:
        return Table(name, title, [
            Column(head), Column(_("Events"), Kind.INT), Column(_("Sessions"), Kind.INT),
            *_attendance_columns(), Column(_("Services counted"), Kind.INT),
        ], [(line.name, line.events, line.sessions, *_attendance_cells(line.figures),
             line.tallies) for line in rows])

    tables = [
        lines("districts", _("By district"), _("District"), board.by_district),
        lines("organisations", _("By organisation"), _("Organisation"), board.by_organisation),
        Table("kinds", _("Events by kind"), [Column(_("Kind")), Column(_("Events"), Kind.INT)],
              [(str(labels.KIND[kind]), n) for kind, n in board.by_kind]),
        Table("tallies", _("Services counted"), [Column(_("Service")),
                                                 Column(_("Count"), Kind.INT)],
              [(t.name, t.count) for t in board.tallies]),
        Table("days", _("People per day"), [Column(_("Day"), Kind.DATE),
                                            Column(_("People"), Kind.INT)],
              [(d.day, d.people) for d in board.by_day]),
    ]
    people = 3 + PEOPLE_CELL  # after name, events, sessions
    charts = []
    if board.by_district:
        charts.append(Chart(_("People who came, by district"), "districts", people,
                            horizontal=True))
    if board.by_day:
        charts.append(Chart(_("People per day"), "days", 1))
    return Document(title=_("Quality Month dashboard"), summary=summary, tables=tables,
                    charts=charts)


# --- the registrant list ----------------------------------------------------------------------


def registrants_document(event: Event, *, masked: bool) -> tuple[Document, int]:
    """The list of everyone who registered, one row per registration, and how many rows."""
    counts = registrant_rules.status_totals(event.id)
    rows = sum(c.registrations for c in counts)
    questions = list(db.session.scalars(
        select(Question).where(Question.event_id == event.id).order_by(Question.position)))
    sessions = {s.id: _session_label(s) for s in event.sessions}
    passes = series.passes_of_event(event.id)
    columns = [
        Column(_("Session")), Column(_("Name")), Column(_("Phone")),
        Column(_("People"), Kind.INT), Column(_("Status")),
        Column(_("Registered at"), Kind.WALL_TIME), Column(_("Admitted people"), Kind.INT),
        *([Column(_("Series pass"))] if passes else []),
        *(Column(q.label) for q in questions),
    ]
    summary: list[tuple[str, object]] = [
        (_("Event"), event.title),
        (_("Organiser"), event.organisation.name),
        (_("Registrations"), rows),
        (_("Phone and ID numbers"), _("masked") if masked else _("shown in full")),
    ]
    totals = Table("statuses", _("By status"), [
        Column(_("Status")), Column(_("Registrations"), Kind.INT), Column(_("People"), Kind.INT),
    ], [(str(labels.REGISTRATION_STATUS[c.status]), c.registrations, c.people) for c in counts])
    rows_of = registrant_rows(event.id, sessions, questions, masked=masked, passes=passes)
    listing = Table("registrants", _("Registrants"), columns, rows_of, in_pdf=False)
    charts = [Chart(_("People by status"), "statuses", 2, horizontal=True)] if counts else []
    document = Document(title=_("Registrants: %(title)s", title=event.title), summary=summary,
                        tables=[totals, listing], charts=charts)
    return document, rows


def _session_label(session: EventSession) -> str:
    local = to_local(session.starts_at)
    return f"{local:%Y-%m-%d %H:%M} {session.label}".strip()


def registrant_query(event_id: int):
    """Registrations of an event with their answers (one row per answer, or one without), in
    the order of the back office's list: by session in time order, then as they registered."""
    return (
        select(Registration.id, Registration.session_id, Registration.name, Registration.phone,
               # the status as its stored string: no enum lookup per row (labels are keyed by it)
               Registration.party_size, type_coerce(Registration.status, String),
               type_coerce(Registration.created_at, DateTime()),  # naive UTC, see WALL_TIME
               Registration.admitted_people, Answer.question_id, Answer.value,
               func.coalesce(Registration.pass_id, Registration.id))  # a series pass's id
        .join(EventSession, EventSession.id == Registration.session_id)
        .outerjoin(Answer, Answer.registration_id == Registration.id)
        .where(Registration.event_id == event_id)
        .order_by(EventSession.starts_at, EventSession.id, Registration.created_at, Registration.id)
    )


def _answer_shown(question: Question, masked: bool) -> Callable[[str], str]:
    if question.kind == QuestionKind.ID_CARD and masked:
        return mask_id_number
    if question.kind == QuestionKind.MULTIPLE:
        return lambda value: "; ".join(value.splitlines())
    return str


def registrant_rows(event_id: int, sessions: dict[int, str], questions: list[Question], *,
                    masked: bool, passes: dict[int, int] | None = None) -> Iterator[tuple]:
    """One tuple per registration, streamed when read: a server-side cursor on PostgreSQL,
    batches of STREAM_BATCH rows everywhere. Labels and maskers are looked up here, once, so
    reading needs nothing but the cursor (the audit entry commits in between)."""
    answer_columns = {q.id: (i, _answer_shown(q, masked)) for i, q in enumerate(questions)}
    status_label = {status: str(label) for status, label in labels.REGISTRATION_STATUS.items()}
    phone_shown = mask_mobile if masked else (lambda phone: phone or "")
    blank = ("",) * len(questions)
    # A pass's rows say so (系列通票：共 3 场): one family at each session, not as many families.
    pass_of = {k: (_("Series pass: %(n)d sessions", n=n),) for k, n in (passes or {}).items()}
    of_pass = (lambda key: pass_of.get(key, ("",))) if passes else (lambda key: ())

    def read() -> Iterator[tuple]:
        result = db.session.connection().execute(
            registrant_query(event_id), execution_options={"yield_per": STREAM_BATCH})
        try:
            for _id, group in itertools.groupby(result, key=lambda r: r[0]):
                first = next(group)
                answers = list(blank)
                for row in itertools.chain((first,), group):
                    column = answer_columns.get(row[8])
                    if column is not None:
                        answers[column[0]] = column[1](row[9])
                registered = first[6] + SHANGHAI_OFFSET if first[6] is not None else None
                yield (sessions.get(first[1], ""), first[2], phone_shown(first[3]), first[4],
                       status_label[first[5]], registered, first[7], *of_pass(first[10]), *answers)
        finally:
            result.close()

    return read()


# --- cells as text (CSV and PDF) -------------------------------------------------------------


def _plain(value: object) -> str:
    return "" if value is None else str(value)


def _share(value: object) -> str:
    return "" if value is None else f"{value:.1%}"


def _instant(value: object) -> str:
    if value is None:
        return ""
    t = value.astimezone(SHANGHAI)  # type: ignore[union-attr]
    return "%04d-%02d-%02d %02d:%02d" % (t.year, t.month, t.day, t.hour, t.minute)  # noqa: UP031 (twice as quick as strftime, 100,000 times)


def _wall(value: object) -> str:
    if value is None:
        return ""
    t = value
    return "%04d-%02d-%02d %02d:%02d" % (t.year, t.month, t.day, t.hour, t.minute)  # noqa: UP031


def _day(value: object) -> str:
    return "" if value is None else f"{value:%Y-%m-%d}"


TEXT_OF: dict[Kind, Callable[[object], str]] = {
    Kind.TEXT: _plain, Kind.INT: _plain, Kind.SHARE: _share, Kind.DATETIME: _instant,
    Kind.WALL_TIME: _wall, Kind.DATE: _day,
}


def kind_of(value: object) -> Kind:
    """The kind of a key figure in a summary, whose values are of mixed types."""
    if isinstance(value, Share):
        return Kind.SHARE
    if isinstance(value, datetime):
        return Kind.DATETIME
    if isinstance(value, date):
        return Kind.DATE
    return Kind.INT if isinstance(value, int) else Kind.TEXT


def summary_text(value: object) -> str:
    """A key figure written the way a column of its kind is."""
    return TEXT_OF[kind_of(value)](value.value if isinstance(value, Share) else value)


def local_naive(value: datetime) -> datetime:
    """Shanghai wall-clock time without its zone: what a spreadsheet cell can hold."""
    return to_local(value).replace(tzinfo=None)
