"""What citizens see: the list of events, one event with its sessions, the privacy notice."""
from __future__ import annotations

from flask import current_app, render_template, request, send_from_directory
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import links
from ..errors import render_error
from ..filters import localtime
from ..models import EventStatus
from ..paging import Pager, page_count, page_number
from ..services import listings, tours
from ..services.errors import NotFound
from ..services.registrations import series
from .blueprint import bp
from .forms import EventFilterForm
from .pagecache import cached_page, shows

# A page number beyond this is a typing mistake (and a huge OFFSET upsets the database).


@bp.route("/")
@cached_page("district", "kind", "page", "lang", "text")
def index():
    """Published events with a session still to come, soonest first, filtered from the query."""
    form = EventFilterForm(
        formdata=request.args, districts=listings.districts(), locale=str(get_locale())
    )
    form.validate()
    flt = form.listing_filter()
    form.add_errors(flt.errors())
    if any(f.errors for f in form):
        return render_template("public/index.html", form=form, listings=None, pager=None), 400

    per_page = max(int(current_app.config["EVENTS_PER_PAGE"]), 1)
    page = page_number()
    listed, total = listings.list_public_events(flt, limit=per_page, offset=(page - 1) * per_page)
    last_page = page_count(total, per_page)
    if page > last_page:  # an old link past the end shows the last page, not an empty one
        page = last_page
        listed, total = listings.list_public_events(
            flt, limit=per_page, offset=(page - 1) * per_page
        )
    shows([item.event.id for item in listed], listing=True)
    return render_template(
        "public/index.html", form=form, listings=listed, total=total,
        pager=Pager(page=page, pages=last_page),
        share_url=links.share_url("public.index"),
        share_image=links.share_url("static", filename="img/share.png"),
    )


@bp.route("/events/<int:event_id>")
@cached_page("lang", "text")
def event(event_id: int):
    """One event for citizens; a draft only for the organisers who may preview it."""
    viewer = current_user if current_user.is_authenticated else None
    try:
        found = listings.public_event(event_id, viewer=viewer)
    except NotFound:
        return render_error(404, _("This event does not exist or is no longer shown."))
    sessions = listings.upcoming_sessions(found)
    shows([found.id])
    return render_template(
        "public/event.html", event=found, sessions=sessions,
        cancelled=found.status == EventStatus.CANCELLED,
        draft=found.status == EventStatus.DRAFT,
        share=_share_line(found, sessions),
        share_url=links.share_url("public.event", event_id=found.id),
        share_image=links.share_url("static", filename="img/share.png"),
        tour_stations=tours.stations,
        series_open=series.open_sessions(found) if series.offered(found) else [],
    )


SHARE_TEXT = 60  # characters of the description on a shared link's card


def _share_line(event, sessions) -> str:
    """What a shared link's card says under the title: when (the next session, and how many
    more), where, then the start of the description."""
    parts = []
    if event.status == EventStatus.CANCELLED:
        parts.append(_("Cancelled"))
    elif sessions:
        when = localtime(sessions[0].starts_at, "medium")
        if len(sessions) > 1:
            when = _("%(when)s and %(n)d more sessions", when=when, n=len(sessions) - 1)
        parts.append(when)
    parts.append(f"{event.district.label(str(get_locale()))} · {event.venue}")
    text = " ".join(event.description.split())
    if text:
        parts.append(text if len(text) <= SHARE_TEXT else text[:SHARE_TEXT - 1] + "…")
    return " · ".join(parts)


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico by themselves: our mark, cached for a week."""
    return send_from_directory(current_app.static_folder, "img/favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)


@bp.route("/privacy")
def privacy():
    days = int(current_app.config.get("PERSONAL_DATA_DAYS", 30))
    contact = current_app.config.get("PRIVACY_CONTACT")
    return render_template("public/privacy.html", days=days, contact=contact)
