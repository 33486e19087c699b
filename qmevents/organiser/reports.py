"""The event report and the dashboards: what happened, in figures and charts. The figures come from
services.reporting.reports (SQL aggregates); these views only decide who sees what and read the
filter.

Who sees what: an event's report, whoever may see the event (its organisation, admins, and the
door staff assigned to it: figures only, no personal data; the survey's comments only for the
event's organisers, services.access.may_read_comments); the dashboard, organisers (their own
organisation, whatever the query says) and admins (everything, by district and organisation too).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from flask import abort, render_template, request
from flask_babel import format_date, get_locale
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from .. import labels
from ..models import EventKind
from ..services import access, listings
from ..services.errors import NotFound, ValidationFailed
from ..services.registrations import series
from ..services.reporting import dashboards, days, offline, reports, satisfaction
from ..timeutil import to_local
from .blueprint import bp, organisation_choices, visible_event
from .filters import ARG_OF, FILTER_ARGS, allowed_args, scoped_filter

REFRESH_SECONDS = 60  # while a session is under way, the report reloads itself (no script)


@bp.route("/events/<int:event_id>/report", endpoint="report")
@login_required
def event_report(event_id: int):
    event = visible_event(event_id)
    report = reports.event_report(event.id)
    return render_template(
        "organiser/report.html", event=event, report=report, export_scope="report",
        arrival_days=arrival_days(report.arrivals),
        checkpoint_points=[Point(c.name, c.people) for c in report.checkpoints],
        tally_points=[Point(t.name, t.count) for t in report.tallies],
        refresh_seconds=REFRESH_SECONDS if report.live else None,
        comments=(satisfaction.comments(event.id)
                  if access.may_read_comments(current_user, event) else None),
        offline=offline.offline_scans(event.id),
        series_passes=len(series.passes_of_event(event.id)) if event.series_pass else 0,
    )


@dataclass
class Point:
    """One column or bar of a chart (templates/_charts.html); `tick` is its axis label."""

    label: str
    value: int
    tick: str = ""
    line: int | None = None  # a second figure drawn as a line over the columns (people inside)


@dataclass
class DayChart:
    """One day of the arrival curve (services.reporting.reports.arrival_days) as chart points."""

    day: date
    bins: list[reports.ArrivalBin]
    people: int

    @property
    def points(self) -> list[Point]:
        """Quarter hours labelled by their start; on the axis whole hours, at most about six."""
        every = max(1, math.ceil(len(self.bins) / 4 / 6))
        points = []
        for b in self.bins:
            local = to_local(b.starts_at)
            label = local.strftime("%H:%M")
            on_axis = local.minute == 0 and local.hour % every == 0
            points.append(Point(label, b.people, label if on_axis else "", b.inside))
        if points and not any(p.tick for p in points):
            points[0].tick = points[0].label
        return points


def arrival_days(bins: list[reports.ArrivalBin]) -> list[DayChart]:
    return [DayChart(d.day, d.bins, d.people) for d in days.arrival_days(bins)]


# --- the dashboard --------------------------------------------------------------------------


@bp.route("/dashboard", endpoint="dashboard")
@login_required
def dashboard_page():
    is_admin = access.sees_whole_city(current_user)
    typed = MultiDict({k: request.args.get(k, "").strip() for k in FILTER_ARGS})
    flt, errors = scoped_filter(typed)
    board = None
    if not errors:
        try:
            board = dashboards.dashboard(flt)
        except ValidationFailed as exc:
            errors = {ARG_OF.get(k, k): v for k, v in exc.errors.items()}
        except NotFound:
            abort(404)
    return render_template(
        "organiser/dashboard.html", board=board, errors=errors, typed=typed, is_admin=is_admin,
        chart_points=_dashboard_charts(board) if board else {},
        kinds=list(EventKind), districts=listings.districts(),
        organisations=organisation_choices() or [],
        export_scope="dashboard",
        filter_args={k: v for k, v in typed.items() if v and k in allowed_args(is_admin)},
    ), 400 if errors else 200


def _dashboard_charts(board: dashboards.Dashboard) -> dict[str, list[Point]]:
    zh = str(get_locale() or "zh_CN").startswith("zh")
    every = max(1, math.ceil(len(board.by_day) / 7))
    return {
        "districts": [Point(d.name if zh else d.name_en, d.figures.people)
                      for d in board.by_district],
        "organisations": [Point(o.name, o.figures.people) for o in board.by_organisation],
        "kinds": [Point(str(labels.KIND[k]), n) for k, n in board.by_kind],
        "tallies": [Point(t.name, t.count) for t in board.tallies],
        "days": [Point(d.day.isoformat(), d.people,
                       format_date(d.day, "M月d日" if zh else "d MMM") if i % every == 0 else "")
                 for i, d in enumerate(board.by_day)],
    }
