"""Who registered for an event, session by session, with masked phones and ID numbers. Door staff
assigned to the event may look too. Reports and exports come with issue 6."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template, request, url_for
from flask_login import login_required

from ..models import Session
from ..services import registrants as registrant_rules
from ..services.errors import ValidationFailed
from .forms import RegistrantFilterForm
from .views import _visible_event, bp

MAX_PAGE = 10_000  # beyond is a typing mistake, and a huge OFFSET upsets the database


@dataclass
class Pager:
    event_id: int
    page: int
    pages: int

    def url(self, page: int) -> str:
        """The same filters on another page."""
        args = {k: v for k, v in request.args.items() if k not in ("page", "lang")}
        if page > 1:
            args["page"] = page
        return url_for(".registrants", event_id=self.event_id, **args)


@bp.route("/events/<int:event_id>/registrants")
@login_required
def registrants(event_id: int):
    event = _visible_event(event_id)
    form = RegistrantFilterForm(formdata=request.args, event=event)
    per_page = max(int(current_app.config.get("REGISTRANTS_PER_PAGE", 50)), 1)
    page = _page_number(request.args.get("page"))

    def fetch(page: int) -> registrant_rules.RegistrantPage:
        return registrant_rules.registrants(
            event.id, session_id=form.session_id(), status=(form.status.data or "").strip(),
            search=form.search.data, limit=per_page, offset=(page - 1) * per_page,
        )

    try:
        found = fetch(page)
    except ValidationFailed as exc:
        form.add_errors(exc.errors)
        return render_template("organiser/registrants.html", event=event, form=form,
                               found=None, pager=None, groups=[]), 400
    pages = max((found.matching + per_page - 1) // per_page, 1)
    if page > pages:  # an old link past the end shows the last page, not an empty one
        page = pages
        found = fetch(page)
    return render_template(
        "organiser/registrants.html", event=event, form=form, found=found,
        pager=Pager(event_id=event.id, page=page, pages=pages),
        groups=_by_session(found.rows, {s.id: s for s in event.sessions}),
    )


def _by_session(rows: list[registrant_rules.RegistrantRow],
                sessions: dict[int, Session]) -> list[tuple[Session, list]]:
    """The page's rows under their session, keeping the service's order (sessions by time)."""
    groups: list[tuple[Session, list]] = []
    for row in rows:
        if not groups or groups[-1][0].id != row.session_id:
            groups.append((sessions[row.session_id], []))
        groups[-1][1].append(row)
    return groups


def _page_number(raw: str | None) -> int:
    try:
        page = int(raw or 1)
    except ValueError:
        return 1
    return page if 1 <= page <= MAX_PAGE else 1
